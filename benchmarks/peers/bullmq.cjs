// BullMQ's driver: the command line, payloads and records of benchmarks/peers/probe.py, in Node.
//   node bullmq.cjs enqueue --url URL --n N --mode single|batch|load [--pad B] [--due-at T | --due-in S] [--spread S]
//   node bullmq.cjs work --url URL --config default|tuned --procs 1 --out DIR
// Queue.add (delayed: opts.delay), Queue.addBulk in batches of 1,000; one Worker per process.
// `default` is new Worker(queue, processor, {connection}) as it comes (concurrency 1);
// `tuned` is TUNED. bullmq is loaded from $BENCH_NODE_DIR (an npm install in the cache).
'use strict';

const fs = require('fs');
const path = require('path');

const { Queue, Worker } = require(require.resolve('bullmq', { paths: [process.env.BENCH_NODE_DIR] }));

const QUEUE = 'bench';
const BATCH = 1000;
const TUNED = { concurrency: 50 };

function parseArgs(argv) {
  const args = { command: argv[0], mode: 'single', pad: 0, dueAt: 0, dueIn: 0, spread: 0, config: 'default' };
  for (let k = 1; k < argv.length; k += 2) {
    const name = argv[k].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    args[name] = argv[k + 1];
  }
  for (const key of ['n', 'pad', 'dueAt', 'dueIn', 'spread', 'procs']) {
    if (args[key] !== undefined) args[key] = Number(args[key]);
  }
  return args;
}

function connection(url) {
  const u = new URL(url);
  const db = Number(u.pathname.replace('/', '') || 0);
  return { host: u.hostname, port: Number(u.port), db, maxRetriesPerRequest: null };
}

function makeJobs(n, firstDue, spread, pad) {
  const filler = 'x'.repeat(pad);
  const jobs = [];
  const startMs = Math.ceil(firstDue * 1000);
  for (let i = 0; i < n; i++) {
    const due = firstDue === 0 ? 0 : (startMs + Math.round((spread * 1000 * i) / n)) / 1000;
    jobs.push({ i, due, pad: filler });
  }
  return jobs;
}

function opts(payload) {
  return payload.due ? { delay: Math.max(0, Math.round(payload.due * 1000 - Date.now())) } : {};
}

async function enqueue(args) {
  const queue = new Queue(QUEUE, { connection: connection(args.url) });
  await queue.waitUntilReady();
  const firstDue = args.dueIn ? Date.now() / 1000 + args.dueIn : args.dueAt;
  const jobs = makeJobs(args.n, firstDue, args.spread, args.pad);
  const t0 = process.hrtime.bigint();
  if (args.mode === 'single') {
    for (const payload of jobs) await queue.add('noop', payload, opts(payload));
  } else {
    for (let k = 0; k < jobs.length; k += BATCH) {
      const part = jobs.slice(k, k + BATCH);
      await queue.addBulk(part.map((payload) => ({ name: 'noop', data: payload, opts: opts(payload) })));
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const first = jobs.length ? jobs[0].due : 0;
  console.log(JSON.stringify({ n: args.n, seconds, first_due: first, finished_at: Date.now() / 1000 }));
  await queue.close();
}

async function work(args) {
  fs.mkdirSync(args.out, { recursive: true });
  const fd = fs.openSync(path.join(args.out, `runs.${process.pid}`), 'a');
  const processor = async (job) => {
    const start = (performance.timeOrigin + performance.now()) / 1000;
    const p = job.data;
    fs.writeSync(fd, `${p.i} ${p.due} ${start.toFixed(6)}\n`);
  };
  const settings = args.config === 'tuned' ? TUNED : {};
  const worker = new Worker(QUEUE, processor, { connection: connection(args.url), ...settings });
  await worker.waitUntilReady();
  fs.closeSync(fs.openSync(path.join(args.out, `ready.${process.pid}`), 'w'));
  process.on('SIGTERM', () => {
    worker.close().finally(() => process.exit(0));
  });
}

const args = parseArgs(process.argv.slice(2));
(args.command === 'enqueue' ? enqueue(args) : work(args)).catch((err) => {
  console.error(err);
  process.exit(1);
});
