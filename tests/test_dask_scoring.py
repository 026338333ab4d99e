"""`stance score --dask`: on a LocalCluster and on a real `dask scheduler` with two `dask
worker` processes on loopback ports, every input row comes out once, in order, with the same
columns and `error` semantics as the single-machine scorer, in parts whose sorted names give the
input order, with `_SUCCESS` written last."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.server import free_port
from cli.main import main as stance_main
from model.batch import BatchInputError
from model.batch_files import score_file
from model.store import ModelStore

distributed = pytest.importorskip("distributed", reason="dask is not installed (the dask extra)")
pq = pytest.importorskip("pyarrow.parquet")

from scaleout.run import SUCCESS, score_on_dask  # noqa: E402  (needs the dask extra)
from scaleout.tasks import VersionMismatch  # noqa: E402

pytestmark = pytest.mark.slow

DASK = Path(sys.executable).with_name("dask")
TEXTS = [
    "Ukraine belongs in NATO.",
    "Kyiv must never join the alliance,\nthe minister said.",
    "",
    'He said "never", and meant it.',
    "Foreign ministers meet on Tuesday.",
]


class Cluster:
    """A `dask scheduler` and two single-threaded `dask worker` processes on loopback."""

    def __init__(self, home: Path) -> None:
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        common = ["--no-dashboard"]
        self.scheduler = self._start(
            home / "scheduler.log",
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(self.port), *common],
        )
        self.workers = [
            self._start(
                home / f"worker{i}.log",
                [str(DASK), "worker", self.address, "--nthreads", "1", "--name", f"w{i}", *common],
            )
            for i in range(2)
        ]
        with distributed.Client(self.address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=60)

    @staticmethod
    def _start(log: Path, argv: list[str]) -> subprocess.Popen[bytes]:
        handle = log.open("wb")
        return subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                process.terminate()
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    instance = Cluster(tmp_path_factory.mktemp("dask"))
    yield instance
    instance.stop()


def write_csvs(folder: Path, files: int = 3, rows: int = 40) -> list[Path]:
    paths = []
    for f in range(files):
        path = folder / f"in{f}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "text"])
            writer.writerows([f"{f}-{i}", TEXTS[(i + f) % len(TEXTS)]] for i in range(rows))
        paths.append(path)
    return paths


def single_machine_rows(model_dir: Path, inputs: list[Path], tmp: Path) -> list[list[str]]:
    """Data rows of the single-machine scorer's outputs, file after file (headers dropped)."""
    model = ModelStore(model_dir).load()
    rows: list[list[str]] = []
    for path in inputs:
        out = tmp / f"{path.stem}.single.csv"
        score_file(model, str(path), str(out))
        rows += read_csv(out)[1:]
    return rows


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def part_rows(out: Path) -> list[list[str]]:
    rows: list[list[str]] = []
    header = None
    for part in sorted(out.glob("part-*.csv")):
        content = read_csv(part)
        header = header or content[0]
        assert header == content[0]  # every part is a whole CSV with the same columns
        rows += content[1:]
    return rows


def test_local_cluster_gives_the_single_machine_rows_in_order(
    model_dir: Path, tmp_path: Path
) -> None:
    """`--dask local` over a glob of CSV files: the parts, read in name order, are exactly
    the single-machine scorer's rows, file after file; `_SUCCESS` counts them."""
    inputs = write_csvs(tmp_path)
    out = tmp_path / "out"
    argv = ["score", str(tmp_path / "in*.csv"), "-o", str(out), "--dask", "local"]
    argv += ["--partition-rows", "15", "--model-dir", str(model_dir), "--quiet"]
    assert 0 == stance_main(argv)
    assert single_machine_rows(model_dir, inputs, tmp_path) == part_rows(out)
    assert 9 == len(list(out.glob("part-*.csv")))  # 40 rows in 15s: 3 parts per file
    success = json.loads((out / SUCCESS).read_text(encoding="utf-8"))
    assert 120 == success["rows"]
    assert 24 == success["flagged"]  # the empty texts, flagged in place


def test_a_real_cluster_gives_the_single_machine_rows_in_order(
    cluster: Cluster, model_dir: Path, tmp_path: Path
) -> None:
    """The same on a cluster started with `dask scheduler` and `dask worker`."""
    inputs = write_csvs(tmp_path)
    result = score_on_dask(
        str(tmp_path), str(tmp_path / "out"), cluster.address, model_dir, partition_rows=7
    )
    assert 120 == result.rows
    assert single_machine_rows(model_dir, inputs, tmp_path) == part_rows(tmp_path / "out")


