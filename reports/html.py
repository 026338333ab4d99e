"""The report as one self-contained HTML page: inline CSS, charts as base64 PNG, no script,
nothing fetched from anywhere. Every value from the scored file is escaped."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from model.labels import STANCE_LABELS

QUOTE_CHARS = 400
NOT_COMPARED_SHOWN = 20

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
.lead { font-size: 1.08em; }
.muted { color: #666; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.3em 0.7em; text-align: left;
         vertical-align: top; }
th { background: #f5f5f5; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
img { max-width: 100%; height: auto; display: block; margin: 1em 0; }
blockquote { margin: 0.5em 0 0.5em 0; padding: 0.4em 0.9em; border-left: 4px solid #ccc;
             background: #fafafa; }
blockquote.support { border-color: #2166ac; }
blockquote.oppose { border-color: #b2182b; }
blockquote cite { display: block; font-size: 0.85em; color: #555; font-style: normal; }
.movers { display: grid; grid-template-columns: 1fr 1fr; gap: 0 1.5em; }
details { margin: 0.6em 0; }
footer { margin-top: 3em; font-size: 0.85em; color: #777; }
"""


def _num(value: float | None, digits: int = 2) -> str:
    """+0.12 / −0.30 (a real minus sign); a dash when there is no value."""
    if value is None:
        return "–"
    text = f"{value:+.{digits}f}"
    return text.replace("-", "−")


def _interval(row: dict[str, Any]) -> str:
    if row.get("low") is None:
        return "–"
    return f"[{_num(row['low'])}, {_num(row['high'])}]"


def _pct(share: float) -> str:
    return f"{100 * share:.0f} %"


