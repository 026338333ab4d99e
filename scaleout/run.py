"""The client side: plan the partitions, run them on a Dask cluster, write `_SUCCESS` last.

`local` starts a `distributed.LocalCluster` with one single-threaded worker process per core
(text featurisation holds the GIL, so processes, not threads); an address such as
`tcp://host:8786` joins a cluster started with `dask scheduler` and `dask worker`. The workers
read the input files and the model directory, and write the parts, at the same paths as the
client: on several machines these live on a shared filesystem.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.batch import BatchInputError, BatchOptions, default_jobs
from model.errors import BatchInterrupted
from model.store import ModelStore
from scaleout.partitions import input_files, plan
from scaleout.tasks import Job, project_version, score_partition

SUCCESS = "_SUCCESS"
DEFAULT_PARTITION_ROWS = 100_000


@dataclass
class DaskResult:
    rows: int
    flagged: int
    parts: int
    seconds: float
    output: str

    def summary_line(self) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else 0.0
        return (
            f"scored {self.rows - self.flagged:,} of {self.rows:,} rows, flagged {self.flagged:,}, "
            f"in {self.parts:,} parts, {self.seconds:.1f} s ({rate:,.0f} rows/s) -> {self.output}"
        )


@contextlib.contextmanager
def connect(scheduler: str, say: Callable[[str], None]) -> Iterator[Any]:
    """A distributed Client on a new LocalCluster (`local`) or on the scheduler's address."""
    from distributed import Client, LocalCluster

    if scheduler == "local":
        with (
            LocalCluster(  # ":0": any free port for its HTTP server, never a clash on 8787
                n_workers=default_jobs(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
            ) as cluster,
            Client(cluster) as client,
        ):
            say(_describe(client))
            yield client
        return
    try:
        client = Client(scheduler, timeout="10s")
    except OSError as exc:
        raise BatchInputError(
            f"cannot reach the Dask scheduler at {scheduler} ({exc}); start it with "
            "`dask scheduler` and workers with `dask worker ADDRESS`, or use --dask local"
        ) from exc
    with client:
        say(_describe(client))
        yield client


def _has_bokeh() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


def _describe(client: Any) -> str:
    workers = len(client.scheduler_info().get("workers", {}))
    dashboard = client.dashboard_link if _has_bokeh() else "none (pip install bokeh for one)"
    return f"dask: {workers} workers at {client.scheduler.address}; dashboard: {dashboard}"


def prepare_output(out_dir: Path) -> None:
    """Make the folder; remove a previous run's parts and `_SUCCESS` (a re-run overwrites)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise BatchInputError(f"output {out_dir} is a file; --dask writes a directory of parts")
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in [out_dir / SUCCESS, *out_dir.glob("part-*"), *out_dir.glob(".part-*.partial")]:
        old.unlink(missing_ok=True)


def score_on_dask(
    input_spec: str,
    output: str,
    scheduler: str,
    model_dir: str | Path | None = None,
    model_version: str | None = None,
    options: BatchOptions | None = None,
    partition_rows: int = DEFAULT_PARTITION_ROWS,
    progress: bool = False,
    say: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
    expected_project: str | None = None,
) -> DaskResult:
    """Score every row of INPUT into OUTPUT/part-*.{csv,jsonl,parquet}, then `_SUCCESS`.

    Each task scores its partition in one process with `options` (its `jobs` and `encoding`
    do not apply: the cluster's workers are the parallelism, and the input is UTF-8)."""
    if partition_rows < 1:
        raise BatchInputError("--partition-rows must be at least 1")
    started = time.perf_counter()
    store = ModelStore(model_dir)
    metadata = store.verify(model_version)
    files = input_files(input_spec)
    out_dir = Path(output).resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise BatchInputError(f"output {output} is a file; --dask writes a directory of parts")
    if any(path.parent == out_dir for path in files):
        raise BatchInputError("the output directory holds the input files; choose another")
    partitions = plan(files, partition_rows)
    job = Job(
        model_dir=str(store.root.resolve()),
        model_version=str(metadata["version"]),
        model_sha256=str(metadata["sha256"]),
        project_version=expected_project or project_version(),
        options=dataclasses.replace(options or BatchOptions(), jobs=1, encoding="utf-8"),
        out_dir=str(out_dir),
        width=max(5, len(str(len(partitions) - 1))),
    )
    with connect(scheduler, say) as client:  # an unreachable cluster leaves the folder as it was
        prepare_output(out_dir)
        results = _run(client, job, partitions, progress)
    rows = sum(r["rows"] for r in results)
    flagged = sum(r["flagged"] for r in results)
    _write_success(out_dir, job, results, rows, flagged)
    return DaskResult(rows, flagged, len(results), time.perf_counter() - started, str(out_dir))


def _run(client: Any, job: Job, partitions: list[Any], progress: bool) -> list[dict[str, Any]]:
    from distributed import as_completed

    futures = [
        client.submit(score_partition, job, part, key=f"stance-part-{part.index}", pure=False)
        for part in partitions
    ]
    bar = None
    if progress:
        from tqdm import tqdm

        total = sum(part.rows for part in partitions)
        bar = tqdm(total=total, unit=" rows", unit_scale=True, file=sys.stderr, mininterval=0.5)
    try:
        for future in as_completed(futures):
            result = future.result()  # the first failure stops the run with its own message
            if bar is not None:
                bar.update(result["rows"])
        return [future.result() for future in futures]
    except KeyboardInterrupt as exc:
        client.cancel(futures)
        raise BatchInterrupted(
            "interrupted (Ctrl-C): the parts written are incomplete, no _SUCCESS"
        ) from exc
    except BaseException:
        client.cancel(futures)
        raise
    finally:
        if bar is not None:
            bar.close()


def _write_success(
    out_dir: Path, job: Job, results: list[dict[str, Any]], rows: int, flagged: int
) -> None:
    """`_SUCCESS` last: its presence means every part is complete. It says what is there."""
    record = {
        "rows": rows,
        "flagged": flagged,
        "parts": [r["part"] for r in results],
        "model_version": job.model_version,
        "project_version": job.project_version,
    }
    temporary = out_dir / f".{SUCCESS}.partial"
    temporary.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, out_dir / SUCCESS)
