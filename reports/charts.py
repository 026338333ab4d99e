"""The report's charts, drawn with matplotlib's Agg canvas from the tables of `reports.tables`.

Figures are built without pyplot (no global state, no GUI backend), each with a title and
axis labels that name their units. `charts_for` returns them by name; `png_bytes` renders one.
"""

from __future__ import annotations

import io
import math
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from model.labels import STANCE_LABELS
from reports.dates import parse_period

SCORE_AXIS = "mean stance score (−1 = oppose, +1 = support)"
COUNT_AXIS = "statements (count)"
SHARE_AXIS = "share of statements (%)"
COLOURS = {"support": "#2166ac", "oppose": "#b2182b", "neutral": "#9e9e9e"}
LINE = "#333333"
BAND = "#7a9cc6"
MAX_GROUPS = 30
MAX_MOVERS = 15
LABEL_CHARS = 38


def _plain(text: str, limit: int = LABEL_CHARS) -> str:
    """A label matplotlib shows as written: cut to `limit` characters, `$` not mathtext."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _time_axis(freq: str) -> str:
    return f"date (by {freq})"


def _plot_series(axes: Any, series: list[dict[str, Any]], colour: str = LINE) -> None:
    """Mean per period as a line, its interval as a band, zero as a reference line."""
    x: list[Any] = []
    mean: list[float] = []
    low: list[float] = []
    high: list[float] = []
    previous = None
    for point in series:
        period = parse_period(point["period"])
        if previous is not None and previous.end != period.start:
            # A period with no statements breaks the line rather than bridging it.
            x.append(previous.end)
            mean.append(math.nan)
            low.append(math.nan)
            high.append(math.nan)
        x.append(period.middle)
        mean.append(point["mean"])
        low.append(math.nan if point["low"] is None else point["low"])
        high.append(math.nan if point["high"] is None else point["high"])
        previous = period
    axes.axhline(0, color="#bbbbbb", linewidth=0.8)
    axes.fill_between(x, low, high, color=BAND, alpha=0.35, linewidth=0, label="95 % interval")
    axes.plot(x, mean, color=colour, marker="o", markersize=3, linewidth=1.5, label="mean")
    axes.set_ylim(-1.05, 1.05)


def labels_chart(report: dict[str, Any]) -> Figure:
    labels = report["overall"]["labels"]
    figure = _figure(6.5, 3.4)
    axes = figure.add_subplot()
    counts = [labels[k]["n"] for k in STANCE_LABELS]
    bars = axes.bar(STANCE_LABELS, counts, color=[COLOURS[k] for k in STANCE_LABELS])
    axes.bar_label(
        bars,
        labels=[f"{labels[k]['n']:,} ({100 * labels[k]['share']:.0f} %)" for k in STANCE_LABELS],
    )
    axes.set_ylim(0, max(counts) * 1.18 + 1)
    axes.set_title(f"Statements by predicted stance (n = {report['rows']['scored']:,})")
    axes.set_xlabel("predicted stance (model label)")
    axes.set_ylabel(COUNT_AXIS)
    return figure


def over_time_chart(report: dict[str, Any]) -> Figure:
    freq = report["dates"]["frequency"]
    figure = _figure(9, 3.8)
    axes = figure.add_subplot()
    _plot_series(axes, report["over_time"])
    axes.legend(loc="lower left", fontsize="small", frameon=False)
    dated = sum(p["n"] for p in report["over_time"])
    axes.set_title(f"Mean stance score by {freq}, all statements (n = {dated:,} dated)")
    axes.set_xlabel(_time_axis(freq))
    axes.set_ylabel(SCORE_AXIS)
    return figure


def _group_rows(report: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    groups = report["groups"]
    table = groups["table"][:MAX_GROUPS]
    shown = f", the {MAX_GROUPS} largest" if len(groups["table"]) > MAX_GROUPS else ""
    return table, shown


def groups_chart(report: dict[str, Any]) -> Figure:
    table, shown = _group_rows(report)
    column = report["groups"]["column"]
    figure = _figure(8, max(3.0, 1.3 + 0.32 * len(table)))
    axes = figure.add_subplot()
    y = list(range(len(table)))[::-1]
    means = [row["mean"] for row in table]
    lower = [row["mean"] - row["low"] if row["low"] is not None else 0 for row in table]
    upper = [row["high"] - row["mean"] if row["high"] is not None else 0 for row in table]
    axes.axvline(0, color="#bbbbbb", linewidth=0.8)
    axes.errorbar(
        means, y, xerr=[lower, upper], fmt="o", color=LINE, ecolor=BAND, elinewidth=3, capsize=0
    )
    axes.set_yticks(y, [f"{_plain(row['group'])} (n={row['n']})" for row in table])
    axes.set_xlim(-1.05, 1.05)
    axes.set_title(f"Mean stance score by {column}, with 95 % intervals{shown}")
    axes.set_xlabel(SCORE_AXIS)
    axes.set_ylabel(f"{column} (n = statements)")
    return figure


def group_shares_chart(report: dict[str, Any]) -> Figure:
    table, shown = _group_rows(report)
    column = report["groups"]["column"]
    figure = _figure(8, max(3.2, 1.6 + 0.32 * len(table)))
    axes = figure.add_subplot()
    y = list(range(len(table)))[::-1]
    left = [0.0] * len(table)
    for label in STANCE_LABELS:
        shares = [100 * row["labels"][label]["share"] for row in table]
        axes.barh(y, shares, left=left, color=COLOURS[label], label=label, height=0.7)
        left = [a + b for a, b in zip(left, shares, strict=True)]
    axes.set_yticks(y, [f"{_plain(row['group'])} (n={row['n']})" for row in table])
    axes.set_xlim(0, 100)
    axes.set_ylim(-0.6, len(table) - 0.4)
    figure.legend(loc="outside lower center", ncols=3, frameon=False, fontsize="small")
    axes.set_title(f"Predicted stance by {column}{shown}")
    axes.set_xlabel(SHARE_AXIS)
    axes.set_ylabel(f"{column} (n = statements)")
    return figure


def groups_over_time_chart(report: dict[str, Any]) -> Figure:
    series = report["groups_over_time"]
    freq = report["dates"]["frequency"]
    column = report["groups"]["column"]
    columns = min(3, len(series))
    rows = math.ceil(len(series) / columns)
    figure = _figure(3.6 * columns + 0.8, 2.5 * rows + 1.0)
    grid = figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
    sizes = {row["group"]: row["n"] for row in report["groups"]["table"]}
    for axes, (group, points) in zip(grid.flat, series.items(), strict=False):
        _plot_series(axes, points)
        axes.set_title(f"{_plain(group, 30)} (n={sizes[group]})", fontsize="medium")
    for axes in list(grid.flat)[len(series) :]:
        axes.set_visible(False)
    for axes in grid.flat:
        axes.tick_params(labelsize="small")
        axes.tick_params(axis="x", labelrotation=30)
    figure.suptitle(f"Mean stance score by {freq}, the {len(series)} largest {column} groups")
    figure.supxlabel(_time_axis(freq))
    figure.supylabel(SCORE_AXIS)
    return figure


def movers_chart(report: dict[str, Any]) -> Figure:
    compare = report["compare"]
    movers = compare["movers"][:MAX_MOVERS]
    column = report["groups"]["column"]
    figure = _figure(8, max(3.2, 1.6 + 0.36 * len(movers)))
    axes = figure.add_subplot()
    y = list(range(len(movers)))[::-1]
    axes.axvline(0, color="#bbbbbb", linewidth=0.8)
    for row, mover in zip(y, movers, strict=True):
        axes.annotate(
            "",
            xy=(mover["to"]["mean"], row),
            xytext=(mover["from"]["mean"], row),
            arrowprops={"arrowstyle": "->", "color": LINE, "linewidth": 1.2},
        )
    before = [m["from"]["mean"] for m in movers]
    axes.scatter(before, y, color="#999999", label=compare["from"], zorder=3)
    axes.scatter([m["to"]["mean"] for m in movers], y, color=LINE, label=compare["to"], zorder=3)
    axes.set_yticks(
        y,
        [f"{_plain(m['group'])} (n={m['from']['n']}→{m['to']['n']})" for m in movers],
    )
    axes.set_xlim(-1.05, 1.05)
    axes.set_ylim(-0.8, len(movers) - 0.2)
    axes.legend(loc="lower right", fontsize="small", title="period")
    axes.set_title(f"Change in mean stance score, {compare['from']} → {compare['to']}")
    axes.set_xlabel(SCORE_AXIS)
    axes.set_ylabel(f"{column} (n before→after)")
    return figure


def charts_for(report: dict[str, Any]) -> dict[str, Figure]:
    """Every chart the report has data for, by name, in the order the page shows them."""
    charts = {"labels": labels_chart(report)}
    if report["over_time"]:
        charts["over_time"] = over_time_chart(report)
    if report["groups"]:
        charts["groups"] = groups_chart(report)
        charts["group_shares"] = group_shares_chart(report)
    if report["groups_over_time"]:
        charts["groups_over_time"] = groups_over_time_chart(report)
    if report["compare"] and report["compare"]["movers"]:
        charts["movers"] = movers_chart(report)
    return charts


def title_of(figure: Figure) -> str:
    """The figure's title (its suptitle, or its first axes' title): for alt text."""
    suptitle = figure.get_suptitle()
    return suptitle or figure.axes[0].get_title()


def png_bytes(figure: Figure, dpi: int = 100) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