def test_json_lines_and_parquet_parts_keep_their_format(
    cluster: Cluster, model_dir: Path, tmp_path: Path
) -> None:
    """JSON Lines in, JSON Lines parts out; Parquet in, Parquet parts out; same rows."""
    model = ModelStore(model_dir).load()
    jsonl = tmp_path / "j" / "in.jsonl"
    jsonl.parent.mkdir()
    jsonl.write_text(
        "".join(json.dumps({"id": i, "text": TEXTS[i % 5]}) + "\n" for i in range(30)),
        encoding="utf-8",
    )
    score_on_dask(str(jsonl), str(tmp_path / "jout"), cluster.address, model_dir, partition_rows=8)
    single = tmp_path / "single.jsonl"
    score_file(model, str(jsonl), str(single))
    parts = sorted((tmp_path / "jout").glob("part-*.jsonl"))
    assert 4 == len(parts)
    assert single.read_text(encoding="utf-8") == "".join(p.read_text("utf-8") for p in parts)

    import pyarrow as pa

    source = tmp_path / "p" / "in.parquet"
    source.parent.mkdir()
    table = pa.table({"id": list(range(30)), "text": [TEXTS[i % 5] for i in range(30)]})
    pq.write_table(table, source, row_group_size=5)
    score_on_dask(
        str(source), str(tmp_path / "pout"), cluster.address, model_dir, partition_rows=10
    )
    parts = sorted((tmp_path / "pout").glob("part-*.parquet"))
    assert 3 == len(parts)
    single = tmp_path / "single.parquet"
    score_file(model, str(source), str(single))
    combined = pa.concat_tables([pq.read_table(p) for p in parts])
    assert pq.read_table(single).equals(combined)


def test_a_rerun_overwrites_the_previous_parts(
    cluster: Cluster, model_dir: Path, tmp_path: Path
) -> None:
    """Re-running into the same folder leaves only the new run's parts."""
    write_csvs(tmp_path, files=1)
    out = tmp_path / "out"
    score_on_dask(str(tmp_path / "in0.csv"), str(out), cluster.address, model_dir, partition_rows=5)
    assert 8 == len(list(out.glob("part-*")))
    score_on_dask(
        str(tmp_path / "in0.csv"), str(out), cluster.address, model_dir, partition_rows=20
    )
    assert 2 == len(list(out.glob("part-*")))
    assert 40 == len(part_rows(out))


def test_a_bad_row_stops_the_run_with_its_file_and_no_success(
    cluster: Cluster, model_dir: Path, tmp_path: Path
) -> None:
    """A malformed row fails its part; the error names the file, and no `_SUCCESS` appears."""
    (tmp_path / "in.csv").write_text("id,text\n1,fine\n2,too,many,fields\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(BatchInputError) as failure:
        score_on_dask(str(tmp_path / "in.csv"), str(out), cluster.address, model_dir)
    assert "in.csv" in str(failure.value) and "fields but the header has 2" in str(failure.value)
    assert not (out / SUCCESS).exists()


def test_a_worker_on_another_project_version_is_a_clear_error(
    cluster: Cluster, model_dir: Path, tmp_path: Path
) -> None:
    """Workers compare their project version with the client's; a mismatch names both."""
    write_csvs(tmp_path, files=1)
    with pytest.raises(VersionMismatch) as failure:
        score_on_dask(
            str(tmp_path / "in0.csv"),
            str(tmp_path / "out"),
            cluster.address,
            model_dir,
            expected_project="0.0.0-elsewhere",
        )
    message = str(failure.value)
    assert "0.0.0-elsewhere" in message and "make install" in message
    assert not (tmp_path / "out" / SUCCESS).exists()


def test_a_killed_worker_loses_and_duplicates_nothing(
    model_dir: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """A worker killed mid-run: its tasks run again on the other worker; every row once."""
    inputs = write_csvs(tmp_path, files=4, rows=400)
    own = Cluster(tmp_path_factory.mktemp("dask-kill"))
    out = tmp_path / "out"
    try:
        outcome: dict[str, object] = {}

        def run() -> None:
            try:
                outcome["result"] = score_on_dask(
                    str(tmp_path / "in*.csv"), str(out), own.address, model_dir, partition_rows=20
                )
            except BaseException as exc:  # reported by the assertion below
                outcome["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 60
        while not list(out.glob("part-*.csv")) and time.monotonic() < deadline:
            time.sleep(0.02)
        victim = own.workers[0]
        for child in _children(victim.pid):
            os.kill(child, signal.SIGKILL)
        victim.kill()
        thread.join(timeout=120)
        assert "error" not in outcome, outcome.get("error")
        assert (out / SUCCESS).exists()
        assert single_machine_rows(model_dir, inputs, tmp_path) == part_rows(out)
    finally:
        own.stop()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def test_the_output_must_be_a_directory_named_with_o(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dask without -o, or with a file as -o: one clear line, nothing run."""
    write_csvs(tmp_path, files=1)
    source = str(tmp_path / "in0.csv")
    assert 2 == stance_main(["score", source, "--dask", "local", "--model-dir", str(model_dir)])
    assert "name it with -o DIR" in capsys.readouterr().err
    (tmp_path / "file").write_text("x", encoding="utf-8")
    argv = ["score", source, "-o", str(tmp_path / "file"), "--dask", "local"]
    assert 1 == stance_main([*argv, "--model-dir", str(model_dir)])
    assert "is a file; --dask writes a directory of parts" in capsys.readouterr().err
