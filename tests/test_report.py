"""`stance report`: numbers, charts, HTML and errors, on synthetic scored files with known trends.

The synthetic file (`trend_rows`) has, besides three rows the scorer flagged:
- "Mover": 12 statements in 2021 at -0.8 (oppose), 12 in 2023 at +0.8 (support);
- "Steady": 24 statements over 2021 and 2023 at +0.1 (neutral), plus 2 undated and 2 with
  unreadable dates, also at +0.1; one of them the least certain statement (max P 0.40);
- "Few & <Co>": 2 statements in 2022 at +0.6 (support): fewer than --min-n, pooled as "other".
"""

from __future__ import annotations

import ast
import csv
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from model.batch import output_columns
from reports.charts import charts_for
from reports.dates import PartialDate, Period, parse_date, parse_period
from reports.scored import read_scored
from reports.statistics import BOOTSTRAP_LIMIT, difference_interval, mean_interval
from reports.tables import ReportOptions, build_report

ROOT = Path(__file__).resolve().parents[1]
PROBABILITIES = {  # label -> (P(support), P(oppose), P(neutral))
    "oppose": (0.05, 0.85, 0.10),
    "support": (0.85, 0.05, 0.10),
    "neutral": (0.30, 0.20, 0.50),
    "unsure": (0.35, 0.25, 0.40),
    "few": (0.70, 0.10, 0.20),
}
MONTH_NAMES = [
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
]
FEW = "Few & <Co>"


def scored_row(
    n: int, speaker: str, date: str, kind: str | None, error: str = ""
) -> dict[str, Any]:
    """One row as `stance score` writes it (kind None: a row the scorer flagged)."""
    row: dict[str, Any] = {"id": f"q{n:03d}", "text": f"statement {n} by {speaker}"}
    row |= {"speaker": speaker, "date": date}
    columns = output_columns()
    if kind is None:
        row |= dict.fromkeys(columns[:-1], "") | {"error": error}
        return row
    support, oppose, neutral = PROBABILITIES[kind]
    label = max(zip((support, oppose, neutral), ("support", "oppose", "neutral"), strict=True))[1]
    values = [label, round(support - oppose, 6), support, oppose, neutral]
    values += ["neutral", 0.0, 0.2, 0.2, 0.6, ""]
    return row | dict(zip(columns, values, strict=True))


