"""Parquet in, Parquet out (`model.batch_parquet` through `stance score`): every row once, in
order, original columns untouched, score columns typed, and rows that cannot be scored flagged
in place, exactly as the CSV scorer scores the same statements."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cli.main import main as stance_main
from model.batch import output_columns

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (the parquet extra)")
pq = pytest.importorskip("pyarrow.parquet")

TEXTS = [
    "Ukraine belongs in NATO, and the invitation should come this year.",
    None,
    "   ",
    "Kyiv must never join the alliance.",
    "Foreign ministers meet in Brussels on Tuesday.",
    "Україна в НАТО!",
    "We will never give up our course toward NATO.",
]


def write_input(path: Path, row_group_size: int = 3) -> Path:
    table = pa.table(
        {
            "id": pa.array(range(len(TEXTS)), type=pa.int32()),
            "text": pa.array(TEXTS, type=pa.string()),
            "when": pa.array([f"2024-0{i % 9 + 1}-01" for i in range(len(TEXTS))]),
        }
    )
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def score(model_dir: Path, *args: object) -> int:
    return stance_main(["score", *map(str, args), "--model-dir", str(model_dir), "--quiet"])


@pytest.mark.parametrize(("jobs", "chunk_rows"), [(1, 2000), (1, 2), (2, 2)])
def test_parquet_scores_every_row_in_order_like_the_csv_scorer(
    model_dir: Path, tmp_path: Path, jobs: int, chunk_rows: int
) -> None:
    """Rows, order, original columns and types, typed score columns, nulls and `error` for
    rows with no text, and the same values as the CSV scorer gives for the same rows."""
    source = write_input(tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    args = ["--jobs", jobs, "--chunk-rows", chunk_rows]
    assert 0 == score(model_dir, source, "-o", out, *args)
    table = pq.read_table(out)
    assert ["id", "text", "when", *output_columns()] == table.column_names
    assert pa.int32() == table.schema.field("id").type
    assert pa.float64() == table.schema.field("stance_score").type
    assert pa.string() == table.schema.field("stance").type
    assert list(range(len(TEXTS))) == table.column("id").to_pylist()
    assert TEXTS == table.column("text").to_pylist()
    errors = table.column("error").to_pylist()
    assert [None, "missing text", "empty text", None, None, None, None] == errors
    assert [None, None] == table.column("stance").to_pylist()[1:3]

    csv_in = tmp_path / "in.csv"
    with csv_in.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["text"]] + [[t] for t in TEXTS if t and t.strip()])
    assert 0 == score(model_dir, csv_in, "-o", tmp_path / "out.csv")
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as handle:
        expected = list(csv.DictReader(handle))
    scored = [row for row in table.to_pylist() if row["error"] is None]
    assert len(expected) == len(scored)
    for want, got in zip(expected, scored, strict=True):
        assert want["stance"] == got["stance"]
        assert want["sentiment"] == got["sentiment"]
        assert float(want["stance_p_support"]) == got["stance_p_support"]
        assert float(want["sentiment_score"]) == got["sentiment_score"]


def test_explain_and_prefix_add_their_columns(model_dir: Path, tmp_path: Path) -> None:
    """--explain adds the feature columns (strings) before `error`; --prefix names them all."""
    source = write_input(tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    assert 0 == score(model_dir, source, "-o", out, "--explain", "--prefix", "m_")
    table = pq.read_table(out)
    assert output_columns("m_", explain=True) == table.column_names[3:]
    assert table.column("m_stance_features").to_pylist()[0]


def test_parquet_errors_are_clear_and_write_nothing(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An output column already in the input, a missing text column, Parquet to another format
    and a file that is not Parquet: one clear line each, and no output file."""
    source = write_input(tmp_path / "in.parquet")
    collide = tmp_path / "collide.parquet"
    pq.write_table(pa.table({"text": ["a"], "stance": ["x"]}), collide)
    no_text = tmp_path / "no_text.parquet"
    pq.write_table(pa.table({"body": ["a"]}), no_text)
    fake = tmp_path / "fake.parquet"
    fake.write_text("id,text\n1,hello\n", encoding="utf-8")
    cases = [
        (collide, tmp_path / "a.parquet", "already has output column(s) 'stance'"),
        (no_text, tmp_path / "b.parquet", "no text column found"),
        (source, tmp_path / "c.csv", "Parquet is scored into Parquet"),
        (fake, tmp_path / "d.parquet", "not a readable Parquet file"),
    ]
    for given, out, message in cases:
        assert 0 != score(model_dir, given, "-o", out)
        err = capsys.readouterr().err
        assert message in err
        assert "Traceback" not in err
        assert not out.exists()
        assert [] == list(tmp_path.glob(f".{out.name}*"))
