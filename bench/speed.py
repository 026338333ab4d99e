"""Speed benchmarks: the service under wrk and batch scoring under /usr/bin/time, each run
against the naive baseline in the same session on the same machine."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.server import GunicornServer
from bench.workload import write_bodies, write_csv

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LUA = Path(__file__).with_name("wrk_bodies.lua")
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass
class LoadResult:
    requests_per_s: float
    items_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def parse_wrk(output: str, per_request: int) -> LoadResult:
    def latency(percentile: str) -> float:
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        return float(match.group(1)) * UNITS[match.group(2)] if match else float("nan")

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(map(int, sockets.groups())) if sockets else 0
    )
    return LoadResult(
        round(rps, 1),
        round(rps * per_request, 1),
        round(latency("50"), 2),
        round(latency("99"), 2),
        errors,
        total,
    )


def run_wrk(
    url: str, bodies: Path, seconds: int, connections: int = 8, per_request: int = 1
) -> LoadResult:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(LUA), url]
    output = subprocess.run(
        command,
        env={**os.environ, "BODIES": str(bodies)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_wrk(output, per_request)


def service_benchmark(
    work: Path, model_dir: Path, naive_model: Path, seconds: int
) -> dict[str, Any]:
    """Single quotes and batches of 100, ours vs naive, 8 connections, distinct statements."""
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (Debian package wrk: apt-get install wrk)"}
    singles = write_bodies(work / "single.jsonl", 20_000, 1, seed=1)
    batches = write_bodies(work / "batch100.jsonl", 400, 100, seed=2)
    results: dict[str, Any] = {}
    servers = {
        "ours": {
            "model_dir": model_dir,
            "env": {"STANCE_LOG_LEVEL": "warning", "STANCE_MAX_TEXTS": "1000"},
        },
        "naive": {
            "app": f"bench.naive:create_naive_app('{naive_model}')",
            "config": None,
            "ready_path": "/",
            "ready_status": None,
        },
    }
    for name, options in servers.items():
        with GunicornServer.start(work / name, **options) as server:
            url = server.url + "/v1/score"
            run_wrk(url, singles, 2)  # warm-up
            results[name] = {
                "single": asdict(run_wrk(url, singles, seconds)),
                "batch100": asdict(run_wrk(url, batches, seconds, per_request=100)),
            }
    for kind in ("single", "batch100"):
        naive = results["naive"][kind]["items_per_s"]
        results[f"speedup_{kind}"] = (
            round(results["ours"][kind]["items_per_s"] / naive, 2) if naive else None
        )
    return results


def time_command(command: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall time and peak RSS (MB) of a command under /usr/bin/time -v."""
    timed = ["/usr/bin/time", "-v", *command]
    completed = subprocess.run(
        timed, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {completed.stderr[-2000:]}")
    wall = re.search(
        r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)",
        completed.stderr,
    )
    hours, minutes, seconds = (float(g) if g else 0.0 for g in wall.groups())
    peak_kb = int(
        re.search(r"Maximum resident set size \(kbytes\): (\d+)", completed.stderr).group(1)
    )
    return {
        "seconds": round(hours * 3600 + minutes * 60 + seconds, 2),
        "peak_mb": round(peak_kb / 1024, 1),
    }


def batch_benchmark(
    work: Path, model_dir: Path, naive_model: Path, sizes: list[int]
) -> dict[str, Any]:
    """End-to-end rows/s (process start to finish) and peak memory, ours vs naive."""
    results: dict[str, Any] = {}
    for rows in sizes:
        data = write_csv(work / f"rows{rows}.csv", rows, seed=3)
        ours = time_command(
            [
                str(BIN / "stance"),
                "score",
                str(data),
                "-o",
                str(work / f"ours{rows}.csv"),
                "--quiet",
            ],
            env={"STANCE_MODEL_DIR": str(model_dir)},
        )
        naive = time_command(
            [
                sys.executable,
                "-m",
                "bench.naive",
                str(naive_model),
                str(data),
                str(work / f"naive{rows}.csv"),
            ]
        )
        for result in (ours, naive):
            result["rows_per_s"] = round(rows / result["seconds"], 1)
        results[str(rows)] = {
            "ours": ours,
            "naive": naive,
            "speedup": round(ours["rows_per_s"] / naive["rows_per_s"], 2),
        }
        for path in work.glob(f"*{rows}.csv"):
            path.unlink()
    return results
