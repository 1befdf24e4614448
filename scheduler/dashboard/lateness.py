"""Lateness percentiles, from the ``duetime_task_lateness_seconds`` histograms workers serve."""

from __future__ import annotations

import math
import urllib.request
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

FAMILY = "duetime_task_lateness_seconds"
QUANTILES = (0.5, 0.9, 0.99)


@dataclass(frozen=True)
class Lateness:
    """Runs counted, and the estimated quantiles (seconds) of their lateness."""

    count: int
    quantiles: dict[float, float]
    unreachable: list[str]


def buckets_of(text: str, namespace: str) -> dict[float, float]:
    """Cumulative bucket counts (upper bound -> runs) of one namespace, all task types."""
    out: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != FAMILY:
            continue
        for sample in family.samples:
            if sample.name == FAMILY + "_bucket" and sample.labels.get("namespace") == namespace:
                le = float(sample.labels["le"])
                out[le] = out.get(le, 0.0) + sample.value
    return out


def quantile(q: float, buckets: dict[float, float]) -> float:
    """Prometheus's ``histogram_quantile``: linear within the bucket the rank falls in."""
    bounds = sorted(buckets)
    total = buckets[math.inf]
    rank = q * total
    lower, below = 0.0, 0.0
    for upper in bounds:
        count = buckets[upper]
        if count >= rank:
            if math.isinf(upper):
                return lower  # past the last finite bucket: its bound is all one can say
            inside = count - below
            return lower + (upper - lower) * ((rank - below) / inside if inside else 0.0)
        lower, below = upper, count
    return lower


def lateness(urls: list[str], namespace: str, timeout_s: float = 2.0) -> Lateness:
    """Read every URL's histogram for ``namespace``, add them up, estimate the quantiles."""
    total: dict[float, float] = {}
    unreachable: list[str] = []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as reply:
                text = reply.read().decode()
        except OSError:
            unreachable.append(url)
            continue
        for le, n in buckets_of(text, namespace).items():
            total[le] = total.get(le, 0.0) + n
    count = int(total.get(math.inf, 0))
    quantiles = {q: quantile(q, total) for q in QUANTILES} if count else {}
    return Lateness(count, quantiles, unreachable)
