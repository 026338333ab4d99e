"""The report's tables, as one JSON-ready dict: what `--json` prints and the HTML shows.

Scores are `stance_score` = P(support) - P(oppose), in [-1, 1]. Every mean comes with its
95 % bootstrap interval (see `reports.statistics`). Groups below `min_n` statements are pooled
into one "other" row; movers are compared only where a group has `min_n` statements in each
period.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from model.labels import STANCE_LABELS
from reports.dates import AUTO, Period, choose_frequency, period_of
from reports.errors import ReportError
from reports.scored import ScoredFile, ScoredRow
from reports.statistics import (
    BOOTSTRAP_LIMIT,
    LEVEL,
    SAMPLES,
    SEED,
    difference_interval,
    label_shares,
    mean_interval,
)

OTHER = "other"


@dataclass(frozen=True)
class ReportOptions:
    """What to count by and how much to show."""

    freq: str = AUTO
    min_n: int = 5
    compare: tuple[Period, Period] | None = None
    review: int = 20
    small_multiples: int = 6
    quoted_movers: int = 5
    quotes_per_side: int = 2


def _summary(rows: Sequence[ScoredRow]) -> dict[str, Any]:
    estimate = mean_interval([r.score for r in rows])
    return {**estimate.as_dict(), "labels": label_shares((r.stance for r in rows), STANCE_LABELS)}


def _series(rows: Iterable[ScoredRow], freq: str) -> list[dict[str, Any]]:
    by_period: dict[Period, list[ScoredRow]] = defaultdict(list)
    for row in rows:
        if row.date is not None and (period := period_of(row.date, freq)) is not None:
            by_period[period].append(row)
    return [{"period": p.label, **_summary(by_period[p])} for p in sorted(by_period)]


def _quote(row: ScoredRow) -> dict[str, Any]:
    return {
        "where": row.where,
        "id": row.ident,
        "group": row.group,
        "date": row.date.iso() if row.date else None,
        "stance": row.stance,
        "score": row.score,
        "max_probability": row.max_probability,
        "text": row.text,
    }


def _pooled_label(groups: Iterable[str]) -> str:
    return f"{OTHER} (pooled)" if OTHER in set(groups) else OTHER


def _groups(rows: Sequence[ScoredRow], column: str, min_n: int) -> dict[str, Any]:
    members: dict[str, list[ScoredRow]] = defaultdict(list)
    for row in rows:
        assert row.group is not None
        members[row.group].append(row)
    kept = sorted(
        (g for g in members if len(members[g]) >= min_n), key=lambda g: (-len(members[g]), g)
    )
    pooled = sorted(g for g in members if len(members[g]) < min_n)
    table = [{"group": g, **_summary(members[g])} for g in kept]
    label = _pooled_label(members)
    if pooled:
        table.append(
            {"group": label, "pooled": True, **_summary([r for g in pooled for r in members[g]])}
        )
    return {
        "column": column,
        "min_n": min_n,
        "count": len(members),
        "pooled_label": label,
        "pooled": pooled,
        "table": table,
    }


def _dates(scored: ScoredFile, freq: str) -> dict[str, Any]:
    counts = scored.dates
    dated = [r.date for r in scored.rows if r.date is not None]
    periods = sorted({p for d in set(dated) if (p := period_of(d, freq)) is not None})
    return {
        "column": counts.column,
        "frequency": freq,
        "parsed": counts.parsed,
        "missing": counts.missing,
        "bad": counts.bad,
        "bad_examples": [
            {"value": value, "rows": n} for value, n in counts.bad_values.most_common(5)
        ],
        "too_coarse": sum(1 for d in dated if period_of(d, freq) is None),
        "first": periods[0].label if periods else None,
        "last": periods[-1].label if periods else None,
    }


def _in_period(rows: Iterable[ScoredRow], period: Period) -> list[ScoredRow]:
    return [r for r in rows if r.date is not None and period.contains(r.date)]


def _compare(
    rows: Sequence[ScoredRow], periods: tuple[Period, Period], options: ReportOptions
) -> dict[str, Any]:
    first, second = periods
    before, after = _in_period(rows, first), _in_period(rows, second)
    for period, chosen in ((first, before), (second, after)):
        if not chosen:
            dated = sorted(r.date.iso() for r in rows if r.date is not None)
            span = f"the dates run from {dated[0]} to {dated[-1]}" if dated else "no date parsed"
            raise ReportError(
                f"--compare: no dated statement falls in {period.label} ({span}); "
                "choose periods with statements in them"
            )
    overall = {
        "from": mean_interval([r.score for r in before]).as_dict(),
        "to": mean_interval([r.score for r in after]).as_dict(),
        "change": difference_interval(
            [r.score for r in before], [r.score for r in after]
        ).as_dict(),
    }
    movers: list[dict[str, Any]] = []
    not_compared: list[dict[str, Any]] = []
    sides: dict[str, tuple[list[ScoredRow], list[ScoredRow]]] = defaultdict(lambda: ([], []))
    for side, chosen in enumerate((before, after)):
        for row in chosen:
            if row.group is not None:
                sides[row.group][side].append(row)
    for group in sorted(sides):
        a, b = sides[group]
        if len(a) < options.min_n or len(b) < options.min_n:
            not_compared.append({"group": group, "n_from": len(a), "n_to": len(b)})
            continue
        change = difference_interval([r.score for r in a], [r.score for r in b])
        assert change.mean is not None
        direction = 1.0 if change.mean >= 0 else -1.0
        movers.append(
            {
                "group": group,
                "from": mean_interval([r.score for r in a]).as_dict(),
                "to": mean_interval([r.score for r in b]).as_dict(),
                "change": change.as_dict(),
                "clear": change.low is not None and (change.low > 0 or change.high < 0),
                "_quotes": (a, b, direction),
            }
        )
    movers.sort(key=lambda m: (-abs(m["change"]["mean"]), m["group"]))
    for rank, mover in enumerate(movers):
        a, b, direction = mover.pop("_quotes")
        if rank < options.quoted_movers:
            k = options.quotes_per_side
            # Before: the statements furthest against the direction of the move; after: furthest with it.
            mover["before"] = [_quote(r) for r in sorted(a, key=lambda r: direction * r.score)[:k]]
            mover["after"] = [_quote(r) for r in sorted(b, key=lambda r: -direction * r.score)[:k]]
    return {
        "from": first.label,
        "to": second.label,
        "overall": overall,
        "movers": movers,
        "not_compared": not_compared,
    }


def _figures(metrics: Any) -> dict[str, float] | None:
    stance = metrics.get("stance") if isinstance(metrics, dict) else None
    if not isinstance(stance, dict):
        return None
    return {k: stance[k] for k in ("macro_f1", "accuracy", "n") if k in stance}


def model_summary(
    versions_in_file: dict[str, int], metadata: dict[str, Any] | None
) -> dict[str, Any]:
    """What the report can say about the model that made the scores."""
    summary: dict[str, Any] = {"versions_in_file": versions_in_file, "metadata": None}
    if metadata:
        dev = metadata.get("dev_metrics")
        summary["metadata"] = {
            "version": metadata.get("version"),
            "created_at": metadata.get("created_at"),
            "cross_validated": _figures(metadata.get("cv_metrics")),
            "challenge": _figures(metadata.get("challenge_metrics")),
            "dev": _figures(dev.get("metrics")) if isinstance(dev, dict) else None,
        }
    return summary


def build_report(
    scored: ScoredFile,
    options: ReportOptions | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """All the report's numbers for `scored`."""
    options = options or ReportOptions()
    rows = scored.rows
    dated = [r.date for r in rows if r.date is not None]
    freq = choose_frequency(dated) if options.freq == AUTO else options.freq
    has_dates = scored.dates.column is not None
    if options.compare and not has_dates:
        raise ReportError(
            f"--compare needs dates, and {scored.source} has no date column; "
            "name the column that holds them with --date-column"
        )
    groups = _groups(rows, scored.group_column, options.min_n) if scored.group_column else None
    over_time_groups: dict[str, list[dict[str, Any]]] = {}
    if groups and has_dates:
        largest = [row["group"] for row in groups["table"] if not row.get("pooled")]
        for group in largest:
            series = _series((r for r in rows if r.group == group), freq)
            if series:
                over_time_groups[group] = series
            if len(over_time_groups) == options.small_multiples:
                break
    least_certain = sorted(range(len(rows)), key=lambda i: (rows[i].max_probability, i))
    return {
        "source": scored.source,
        "rows": {
            "total": scored.total_rows,
            "scored": len(rows),
            "with_error": sum(scored.errors.values()),
            "errors": dict(scored.errors.most_common()),
        },
        "model": model_summary(dict(scored.model_versions), metadata),
        "method": {
            "score": "stance_score = P(support) - P(oppose), from -1 (oppose) to +1 (support)",
            "interval": f"{100 * LEVEL:.0f} % percentile bootstrap over statements",
            "samples": SAMPLES,
            "seed": SEED,
            "normal_approximation_above": BOOTSTRAP_LIMIT,
        },
        "overall": _summary(rows),
        "dates": _dates(scored, freq) if has_dates else None,
        "over_time": _series(rows, freq) if has_dates else [],
        "groups": groups,
        "groups_over_time": over_time_groups,
        "compare": _compare(rows, options.compare, options) if options.compare else None,
        "review": [_quote(rows[i]) for i in least_certain[: options.review]],
    }