def _cell(value: Any, numeric: bool = False) -> str:
    return f'<td class="num">{value}</td>' if numeric else f"<td>{value}</td>"


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    header = "".join(
        f'<th class="num">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>"
        for i, h in enumerate(head)
    )
    body = "".join(
        "<tr>" + "".join(_cell(v, i in numeric) for i, v in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _image(images: dict[str, tuple[str, bytes]], name: str) -> str:
    if name not in images:
        return ""
    title, png = images[name]
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(title)}" title="{escape(title)}">'


def _shares(labels: dict[str, dict[str, float]]) -> list[str]:
    return [_pct(labels[k]["share"]) for k in STANCE_LABELS]


def _summary_rows(rows: list[dict[str, Any]], key: str) -> list[list[str]]:
    return [
        [escape(str(r[key])), f"{r['n']:,}", _num(r["mean"]), _interval(r), *_shares(r["labels"])]
        for r in rows
    ]


def _shorten(text: str | None) -> str:
    if not text:
        return "(no text column)"
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def _quote(quote: dict[str, Any]) -> str:
    about = [
        quote["group"],
        quote["date"],
        f"{quote['stance']}, score {_num(quote['score'])}",
        quote["id"] and f"id {quote['id']}",
        quote["where"],
    ]
    cite = " · ".join(escape(str(a)) for a in about if a)
    return (
        f'<blockquote class="{escape(quote["stance"])}">“{escape(_shorten(quote["text"]))}”'
        f"<cite>{cite}</cite></blockquote>"
    )


def _overview(report: dict[str, Any], images: dict[str, tuple[str, bytes]]) -> str:
    overall = report["overall"]
    counts = _table(
        ["predicted stance", "statements", "share"],
        [
            [k, f"{overall['labels'][k]['n']:,}", _pct(overall["labels"][k]["share"])]
            for k in STANCE_LABELS
        ],
        {1, 2},
    )
    parts = ["<h2>Overall</h2>", counts, _image(images, "labels")]
    if report["over_time"]:
        dates = report["dates"]
        parts += [
            f"<h3>Over time, by {escape(dates['frequency'])}</h3>",
            _image(images, "over_time"),
            "<details><summary>The figures by period</summary>",
            _table(
                ["period", "statements", "mean score", "95 % interval", *STANCE_LABELS],
                _summary_rows(report["over_time"], "period"),
                {1, 2, 3, 4, 5, 6},
            ),
            "</details>",
        ]
    elif report["dates"] is None:
        parts.append(
            '<p class="muted">No date column, so no chart over time; name one with '
            "<code>--date-column</code>.</p>"
        )
    return "\n".join(parts)


def _groups(report: dict[str, Any], images: dict[str, tuple[str, bytes]]) -> str:
    groups = report["groups"]
    if not groups:
        return (
            '<h2>By group</h2><p class="muted">No <code>speaker</code> column; name the column '
            "to group by with <code>--by</code>.</p>"
        )
    column = escape(groups["column"])
    pooled = ""
    if groups["pooled"]:
        names = ", ".join(escape(g) for g in groups["pooled"][:NOT_COMPARED_SHOWN])
        more = "…" if len(groups["pooled"]) > NOT_COMPARED_SHOWN else ""
        pooled = (
            f'<p class="muted">{len(groups["pooled"])} {column} groups with fewer than '
            f"{groups['min_n']} statements are pooled as “{escape(groups['pooled_label'])}”: "
            f"{names}{more}.</p>"
        )
    parts = [
        f"<h2>By {column}</h2>",
        f"<p>{groups['count']:,} distinct values of <code>{column}</code>.</p>",
        _table(
            [groups["column"], "statements", "mean score", "95 % interval", *STANCE_LABELS],
            _summary_rows(groups["table"], "group"),
            {1, 2, 3, 4, 5, 6},
        ),
        pooled,
        _image(images, "groups"),
        _image(images, "group_shares"),
    ]
    if report["groups_over_time"]:
        parts.append(f"<h3>The largest {column} groups over time</h3>")
        parts.append(_image(images, "groups_over_time"))
    return "\n".join(parts)


def _compare(report: dict[str, Any], images: dict[str, tuple[str, bytes]]) -> str:
    compare = report["compare"]
    if not compare:
        return ""
    start, end = escape(compare["from"]), escape(compare["to"])
    overall = compare["overall"]
    parts = [
        f"<h2>Movers: {start} → {end}</h2>",
        f'<p class="lead">All statements: mean score {_num(overall["from"]["mean"])} in {start} '
        f"(n = {overall['from']['n']:,}), {_num(overall['to']['mean'])} in {end} "
        f"(n = {overall['to']['n']:,}): a change of {_num(overall['change']['mean'])} "
        f"{_interval(overall['change'])}.</p>",
    ]
    movers = compare["movers"]
    if movers:
        parts += [
            _image(images, "movers"),
            _table(
                [
                    report["groups"]["column"],
                    *(
                        f"{what} {compare[side]}"
                        for side in ("from", "to")
                        for what in ("n", "mean")
                    ),
                    "change",
                    "95 % interval",
                    "clear?",
                ],
                [
                    [
                        escape(m["group"]),
                        f"{m['from']['n']:,}",
                        _num(m["from"]["mean"]),
                        f"{m['to']['n']:,}",
                        _num(m["to"]["mean"]),
                        _num(m["change"]["mean"]),
                        _interval(m["change"]),
                        "yes" if m["clear"] else "within noise",
                    ]
                    for m in movers
                ],
                {1, 2, 3, 4, 5, 6},
            ),
            '<p class="muted">“Clear” means the 95 % interval of the change excludes zero.</p>',
        ]
        for mover in movers:
            if "before" not in mover:
                break
            parts += [
                f"<h3>{escape(mover['group'])}: {_num(mover['from']['mean'])} → "
                f"{_num(mover['to']['mean'])}</h3>",
                '<div class="movers"><div>',
                f"<p class='muted'>{start}</p>",
                *(_quote(q) for q in mover["before"]),
                f"</div><div><p class='muted'>{end}</p>",
                *(_quote(q) for q in mover["after"]),
                "</div></div>",
            ]
    elif report["groups"]:
        parts.append(
            f'<p class="muted">No {escape(report["groups"]["column"])} group has '
            f"{report['groups']['min_n']} statements in both periods.</p>"
        )
    skipped = compare["not_compared"]
    if skipped:
        names = ", ".join(
            f"{escape(s['group'])} ({s['n_from']}→{s['n_to']})"
            for s in skipped[:NOT_COMPARED_SHOWN]
        )
        more = "…" if len(skipped) > NOT_COMPARED_SHOWN else ""
        parts.append(
            f'<p class="muted">{len(skipped)} groups have fewer than '
            f"{report['groups']['min_n']} statements in one of the periods and are not "
            f"compared: {names}{more}.</p>"
        )
    return "\n".join(parts)


def _review(report: dict[str, Any]) -> str:
    rows = [
        [
            f"{q['max_probability']:.2f}",
            escape(q["stance"]),
            escape(_shorten(q["text"])),
            escape(q["group"] or ""),
            escape(q["date"] or ""),
            escape(q["id"] or q["where"]),
        ]
        for q in report["review"]
    ]
    return "\n".join(
        [
            "<h2>For human review: the least certain statements</h2>",
            "<p>The statements whose most likely label has the lowest probability. "
            "Check these by hand before quoting any of them.</p>",
            _table(["max P", "label", "statement", "group", "date", "row"], rows, {0}),
        ]
    )


def _quality(report: dict[str, Any]) -> str:
    rows = report["rows"]
    items = [
        f"{rows['total']:,} rows read; {rows['scored']:,} scored and used; "
        f"{rows['with_error']:,} with an error, not used."
    ]
    if rows["errors"]:
        reasons = ", ".join(f"{escape(k)} ({v:,})" for k, v in rows["errors"].items())
        items.append(f"Errors by reason: {reasons}.")
    dates = report["dates"]
    if dates:
        column = escape(dates["column"])
        items.append(
            f"Dates (<code>{column}</code>) of the scored rows: {dates['parsed']:,} parsed, "
            f"{dates['missing']:,} missing, {dates['bad']:,} not readable as a date"
            + (
                "; the undated rows count in every figure except those over time."
                if dates["missing"] or dates["bad"]
                else "."
            )
        )
        if dates["bad_examples"]:
            examples = ", ".join(
                f"“{escape(e['value'])}” ({e['rows']})" for e in dates["bad_examples"]
            )
            items.append(f"Unreadable dates, most frequent first: {examples}.")
        if dates["too_coarse"]:
            items.append(
                f"{dates['too_coarse']:,} dates give only a year (or month), too coarse for "
                f"periods of a {escape(dates['frequency'])}; they are left out of the charts "
                "over time. Use <code>--freq year</code> to include them."
            )
        if dates["first"]:
            items.append(f"Dated statements run from {dates['first']} to {dates['last']}.")
    return "<h2>Data quality</h2><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _figures(name: str, figures: dict[str, Any] | None) -> str:
    if not figures or "macro_f1" not in figures:
        return ""
    accuracy = f", accuracy {figures['accuracy']:.2f}" if "accuracy" in figures else ""
    n = f" on {figures['n']:,} statements" if "n" in figures else ""
    return f"<li>{name}: stance macro-F1 {figures['macro_f1']:.2f}{accuracy}{n}</li>"


def _note(report: dict[str, Any]) -> str:
    method = report["method"]
    model = report["model"]
    about_model = []
    if model["versions_in_file"]:
        versions = ", ".join(
            f"{escape(v)} ({n:,} rows)" for v, n in model["versions_in_file"].items()
        )
        about_model.append(f"<p>Model version recorded in the file: {versions}.</p>")
    meta = model["metadata"]
    if meta:
        figures = "".join(
            [
                _figures("Cross-validated on the training corpus", meta["cross_validated"]),
                _figures("Challenge set of hard cases, never trained on", meta["challenge"]),
                _figures("Real statements (dev set), never trained on", meta["dev"]),
            ]
        )
        about_model.append(
            f"<p>Model metadata from <code>--model-dir</code>: version "
            f"<code>{escape(str(meta['version']))}</code>, trained "
            f"{escape(str(meta['created_at']))}. Its measured quality:</p><ul>{figures}</ul>"
            "<p>Cross-validation on the training corpus overstates accuracy on real "
            "statements; "
            + (
                "the dev-set figures are the closer guide.</p>"
                if meta["dev"]
                else "the challenge set is the harder check.</p>"
            )
        )
    if not about_model:
        about_model.append(
            "<p>The file does not record which model scored it; pass "
            "<code>--model-dir</code> to include that model's version and measured quality.</p>"
        )
    return "\n".join(
        [
            "<h2>What the numbers mean</h2>",
            "<p>Every label and score here is a <strong>model estimate</strong> from the text "
            "alone, not a human judgement. The stance score of a statement is "
            "P(support) − P(oppose): +1 is confident support for Ukraine's NATO accession, −1 "
            "confident opposition, 0 neutral or undecided. A mean near 0 can be many neutral "
            "statements or support and opposition in balance; the label shares tell which.</p>",
            f"<p>Intervals are {escape(method['interval'])} ({method['samples']:,} resamples, "
            f"seed {method['seed']}; the normal approximation above "
            f"{method['normal_approximation_above']:,} statements). They measure how much a mean "
            "depends on which statements were collected, not the model's errors, and they "
            "treat statements as independent, which repeated remarks of one speech are not. "
            "Which statements were collected (sources, speakers, translation) can move a mean "
            "more than either. Below about ten statements a bootstrap interval is too narrow; "
            "read the means of small groups as anecdotes.</p>",
            *about_model,
        ]
    )


def render_html(
    report: dict[str, Any], images: dict[str, tuple[str, bytes]], generated: str
) -> str:
    """The page for `report`; `images` maps chart names to (title, PNG bytes)."""
    overall = report["overall"]
    rows = report["rows"]
    source = escape(report["source"])
    lead = (
        f"{rows['scored']:,} statements scored"
        + (f" ({rows['with_error']:,} rows with errors not used)" if rows["with_error"] else "")
        + f". Mean stance score <strong>{_num(overall['mean'])}</strong> "
        f"{_interval(overall)} (95 % interval; −1 oppose, +1 support)."
    )
    body = [
        f"<h1>Stance report: {source}</h1>",
        f'<p class="lead">{lead}</p>',
        _overview(report, images),
        _groups(report, images),
        _compare(report, images),
        _review(report),
        _quality(report),
        _note(report),
        f"<footer>Made by <code>stance report</code> from {source} on {escape(generated)}."
        "</footer>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Stance report: {source}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(part for part in body if part)
        + "\n</body>\n</html>\n"
    )
