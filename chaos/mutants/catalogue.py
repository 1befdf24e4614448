"""The catalogue: realistic bugs, each a small patch, and the run that must catch it.

A patch names a file, an exact text and its replacement; applying one whose text is
not found exactly once fails loudly, so an entry can never silently become a no-op
when the code it breaks changes. A variant (``run_args``) changes how the run is
started instead, as the deliberately broken worker does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# What a run that catches a bug may show besides a failing or undecided checker.
CRASHED = "run crashed"
UNTESTED = "fault never injected"


class PatchDoesNotApply(RuntimeError):
    """A patch's old text is not in its file exactly once: the code it breaks changed."""


@dataclass(frozen=True)
class Patch:
    """Replace ``old`` by ``new`` in ``path`` (relative to the repository root)."""

    path: str
    old: str
    new: str

    def applied_to(self, text: str) -> str:
        """``text`` patched; raise :class:`PatchDoesNotApply` unless ``old`` occurs once."""
        found = text.count(self.old)
        if found != 1:
            raise PatchDoesNotApply(
                f"{self.path}: the text to replace occurs {found} times, not once: "
                f"{self.old.strip().splitlines()[0]!r}"
            )
        return text.replace(self.old, self.new)


@dataclass(frozen=True)
class Mutant:
    """A bug, and the quick run (scenario, seed) whose verdict must show it.

    ``catchers`` are the checkers (or :data:`CRASHED`, :data:`UNTESTED`) of which at
    least one must fail or be undecided: the run failing for another reason does not
    prove the catalogue's claim.
    """

    name: str
    bug: str
    scenario: str
    catchers: tuple[str, ...]
    patches: tuple[Patch, ...] = ()
    run_args: tuple[str, ...] = ()
    seed: int = 1

    def patched_files(self, root: Path) -> dict[str, str]:
        """The new text of each file the patches touch, read from ``root``; raises
        :class:`PatchDoesNotApply` if one does not apply (nothing is written)."""
        texts: dict[str, str] = {}
        for patch in self.patches:
            text = texts.get(patch.path)
            if text is None:
                text = (root / patch.path).read_text(encoding="utf-8")
            texts[patch.path] = patch.applied_to(text)
        return texts

    def apply(self, root: Path) -> None:
        """Apply every patch to the copy of the repository at ``root``."""
        for path, text in self.patched_files(root).items():
            (root / path).write_text(text, encoding="utf-8")


