"""`make soak` / `python -m bench.soak`: the real service under steady load for about a minute.

gunicorn with the repo's config (2 workers) serves the current model on loopback; wrk keeps a
fixed number of connections busy with POST /v1/score, every request a different statement
(bench/wrk_bodies.lua over bodies from bench.workload). The resident memory (VmRSS) of every
worker is sampled every few seconds. After a warm-up run, the soak passes when no request
failed, no worker was replaced, and no worker's memory grew by 10 % or more from the first
sample to the last. Prints a table, writes bench/results/soak-<date>.json, and exits 1 on a
failed check.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.server import GunicornServer, children
from bench.speed import LUA, ROOT, parse_wrk
from bench.workload import write_bodies
from model.store import ModelStore

RESULTS = ROOT / "bench" / "results"
MAX_GROWTH = 0.10


def rss_kb(pid: int) -> int | None:
    """VmRSS of a process in kB, or None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class Sampler:
    """Samples the RSS of every child of `master` every `interval` seconds in a thread."""

    master: int
    interval: float
    samples: list[dict[str, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self, started: float) -> None:
        workers = {pid: rss_kb(pid) for pid in sorted(children(self.master))}
        self.samples.append(
            {
                "t": round(time.monotonic() - started, 1),
                "rss_kb": {str(pid): kb for pid, kb in workers.items() if kb is not None},
            }
        )

    def start(self) -> None:
        started = time.monotonic()

        def loop() -> None:
            while True:
                self.sample(started)
                if self._stop.wait(self.interval):
                    break
            self.sample(started)  # the last sample, at the end of the run

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def growth(samples: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per worker seen in the first sample: first and last RSS and the relative growth."""
    first, last = samples[0]["rss_kb"], samples[-1]["rss_kb"]
    report = {}
    for pid, start in first.items():
        end = last.get(pid)
        peak = max(s["rss_kb"].get(pid, 0) for s in samples)
        report[pid] = {
            "first_mb": round(start / 1024, 1),
            "last_mb": round(end / 1024, 1) if end is not None else None,
            "peak_mb": round(peak / 1024, 1),
            "growth": round((end - start) / start, 4) if end is not None else None,
        }
    return report


def wrk(url: str, bodies: Path, seconds: int, connections: int) -> subprocess.Popen[str]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(LUA), url]
    return subprocess.Popen(
        command,
        env={**os.environ, "BODIES": str(bodies)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def scored_requests(base_url: str) -> float:
    """POST /v1/score 200 responses counted by the server (summed over workers)."""
    with urllib.request.urlopen(base_url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    total = 0.0
    for line in text.splitlines():
        if (
            line.startswith("stance_http_requests_total{")
            and 'endpoint="/v1/score"' in line
            and 'status="200"' in line
        ):
            total += float(line.rsplit(" ", 1)[1])
    return total


def soak(seconds: int, warmup: int, connections: int, interval: float) -> dict[str, Any]:
    model_dir = ModelStore().root
    version = ModelStore(model_dir).load().version
    # Enough distinct statements that none repeats below 3,000 requests/s (about 1,000/s
    # measured on 2 cores); the `distinct_statements` check says if one did.
    n_bodies = max(20_000, seconds * 3_000)
    with tempfile.TemporaryDirectory(prefix="stance-soak-") as tmp:
        work = Path(tmp)
        warm_bodies = write_bodies(work / "warmup.jsonl", max(2_000, warmup * 1_000), 1, seed=11)
        bodies = write_bodies(work / "soak.jsonl", n_bodies, 1, seed=12)
        env = {"STANCE_LOG_LEVEL": "warning"}
        with GunicornServer.start(work / "server", model_dir=model_dir, env=env) as server:
            url = server.url + "/v1/score"
            master = server.master
            boot = {str(pid): rss_kb(pid) for pid in sorted(server.workers())}  # before any request
            warm = wrk(url, warm_bodies, warmup, connections)
            warm.communicate()
            before = scored_requests(server.url)
            workers_before = sorted(server.workers())
            sampler = Sampler(master, interval)
            sampler.start()
            run = wrk(url, bodies, seconds, connections)
            output, errors = run.communicate()
            sampler.stop()
            if run.returncode != 0:
                raise RuntimeError(f"wrk failed ({run.returncode}): {errors[-2000:]}")
            counted = scored_requests(server.url) - before
            workers_after = sorted(server.workers())
            with urllib.request.urlopen(server.url + "/readyz", timeout=10) as response:
                ready_after = response.status
    load = parse_wrk(output, 1)
    memory = growth(sampler.samples)
    worst = max((m["growth"] for m in memory.values() if m["growth"] is not None), default=0.0)
    checks = {
        "no_errors": load.errors == 0,
        "workers_unchanged": workers_before == workers_after,
        "memory_growth_under_10pct": all(
            m["growth"] is not None and m["growth"] < MAX_GROWTH for m in memory.values()
        ),
        "every_request_counted": counted >= load.requests,
        "distinct_statements": load.requests <= n_bodies,
        "ready_after": ready_after == 200,
    }
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": version,
        "seconds": seconds,
        "warmup_seconds": warmup,
        "connections": connections,
        "workers": len(workers_before),
        "load": asdict(load),
        "server_counted_200": counted,
        "distinct_bodies": n_bodies,
        "boot_rss_kb": boot,
        "memory": memory,
        "worst_growth": worst,
        "samples": sampler.samples,
        "checks": checks,
        "passed": all(checks.values()),
        "wrk_output": output,
    }


def table(result: dict[str, Any]) -> str:
    load = result["load"]
    lines = [
        f"soak {result['date']}: model {result['model']}, {result['workers']} gunicorn workers, "
        f"wrk {result['connections']} connections for {result['seconds']} s "
        f"(after {result['warmup_seconds']} s warm-up)",
        f"  requests        {load['requests']:>10,}  ({load['requests_per_s']:,.0f}/s; server counted "
        f"{result['server_counted_200']:,.0f}; {result['distinct_bodies']:,} distinct statements)",
        f"  errors          {load['errors']:>10}",
        f"  latency         p50 {load['p50_ms']:.2f} ms   p99 {load['p99_ms']:.2f} ms",
        "  worker memory (VmRSS: at boot; first sample after warm-up -> last):",
    ]
    for pid, m in result["memory"].items():
        growth_text = f"{m['growth'] * 100:+.2f} %" if m["growth"] is not None else "worker gone"
        boot = result["boot_rss_kb"].get(pid)
        boot_text = f"{boot / 1024:7.1f} MB" if boot else "      ?   "
        lines.append(
            f"    pid {pid:>8}  boot {boot_text};  {m['first_mb']:7.1f} MB -> "
            f"{m['last_mb'] or 0:7.1f} MB  peak {m['peak_mb']:7.1f} MB  growth {growth_text}"
        )
    failed = [name for name, ok in result["checks"].items() if not ok]
    lines.append("  result          " + ("PASS" if not failed else "FAIL: " + ", ".join(failed)))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--seconds", type=int, default=60, help="load duration (default: 60)")
    parser.add_argument(
        "--warmup", type=int, default=10, help="warm-up load before sampling (default: 10)"
    )
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (default: 4)")
    parser.add_argument(
        "--interval", type=float, default=5.0, help="seconds between RSS samples (default: 5)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian package wrk: apt-get install wrk)")
    result = soak(args.seconds, args.warmup, args.connections, args.interval)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"soak-{result['date'].replace(':', '')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"written to {out.relative_to(ROOT)}")
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
