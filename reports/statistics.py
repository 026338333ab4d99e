"""Means with bootstrap intervals, and label shares.

Each estimate draws from its own generator seeded with `SEED`, so a figure does not change
with the order in which a report computes them. Above `BOOTSTRAP_LIMIT` values the bootstrap
distribution of a mean is replaced by its normal approximation (the two agree closely at that
size, and resampling a million scores two thousand times would take minutes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

SAMPLES = 1000
LEVEL = 0.95
SEED = 0
BOOTSTRAP_LIMIT = 5_000
_CELLS_PER_DRAW = 4_000_000  # resamples x values drawn at once: bounds memory to ~32 MB


@dataclass(frozen=True)
class Estimate:
    """A mean and its interval; `low`/`high` are None below two values, `mean` below one."""

    n: int
    mean: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return {"n": self.n, "mean": self.mean, "low": self.low, "high": self.high}


def _mean_draws(values: np.ndarray, rng: np.random.Generator, samples: int) -> np.ndarray:
    """`samples` draws from the sampling distribution of the mean of `values`."""
    n = len(values)
    if n > BOOTSTRAP_LIMIT:
        se = float(values.std(ddof=1)) / np.sqrt(n)
        return rng.normal(float(values.mean()), se, samples)
    per_block = max(1, _CELLS_PER_DRAW // n)
    blocks = []
    for start in range(0, samples, per_block):
        size = min(per_block, samples - start)
        blocks.append(values[rng.integers(0, n, size=(size, n))].mean(axis=1))
    return np.concatenate(blocks)


def _bounds(draws: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return float(low), float(high)


def mean_interval(
    values: Sequence[float] | np.ndarray, samples: int = SAMPLES, level: float = LEVEL
) -> Estimate:
    """The mean of `values` with its percentile-bootstrap interval."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return Estimate(0, None, None, None)
    mean = float(x.mean())
    if len(x) == 1:
        return Estimate(1, mean, None, None)
    if len(x) > BOOTSTRAP_LIMIT:
        half = NormalDist().inv_cdf(0.5 + level / 2) * float(x.std(ddof=1)) / np.sqrt(len(x))
        return Estimate(len(x), mean, mean - half, mean + half)
    low, high = _bounds(_mean_draws(x, np.random.default_rng(SEED), samples), level)
    # The percentile interval of a constant is that constant; keep float noise out of it.
    return Estimate(len(x), mean, min(low, mean), max(high, mean))


def difference_interval(
    before: Sequence[float] | np.ndarray,
    after: Sequence[float] | np.ndarray,
    samples: int = SAMPLES,
    level: float = LEVEL,
) -> Estimate:
    """mean(after) - mean(before), with the interval from resampling each side on its own.
    `n` is the smaller side's size."""
    a, b = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if len(a) == 0 or len(b) == 0:
        return Estimate(min(len(a), len(b)), None, None, None)
    change = float(b.mean() - a.mean())
    if len(a) < 2 or len(b) < 2:
        return Estimate(min(len(a), len(b)), change, None, None)
    rng = np.random.default_rng(SEED)
    draws = _mean_draws(b, rng, samples) - _mean_draws(a, rng, samples)
    low, high = _bounds(draws, level)
    return Estimate(min(len(a), len(b)), change, min(low, change), max(high, change))


def label_shares(labels: Iterable[str], order: Sequence[str]) -> dict[str, dict[str, float]]:
    """For each label in `order`: how many and what fraction of `labels` it is."""
    counts = dict.fromkeys(order, 0)
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    total = sum(counts.values())
    return {
        label: {"n": count, "share": count / total if total else 0.0}
        for label, count in counts.items()
    }