CATALOGUE: tuple[Mutant, ...] = (
    Mutant(
        name="ack_before_running",
        bug="The worker acknowledges a task when it claims it, before its handler runs "
        "(pop-then-run): a worker killed mid-task loses it.",
        scenario="kill_workers",
        catchers=("unexplained_loss", "lost"),
        run_args=("--worker-module", "duetime.chaos.client.broken_worker"),
    ),
    Mutant(
        name="claim_early",
        bug="claim.lua takes tasks due up to a second ahead (a poller rounding time up).",
        scenario="kill_workers",
        catchers=("early",),
        patches=(
            Patch(
                "scheduler/lua/claim.lua",
                "redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, room)",
                "redis.call('ZRANGEBYSCORE', due, '-inf', now + 1000, 'LIMIT', 0, room)",
            ),
        ),
    ),
    Mutant(
        name="retry_gives_up_early",
        bug="fail.lua compares the attempt with max_attempts off by one: a failing task is "
        "dead-lettered one attempt early.",
        scenario="kill_workers",
        catchers=("dead_letters",),
        patches=(
            Patch(
                "scheduler/lua/fail.lua",
                "if delay >= 0 and r.att < r.max then",
                "if delay >= 0 and r.att < r.max - 1 then",
            ),
        ),
    ),
    Mutant(
        name="no_lease_takeover",
        bug="claim.lua never takes over expired leases: a task whose worker died stays "
        "leased for ever.",
        scenario="kill_workers",
        catchers=("unexplained_loss", "lost"),
        patches=(
            Patch(
                "scheduler/lua/claim.lua",
                "local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now, "
                "'LIMIT', 0, limit)",
                "local expired = {}",
            ),
        ),
    ),
    Mutant(
        name="renew_does_not_extend",
        bug="renew.lua answers that the lease is held but does not push its expiry: a "
        "handler longer than the lease runs twice with no fault to explain it.",
        scenario="pause_worker",
        catchers=("duplicated",),
        patches=(
            Patch(
                "scheduler/lua/renew.lua",
                "    redis.call('ZADD', leases, until_ms, id)\n",
                "    -- the lease's expiry is left where the claim put it\n",
            ),
        ),
    ),
    Mutant(
        name="fence_ignores_token",
        bug="The fence checks that the task runs but not whose token it is: a worker whose "
        "lease was taken over still renews, acks or fails the task another worker runs.",
        scenario="stale_holder",
        catchers=("fenced",),
        patches=(
            Patch(
                "scheduler/lua/includes/fence.lua",
                "return r.st == 'R' and r.tok > 0 and r.tok == token",
                "return r.st == 'R'",
            ),
        ),
    ),
    Mutant(
        name="handler_errors_swallowed",
        bug="The worker's handler thread swallows exceptions and reports success: a failed "
        "task is acknowledged as done instead of retried.",
        scenario="kill_workers",
        catchers=("dead_letters",),
        patches=(
            Patch(
                "scheduler/worker.py",
                "            except BaseException as exc:\n                error = exc\n",
                "            except BaseException:\n                error = None\n",
            ),
        ),
    ),
    Mutant(
        name="attempt_not_counted",
        bug="claim.lua does not count the attempt it starts: max_attempts never bounds a "
        "task that keeps failing.",
        scenario="kill_workers",
        catchers=("dead_letters", "duplicated"),
        patches=(Patch("scheduler/lua/claim.lua", "  r.att = r.att + 1\n", ""),),
    ),
    Mutant(
        name="cron_next_from_clock",
        bug="The cron ticker computes the next slot from the clock, not from the slot it "
        "fired: after an outage shorter than the misfire grace it skips the slots it "
        "should catch up.",
        scenario="cron_schedulers",
        catchers=("cron",),
        patches=(
            Patch(
                "scheduler/cron.py",
                "            fire: int | None = slot\n"
                "            following = spec.next_after(slot)\n",
                "            fire: int | None = slot\n"
                "            following = spec.next_after(now)\n",
            ),
        ),
    ),
    Mutant(
        name="testbed_redis_fsync_hardcoded",
        bug="Testbed misconfiguration: the Redis config the testbed writes hard-codes "
        "appendfsync always, so an aof=everysec run would test a safer Redis than it names.",
        scenario="kill_workers",
        catchers=(CRASHED,),
        patches=(
            Patch(
                "chaos/system/redis_server.py",
                'lines += ["appendonly yes", f"appendfsync {self.aof}"]',
                'lines += ["appendonly yes", "appendfsync always"]',
            ),
        ),
    ),
    Mutant(
        name="testbed_nemesis_never_strikes",
        bug="Testbed misconfiguration: the worker nemeses look for workers under a role "
        "name that does not exist, so no fault is ever injected and the run tests nothing.",
        scenario="kill_workers",
        catchers=(UNTESTED,),
        patches=(
            Patch(
                "chaos/nemesis/targets.py",
                "alive = [n for n in ctx.cluster.names(WORKER_ROLE) if ctx.cluster.alive(n)]",
                'alive = [n for n in ctx.cluster.names("workers") if ctx.cluster.alive(n)]',
            ),
        ),
    ),
)


class UnknownMutant(ValueError):
    """A mutant name that is not in the catalogue."""


def select(names: str | None) -> list[Mutant]:
    """The mutants named in ``names`` (comma-separated), all when None, in catalogue order."""
    if not names:
        return list(CATALOGUE)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    known = {m.name for m in CATALOGUE}
    unknown = [n for n in wanted if n not in known]
    if unknown or not wanted:
        raise UnknownMutant(
            f"no mutant named {', '.join(unknown) or repr(names)} "
            f"(there are: {', '.join(m.name for m in CATALOGUE)})"
        )
    return [m for m in CATALOGUE if m.name in wanted]
