"""`stance score --dask local` against the single-machine scorer on the same files.

N rows in 8 CSV files: one process (`--jobs 1`, file after file), the single-machine scorer on
all cores (`--jobs` default), and `--dask local` (one single-threaded worker process per core)
on the glob of the 8 files. Each is timed from process start to finish with its peak RSS (the
largest single process, as /usr/bin/time -v reports it). The per-task overhead is measured by
running the same rows in many small partitions and in 8 large ones; the fixed cost (starting
the cluster, the workers loading the model) by a run on 8 rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.speed import BIN, time_command
from bench.workload import write_csv

FILES = 8


def _write_files(folder: Path, rows: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_csv(folder / f"part{i}.csv", rows // FILES, seed=10 + i) for i in range(FILES)]


def _stance(*args: str) -> list[str]:
    return [str(BIN / "stance"), "score", *args, "--quiet"]


def _single_process(files: list[Path], out: Path, model_env: dict[str, str]) -> dict[str, float]:
    """One `stance score --jobs 1` process per file, one after another: summed time, max peak."""
    seconds, peak = 0.0, 0.0
    for path in files:
        result = time_command(
            _stance(str(path), "-o", str(out / f"{path.stem}.scored.csv"), "--jobs", "1"),
            env=model_env,
        )
        seconds += result["seconds"]
        peak = max(peak, result["peak_mb"])
    return {"seconds": round(seconds, 2), "peak_mb": peak}


def _all_cores(files: list[Path], out: Path, model_env: dict[str, str]) -> dict[str, float]:
    """`stance score` with its default --jobs (all cores), file after file."""
    seconds, peak = 0.0, 0.0
    for path in files:
        result = time_command(
            _stance(str(path), "-o", str(out / f"{path.stem}.all.csv")), env=model_env
        )
        seconds += result["seconds"]
        peak = max(peak, result["peak_mb"])
    return {"seconds": round(seconds, 2), "peak_mb": peak}


def dask_benchmark(work: Path, model_dir: Path, sizes: list[int]) -> dict[str, Any]:
    env = {"STANCE_MODEL_DIR": str(model_dir)}
    results: dict[str, Any] = {}
    _write_files(work / "tiny", FILES)
    fixed = time_command(
        _stance(str(work / "tiny" / "*.csv"), "-o", str(work / "tiny-out"), "--dask", "local"),
        env=env,
    )
    results["fixed_cost_s"] = fixed["seconds"]
    for rows in sizes:
        folder = work / f"in{rows}"
        files = _write_files(folder, rows)
        out = work / f"out{rows}"
        out.mkdir()
        single = _single_process(files, out, env)
        machine = _all_cores(files, out, env)
        dask_large = time_command(
            _stance(
                str(folder / "*.csv"),
                "-o",
                str(work / f"dask{rows}"),
                "--dask",
                "local",
                "--partition-rows",
                str(rows // FILES),
            ),
            env=env,
        )
        small_rows = max(1000, rows // (FILES * 16))
        dask_small = time_command(
            _stance(
                str(folder / "*.csv"),
                "-o",
                str(work / f"dask{rows}s"),
                "--dask",
                "local",
                "--partition-rows",
                str(small_rows),
            ),
            env=env,
        )
        tasks_small = FILES * -(-(rows // FILES) // small_rows)
        for result in (single, machine, dask_large, dask_small):
            result["rows_per_s"] = round(rows / result["seconds"], 1)
        results[str(rows)] = {
            "single_process": single,
            "single_machine_all_cores": machine,
            "dask_local_8_tasks": dask_large,
            f"dask_local_{tasks_small}_tasks": dask_small,
            "dask_vs_single_process": round(dask_large["rows_per_s"] / single["rows_per_s"], 2),
            "per_task_overhead_s": round(
                (dask_small["seconds"] - dask_large["seconds"]) / (tasks_small - FILES), 4
            ),
        }
    return results