def trend_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(speaker: str, date: str, kind: str | None, error: str = "") -> None:
        rows.append(scored_row(len(rows) + 1, speaker, date, kind, error))

    for month in range(1, 13):
        # Dates in the forms people write: ISO day, "3 December 2024", "2024-12", "Dec 2024".
        forms = [
            f"2021-{month:02d}-15",
            f"15 {MONTH_NAMES[month - 1]} 2021",
            f"2021-{month:02d}",
            f"{MONTH_NAMES[month - 1][:3]} 2021",
        ]
        add("Mover", forms[month % 4], "oppose")
        add("Steady", f"2021-{month:02d}-02", "neutral")
    for month in range(1, 13):
        add("Mover", f"{MONTH_NAMES[month - 1]} 3, 2023", "support")
        add("Steady", f"2023-{month:02d}-20T09:30:00Z", "unsure" if month == 7 else "neutral")
    add("Steady", "", "neutral")
    add("Steady", "   ", "neutral")
    add("Steady", "2022-02-30", "neutral")
    add("Steady", "next Tuesday", "neutral")
    add(FEW, "2022-05-01", "few")
    add(FEW, "2022-06-01", "few")
    for _ in range(3):
        add("Mover", "2022-01-01", None, "empty text")
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    def typed(row: dict[str, Any]) -> dict[str, Any]:
        return {k: (None if v == "" and k != "date" else v) for k, v in row.items()}

    path.write_text("".join(json.dumps(typed(r)) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trends(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("scored") / "trends.scored.csv", trend_rows())


@pytest.fixture(scope="module")
def report(trends: Path) -> dict[str, Any]:
    """The JSON tables for the trend file, --compare 2021:2023, defaults otherwise."""
    options = ReportOptions(compare=(parse_period("2021"), parse_period("2023")))
    return build_report(read_scored(trends), options)


@pytest.fixture(scope="module")
def cli_run(trends: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run of the command itself: --json, --png, -o."""
    out = tmp_path_factory.mktemp("report")
    capture = out / "stdout.json"
    argv = ["report", str(trends), "-o", str(out / "report.html"), "--json"]
    argv += ["--png", str(out / "png"), "--compare", "2021:2023"]
    with capture.open("w") as handle:
        saved, sys.stdout = sys.stdout, handle
        try:
            code = main(argv)
        finally:
            sys.stdout = saved
    return {
        "code": code,
        "json": json.loads(capture.read_text()),
        "html": (out / "report.html").read_text(encoding="utf-8"),
        "png": out / "png",
        "path": out / "report.html",
    }


# -- the numbers ---------------------------------------------------------------------------


def test_report_counts_rows_errors_and_labels(report):
    """54 scored rows are used, 3 flagged rows are counted by reason and left out."""
    assert {"total": 57, "scored": 54, "with_error": 3, "errors": {"empty text": 3}} == report[
        "rows"
    ]
    labels = report["overall"]["labels"]
    assert {"support": 14, "oppose": 12, "neutral": 28} == {k: v["n"] for k, v in labels.items()}
    assert 14 / 54 == pytest.approx(labels["support"]["share"])


def test_report_overall_mean_matches_a_hand_computation(report):
    """(12 x -0.8 + 12 x 0.8 + 28 x 0.1 + 2 x 0.6) / 54 = 4 / 54."""
    overall = report["overall"]
    assert 54 == overall["n"]
    assert 4 / 54 == pytest.approx(overall["mean"])
    assert overall["low"] < overall["mean"] < overall["high"]


def test_report_groups_pool_small_ones_as_other(report):
    """Groups sorted by size; the 2-statement group falls under --min-n 5 and is pooled."""
    groups = report["groups"]
    assert "speaker" == groups["column"]
    assert [FEW] == groups["pooled"]
    table = {row["group"]: row for row in groups["table"]}
    assert ["Steady", "Mover", "other"] == [row["group"] for row in groups["table"]]
    assert (28, 0.1, 0.1, 0.1) == pytest.approx(
        (
            table["Steady"]["n"],
            table["Steady"]["mean"],
            table["Steady"]["low"],
            table["Steady"]["high"],
        )
    )
    assert (24, 0.0) == pytest.approx((table["Mover"]["n"], table["Mover"]["mean"]))
    assert 0.5 == table["Mover"]["labels"]["oppose"]["share"]
    assert (2, 0.6, True) == pytest.approx(
        (table["other"]["n"], table["other"]["mean"], table["other"]["pooled"])
    )


def test_report_dates_are_parsed_counted_and_never_dropped(report):
    """Every date form of the file parses; 2 missing and 2 unreadable dates are counted."""
    dates = report["dates"]
    assert (50, 2, 2, 0) == (dates["parsed"], dates["missing"], dates["bad"], dates["too_coarse"])
    assert {"2022-02-30", "next Tuesday"} == {e["value"] for e in dates["bad_examples"]}
    assert ("month", "2021-01", "2023-12") == (dates["frequency"], dates["first"], dates["last"])
    # The undated rows still count in the overall figures.
    assert 54 == report["overall"]["n"]


def test_report_over_time_follows_the_known_trend(report):
    """Months of 2021 average Mover (-0.8) and Steady (+0.1); months of 2023 +0.8 and +0.1."""
    series = {p["period"]: p for p in report["over_time"]}
    assert 26 == len(series)  # 24 months of 2021 and 2023, and the two of 2022 with statements
    assert (2, -0.35) == pytest.approx((series["2021-01"]["n"], series["2021-01"]["mean"]))
    assert (2, 0.45) == pytest.approx((series["2023-12"]["n"], series["2023-12"]["mean"]))
    mover = report["groups_over_time"]["Mover"]
    assert [-0.8] * 12 + [0.8] * 12 == pytest.approx([p["mean"] for p in mover])
    assert {0.1} == {round(p["mean"], 9) for p in report["groups_over_time"]["Steady"]}


def test_report_finds_the_mover_and_quotes_it(report):
    """Mover moved +1.6 (a clear change); Steady did not move; quotes show before and after."""
    compare = report["compare"]
    assert ("2021", "2023") == (compare["from"], compare["to"])
    overall = compare["overall"]
    assert (-0.35, 0.45, 0.8) == pytest.approx(
        (overall["from"]["mean"], overall["to"]["mean"], overall["change"]["mean"])
    )
    first, second = compare["movers"]
    assert ("Mover", 1.6, 1.6, 1.6, True) == pytest.approx(
        (
            first["group"],
            first["change"]["mean"],
            first["change"]["low"],
            first["change"]["high"],
            first["clear"],
        )
    )
    assert (12, 12) == (first["from"]["n"], first["to"]["n"])
    assert ("Steady", 0.0, False) == pytest.approx(
        (second["group"], second["change"]["mean"], second["clear"])
    )
    assert [] == compare["not_compared"]
    assert {"oppose"} == {q["stance"] for q in first["before"]}
    assert {"support"} == {q["stance"] for q in first["after"]}
    assert 2 == len(first["before"]) == len(first["after"])


def test_report_lists_the_least_certain_statement_first(report):
    """The one statement at max P 0.40 leads the review list; the list has 20 rows."""
    review = report["review"]
    assert 20 == len(review)
    assert ("Steady", "2023-07-20", 0.40) == pytest.approx(
        (review[0]["group"], review[0]["date"], review[0]["max_probability"])
    )
    assert sorted(q["max_probability"] for q in review) == [q["max_probability"] for q in review]


def test_report_reads_jsonl_and_folders_of_parts_like_csv(tmp_path, report):
    """JSON Lines, and a folder of parts read in name order, give the same numbers as CSV."""
    rows = trend_rows()
    jsonl = write_jsonl(tmp_path / "trends.jsonl", rows)
    parts = tmp_path / "parts"
    parts.mkdir()
    write_csv(parts / "part-0001.csv", rows[30:])
    write_csv(parts / "part-0000.csv", rows[:30])
    (parts / "_SUCCESS").write_text("")
    options = ReportOptions(compare=(parse_period("2021"), parse_period("2023")))
    for source in (jsonl, parts):
        other = build_report(read_scored(source), options)
        for key in ("rows", "overall", "groups", "over_time", "groups_over_time", "dates"):
            assert report[key] == other[key], f"{source.name}: {key}"
        assert [m["change"] for m in report["compare"]["movers"]] == [
            m["change"] for m in other["compare"]["movers"]
        ]
    assert "part-0000.csv line 2" == read_scored(parts).rows[0].where


def test_report_reads_scores_written_with_a_prefix(tmp_path, report):
    """`stance score --prefix model_` columns are found without being named."""
    rows = [
        {("model_" + k if k in output_columns() else k): v for k, v in r.items()}
        for r in trend_rows()
    ]
    scored = read_scored(write_csv(tmp_path / "prefixed.csv", rows))
    assert report["overall"] == build_report(scored)["overall"]


def test_report_reads_parquet_when_pyarrow_is_installed(tmp_path, report):
    """A Parquet scored file gives the same numbers as the CSV."""
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed (parquet extra)")
    import pyarrow as pa

    rows = trend_rows()
    table = pa.Table.from_pylist(
        [{k: (None if v == "" and k != "date" else v) for k, v in r.items()} for r in rows]
    )
    pq.write_table(table, tmp_path / "trends.parquet")
    assert report["overall"] == build_report(read_scored(tmp_path / "trends.parquet"))["overall"]


# -- statistics and dates ------------------------------------------------------------------


def test_mean_interval_is_close_to_the_normal_interval():
    """For 100 values of -1 and +1 the 95 % bootstrap interval is about 0 ± 1.96 x 0.1."""
    estimate = mean_interval([-1.0, 1.0] * 50)
    assert 0.0 == estimate.mean
    assert -0.197 == pytest.approx(estimate.low, abs=0.03)
    assert 0.197 == pytest.approx(estimate.high, abs=0.03)


def test_mean_interval_is_reproducible_and_handles_tiny_samples():
    """Seeded: the same input gives the same interval; one value has no interval."""
    values = [0.1, 0.5, -0.3, 0.9, 0.2]
    assert mean_interval(values) == mean_interval(values)
    assert (1, 0.4, None, None) == tuple(mean_interval([0.4]).as_dict().values())
    assert (0, None, None, None) == tuple(mean_interval([]).as_dict().values())


def test_mean_interval_of_a_large_sample_uses_the_normal_approximation():
    """Above the bootstrap limit the interval is mean ± 1.96 standard errors."""
    values = [-1.0, 1.0] * (BOOTSTRAP_LIMIT // 2 + 1)
    se = 1.0 / math.sqrt(len(values))
    estimate = mean_interval(values)
    assert (-1.96 * se, 1.96 * se) == pytest.approx((estimate.low, estimate.high), rel=0.05)


def test_difference_interval_of_two_samples():
    """after - before of two constant samples is exact; of noisy ones it brackets the change."""
    assert (0.5, 0.5, 0.5) == pytest.approx(
        tuple(difference_interval([0.1] * 5, [0.6] * 5).as_dict().values())[1:]
    )
    change = difference_interval([-1.0, 1.0] * 20, [0.0, 1.0] * 20)
    assert 0.5 == pytest.approx(change.mean)
    assert change.low < 0.5 < change.high


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-12-03", PartialDate(2024, 12, 3)),
        ("2024-12-03T10:15:00Z", PartialDate(2024, 12, 3)),
        ("2024-12-03 10:15", PartialDate(2024, 12, 3)),
        ("2024/12/03", PartialDate(2024, 12, 3)),
        ("3 December 2024", PartialDate(2024, 12, 3)),
        ("3rd Dec. 2024", PartialDate(2024, 12, 3)),
        ("December 3, 2024", PartialDate(2024, 12, 3)),
        ("Sept 3 2024", PartialDate(2024, 9, 3)),
        ("2024-12", PartialDate(2024, 12)),
        ("Dec 2024", PartialDate(2024, 12)),
        ("december  2024", PartialDate(2024, 12)),
        ("2024", PartialDate(2024)),
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_parse_date_accepts_common_forms(text, expected):
    """ISO days and timestamps, written-out days, months and years keep their precision."""
    assert expected == parse_date(text)


@pytest.mark.parametrize(
    "text", ["03/12/2024", "2024-02-30", "2024-13", "Decembr 2024", "someday", "31 Feb 2024"]
)
def test_parse_date_rejects_ambiguous_and_impossible_dates(text):
    """Day/month orders are not guessed; impossible days and unknown words are errors."""
    with pytest.raises(ValueError):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021", Period("year", 2021, 1)),
        ("2021-Q3", Period("quarter", 2021, 3)),
        ("2021q3", Period("quarter", 2021, 3)),
        ("2021-06", Period("month", 2021, 6)),
        ("Jun 2021", Period("month", 2021, 6)),
    ],
)
def test_parse_period_reads_years_quarters_and_months(text, expected):
    """--compare sides name a year, a quarter or a month."""
    assert expected == parse_period(text)


def test_a_coarse_date_is_in_its_year_but_in_no_month():
    """'2024' falls in the year 2024, not in any of its months or quarters."""
    assert parse_period("2024").contains(PartialDate(2024))
    assert not parse_period("2024-01").contains(PartialDate(2024))
    assert parse_period("2024-Q4").contains(PartialDate(2024, 12, 3))


# -- charts --------------------------------------------------------------------------------

UNITS = re.compile(r"\(.+\)")


def test_every_chart_has_a_title_axis_labels_and_units(report):
    """Each chart: a title, an x and a y label (its own or the figure's), each naming a unit."""
    charts = charts_for(report)
    assert ["labels", "over_time", "groups", "group_shares", "groups_over_time", "movers"] == list(
        charts
    )
    for name, figure in charts.items():
        for axes in figure.axes:
            if not axes.get_visible():
                continue
            title = axes.get_title() or figure.get_suptitle()
            xlabel = axes.get_xlabel() or (figure._supxlabel and figure._supxlabel.get_text())
            ylabel = axes.get_ylabel() or (figure._supylabel and figure._supylabel.get_text())
            assert title, f"{name}: no title"
            assert xlabel and UNITS.search(xlabel), f"{name}: x label {xlabel!r} lacks a unit"
            assert ylabel and UNITS.search(ylabel), f"{name}: y label {ylabel!r} lacks a unit"


def test_small_multiples_draw_the_mover_from_oppose_to_support(report):
    """The Mover panel's line starts at -0.8 and ends at +0.8; Steady's stays at +0.1."""
    figure = charts_for(report)["groups_over_time"]
    panels = {axes.get_title().split(" (")[0]: axes for axes in figure.axes if axes.get_title()}
    mover = [y for y in panels["Mover"].lines[-1].get_ydata() if not math.isnan(y)]
    steady = [y for y in panels["Steady"].lines[-1].get_ydata() if not math.isnan(y)]
    assert (-0.8, 0.8) == pytest.approx((mover[0], mover[-1]))
    assert pytest.approx([0.1] * len(steady)) == steady


# -- the command and its page --------------------------------------------------------------


def test_report_command_writes_html_json_and_pngs(cli_run, report):
    """Exit 0; --json prints the same tables; --png writes one PNG per chart."""
    assert 0 == cli_run["code"]
    assert report["overall"] == cli_run["json"]["overall"]
    assert (
        report["compare"]["movers"][0]["change"]
        == cli_run["json"]["compare"]["movers"][0]["change"]
    )
    pngs = sorted(p.name for p in cli_run["png"].iterdir())
    expected = ["group_shares", "groups", "groups_over_time", "labels", "movers", "over_time"]
    assert [f"{name}.png" for name in expected] == pngs
    assert all((cli_run["png"] / p).read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)


def test_report_html_is_self_contained(cli_run):
    """No script, stylesheet or image is fetched: every image is an inline PNG."""
    html = cli_run["html"]
    assert not re.search(r"https?:", html)
    assert "<script" not in html and "<link" not in html and "@import" not in html
    sources = re.findall(r'src="([^"]*)"', html)
    assert 6 == len(sources)
    assert all(s.startswith("data:image/png;base64,") for s in sources)


def test_report_html_shows_the_sections_and_escapes_the_data(cli_run):
    """The page has every section, reports errors and dates, and escapes a group's name."""
    html = cli_run["html"]
    headings = ["Overall", "By speaker", "Movers: 2021 → 2023", "For human review"]
    for heading in [*headings, "Data quality", "What the numbers mean"]:
        assert f"<h2>{heading}" in html
    assert "Few &amp; &lt;Co&gt;" in html and FEW not in html
    assert "empty text (3)" in html
    assert "“next Tuesday” (1)" in html
    assert "model estimate" in html
    assert "“statement" in html  # movers are quoted


def test_report_note_names_the_model_from_model_dir(tmp_path):
    """--model-dir puts the model's version and its dev-set figures in the note."""
    version = "20260101T120000Z-a1b2c3"
    (tmp_path / "models" / version).mkdir(parents=True)
    metadata = {
        "version": version,
        "created_at": "2026-01-01T12:00:00+00:00",
        "sha256": "0" * 64,
        "cv_metrics": {"stance": {"macro_f1": 0.8, "accuracy": 0.81, "n": 4497}},
        "dev_metrics": {"metrics": {"stance": {"macro_f1": 0.61, "accuracy": 0.64, "n": 345}}},
    }
    (tmp_path / "models" / version / "metadata.json").write_text(json.dumps(metadata))
    (tmp_path / "models" / "current").symlink_to(version)
    out = tmp_path / "r.html"
    rows = [{k: v for k, v in r.items() if k not in ("speaker", "date")} for r in trend_rows()]
    source = write_csv(tmp_path / "bare.csv", rows)
    assert 0 == main(
        ["report", str(source), "-o", str(out), "--model-dir", str(tmp_path / "models")]
    )
    html = out.read_text(encoding="utf-8")
    assert version in html
    assert "Real statements (dev set), never trained on: stance macro-F1 0.61" in html


def test_other_commands_do_not_load_matplotlib():
    """The `stance` CLI imports only `reports.cli` of this package, and that loads neither
    matplotlib nor numpy: only running `stance report` does."""
    tree = ast.parse((ROOT / "cli" / "main.py").read_text(encoding="utf-8"))
    imported = {
        f"{node.module}.{alias.name}" if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert {"reports.cli"} == {name for name in imported if name.startswith("reports")}
    code = "import sys, reports.cli; print(sorted({'matplotlib', 'numpy'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert "[]" == result.stdout.strip()


@pytest.mark.skipif(
    not Path("/usr/bin/chromium").exists(),
    reason="Chromium is not installed at /usr/bin/chromium (the tests do not install browsers)",
)
def test_report_opens_in_chromium_without_console_errors(cli_run):
    """The page loads in headless Chromium with no console error and shows its charts."""
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="Python playwright is not installed"
    )
    errors: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(cli_run["path"].as_uri())
        loaded = page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        browser.close()
    assert [] == errors
    assert loaded


# -- errors --------------------------------------------------------------------------------


def run_failing(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run `stance` expecting exit 1 and exactly one line on stderr; return that line."""
    assert 1 == main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert 1 == len(lines), captured.err
    assert lines[0].startswith("stance report: error: ")
    assert "Traceback" not in captured.err
    return lines[0]


def plain_quotes(folder: Path) -> Path:
    path = folder / "quotes.csv"
    path.write_text("id,text,speaker\n1,Ukraine belongs in NATO,A\n", encoding="utf-8")
    return path


def empty_file(folder: Path) -> Path:
    path = folder / "empty.csv"
    path.write_text("")
    return path


def header_only(folder: Path) -> Path:
    path = folder / "header.csv"
    path.write_text(",".join(trend_rows()[0]) + "\n", encoding="utf-8")
    return path


def lacking_a_column(folder: Path) -> Path:
    rows = [{k: v for k, v in r.items() if k != "stance_p_oppose"} for r in trend_rows()]
    return write_csv(folder / "lacking.csv", rows)


def not_a_number(folder: Path) -> Path:
    rows = [r | {"stance_score": "high"} for r in trend_rows()[:2]]
    return write_csv(folder / "nan.csv", rows)


def all_flagged(folder: Path) -> Path:
    return write_csv(folder / "flagged.csv", [scored_row(1, "A", "", None, "empty text")])


def bad_json(folder: Path) -> Path:
    path = folder / "bad.jsonl"
    first = json.dumps(scored_row(1, "A", "2021", "support"))
    path.write_text(f"{first}\nnot json\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("make", "options", "expected"),
    [
        (lambda d: d / "absent.csv", [], "not found; give the file `stance score` wrote"),
        (empty_file, [], "empty.csv is empty"),
        (header_only, [], "has a header but no rows"),
        (plain_quotes, [], "is not a scored file (no stance_score column)"),
        (lacking_a_column, [], "lacks the column(s) stance_p_oppose"),
        (lambda d: d, [], "is a folder with no .csv, .jsonl or .parquet parts"),
        (not_a_number, [], "line 2: stance_score 'high' is not a number in [-1, 1]"),
        (all_flagged, [], "none of the 1 rows"),
        (bad_json, [], "bad.jsonl line 2: not valid JSON"),
        (None, ["--by", "party"], "--by party: "),
        (None, ["--date-column", "when"], "--date-column when: "),
        (None, ["--compare", "2021"], "give two periods as FROM:TO"),
        (None, ["--compare", "2021-2023"], "give two periods as FROM:TO"),
        (None, ["--compare", "20x1:2023"], "'20x1' is not a date in a known form"),
        (None, ["--compare", "2021-01-05:2023"], "is not a year, quarter or month"),
        (None, ["--compare", "2023:2021"], "FROM comes after TO"),
        (None, ["--compare", "2021:2021-06"], "the two periods overlap"),
        (None, ["--compare", "2019:2023"], "no dated statement falls in 2019"),
        (None, ["--min-n", "0"], "--min-n 0: give at least 1"),
        (None, ["-o", "/nonexistent/r.html"], "the folder /nonexistent does not exist"),
    ],
)
def test_report_errors_are_one_clear_line(tmp_path, trends, capsys, make, options, expected):
    """Each unusable input or option: exit 1, one line naming the problem, no traceback."""
    source = make(tmp_path) if make else trends
    line = run_failing(["report", str(source), "-o", str(tmp_path / "r.html"), *options], capsys)
    assert expected in line
    assert not (tmp_path / "r.html").exists()


def test_report_compare_needs_a_date_column(tmp_path, capsys):
    """--compare on a file without dates names --date-column."""
    rows = [{k: v for k, v in r.items() if k != "date"} for r in trend_rows()]
    source = write_csv(tmp_path / "undated.csv", rows)
    line = run_failing(["report", str(source), "--compare", "2021:2023"], capsys)
    assert "--compare needs dates" in line and "--date-column" in line


def test_report_parquet_without_pyarrow_names_the_extra(tmp_path, capsys, monkeypatch):
    """Without pyarrow, a Parquet file is a one-line error naming the parquet extra."""
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    source = tmp_path / "s.parquet"
    source.write_bytes(b"PAR1")
    line = run_failing(["report", str(source)], capsys)
    assert "needs the parquet extra (pyarrow)" in line and "[parquet]" in line


def test_report_without_speaker_or_date_still_reports(tmp_path):
    """A scored file with neither speaker nor date gives the overall figures and says why
    the other sections are missing."""
    rows = [{k: v for k, v in r.items() if k not in ("speaker", "date")} for r in trend_rows()]
    source = write_csv(tmp_path / "bare.csv", rows)
    assert 0 == main(["report", str(source)])
    html = (tmp_path / "bare.report.html").read_text(encoding="utf-8")
    assert "No date column" in html and "name the column to group by with <code>--by</code>" in html


def test_readme_documents_the_report_command():
    """The README's Reports section shows the command and a screenshot in docs/."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Reports", 1)[1].split("\n## ", 1)[0]
    assert "stance report" in section
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", section)
    assert images and all((ROOT / image).is_file() for image in images)
