"""`make bench` / `python -m bench`: accuracy and speed benchmarks, one table, one JSON file."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.naive import train_naive
from bench.speed import batch_benchmark, service_benchmark
from model.store import ModelStore
from training.dataset import load_labelled_csv
from training.evaluation import evaluation_report
from training.train import (
    DEFAULT_CHALLENGE,
    DEFAULT_DATA,
    DEFAULT_DEV,
    behaviour_suite,
    evaluate_labelled,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SHARED = ROOT.parent / "shared" / "benchmarks"


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def training_run(work: Path) -> dict[str, Any]:
    """`stance train` on the default corpus, timed end to end into a scratch model directory."""
    command = [str(Path(sys.executable).parent / "stance"), "train", "--out", str(work / "models")]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"stance train failed: {completed.stderr[-2000:]}")
    metadata = ModelStore(work / "models").read_metadata()
    return {
        "seconds": round(seconds, 1),
        "rows": metadata["training_data"]["rows"],
        "version": metadata["version"],
    }


def accuracy(model_dir: Path, tweeteval: Path) -> dict[str, Any]:
    model = ModelStore(model_dir).load()
    cv = model.metadata["cv_metrics"]
    challenge = evaluate_labelled(model, load_labelled_csv(DEFAULT_CHALLENGE))
    result: dict[str, Any] = {
        "model": model.version,
        "corpus_cv": {
            head: {"macro_f1": cv[head]["macro_f1"], "f_avg": cv[head]["f_avg"]} for head in cv
        },
        "challenge": {
            head: {"macro_f1": m["macro_f1"], "f_avg": m["f_avg"]} for head, m in challenge.items()
        },
    }
    if DEFAULT_DEV.exists():
        dev = evaluation_report(model, load_labelled_csv(DEFAULT_DEV))
        result["real_dev"] = {
            head: {"macro_f1": m["macro_f1"], "f_avg": m["f_avg"]}
            for head, m in dev["metrics"].items()
        }
        high = dev.get("high_confidence")
        if high:
            result["real_dev_high_confidence"] = {
                head: {"macro_f1": m["macro_f1"], "f_avg": m["f_avg"]}
                for head, m in high["metrics"].items()
            }
    result["behaviour"] = behaviour_suite(model, None).rates
    try:
        from training.benchmark import run_tweeteval_sentiment, run_tweeteval_stance
    except ImportError:  # the public benchmark module is optional
        return result
    if (tweeteval / "tweeteval-stance").is_dir():
        result["tweeteval_stance_val"] = run_tweeteval_stance(
            tweeteval / "tweeteval-stance", split="val"
        )
    if (tweeteval / "tweeteval-sentiment").is_dir():
        result["tweeteval_sentiment_val"] = run_tweeteval_sentiment(
            tweeteval / "tweeteval-sentiment", model
        )
    return result


def table(results: dict[str, Any]) -> str:
    lines = [
        f"benchmarks {results['date']} on {results['machine']['cpus']} x {results['machine']['cpu']}"
    ]
    if "training" in results:
        t = results["training"]
        lines.append(f"  make train (default corpus, {t['rows']} rows): {t['seconds']:.1f} s")
    acc = results.get("accuracy", {})
    for name in ("corpus_cv", "challenge", "real_dev", "real_dev_high_confidence"):
        if name in acc:
            m = acc[name]
            lines.append(
                f"  {name:<22} stance macro-F1 {m['stance']['macro_f1']:.3f}  F_avg {m['stance']['f_avg']:.3f}"
                f"  | sentiment macro-F1 {m['sentiment']['macro_f1']:.3f}"
            )
    if "behaviour" in acc:
        rates = ", ".join(f"{group} {rate:.1%}" for group, rate in acc["behaviour"].items())
        lines.append(f"  behavioural tests       {rates}")
    if "tweeteval_stance_val" in acc:
        lines.append(f"  tweeteval stance val    F_avg {acc['tweeteval_stance_val']['f_avg']:.2f}")
    if "tweeteval_sentiment_val" in acc:
        s = acc["tweeteval_sentiment_val"]
        lines.append(
            f"  tweeteval sentiment val macro-recall: ours {s['model_macro_recall']:.2f}  VADER {s['vader_macro_recall']:.2f}"
        )
    service = results.get("service", {})
    if "ours" in service:
        for kind in ("single", "batch100"):
            o, n = service["ours"][kind], service["naive"][kind]
            lines.append(
                f"  service {kind:<9} ours {o['items_per_s']:>8.0f} quotes/s p50 {o['p50_ms']:.2f} ms p99 {o['p99_ms']:.2f} ms"
                f" errors {o['errors']} | naive {n['items_per_s']:>8.0f} quotes/s p99 {n['p99_ms']:.2f} ms"
                f" | x{service[f'speedup_{kind}']}"
            )
    elif service:
        lines.append(f"  service: {service}")
    for rows, r in results.get("batch", {}).items():
        lines.append(
            f"  batch {int(rows):>9,} rows ours {r['ours']['rows_per_s']:>8.0f} rows/s peak {r['ours']['peak_mb']:.0f} MB"
            f" | naive {r['naive']['rows_per_s']:>8.0f} rows/s peak {r['naive']['peak_mb']:.0f} MB | x{r['speedup']}"
        )
    if "articles" in results:
        a = results["articles"]
        lines.append(
            f"  POST /v1/articles, {a['words']:,} words ({a['statements']} statements): median "
            f"{a['median_ms']:.0f} ms (finding {a['extract_median_ms']:.0f} ms, scoring {a['score_median_ms']:.0f} ms)"
        )
        g = a["gold"]
        lines.append(
            f"  gold articles ({g['articles']}): statements precision {g['precision']:.3f} recall {g['recall']:.3f},"
            f" speaker accuracy {g['speaker_accuracy']:.3f}, stance accuracy {g['statement_stance']['accuracy']:.3f},"
            f" per-speaker stance accuracy {g['speaker_stance_accuracy']:.3f}"
        )
    dask = results.get("dask", {})
    if dask:
        lines.append(
            f"  dask local fixed cost (start cluster, load model, 8 rows): {dask['fixed_cost_s']:.1f} s"
        )
    for rows, r in dask.items():
        if rows == "fixed_cost_s":
            continue
        runs = {k: v for k, v in r.items() if isinstance(v, dict)}
        for name, run in runs.items():
            lines.append(
                f"  dask {int(rows):>9,} rows {name:<28} {run['rows_per_s']:>8.0f} rows/s peak {run['peak_mb']:.0f} MB"
            )
        lines.append(
            f"  dask {int(rows):>9,} rows: dask/single process x{r['dask_vs_single_process']}, per-task overhead {r['per_task_overhead_s']:.3f} s"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only",
        choices=["accuracy", "service", "batch", "dask", "articles"],
        action="append",
        help="run only these parts",
    )
    parser.add_argument(
        "--seconds", type=int, default=15, help="duration of each wrk run (default: 15)"
    )
    parser.add_argument(
        "--rows", default="100000,1000000", help="batch sizes (default: 100000,1000000)"
    )
    parser.add_argument(
        "--dask-rows",
        default="1000000",
        help="rows for the Dask comparison, in 8 CSV files (default: 1000000; 4000000 takes ~30 min)",
    )
    parser.add_argument(
        "--tweeteval",
        type=Path,
        default=SHARED,
        help=f"folder with tweeteval-* data (default: {SHARED})",
    )
    args = parser.parse_args()
    parts = set(args.only or ["accuracy", "service", "batch", "dask", "articles"])
    model_dir = ModelStore().root
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
    }
    with tempfile.TemporaryDirectory(prefix="stance-bench-") as tmp:
        work = Path(tmp)
        if "accuracy" in parts:
            results["training"] = training_run(work)
            results["accuracy"] = accuracy(model_dir, args.tweeteval)
        if parts & {"service", "batch"}:
            naive = train_naive(DEFAULT_DATA, work / "naive.joblib")
            if "service" in parts:
                results["service"] = service_benchmark(work, model_dir, naive, args.seconds)
            if "batch" in parts:
                sizes = [int(x) for x in args.rows.split(",") if x.strip()]
                results["batch"] = batch_benchmark(work, model_dir, naive, sizes)
        if "articles" in parts:
            from bench.articles import articles_benchmark

            results["articles"] = articles_benchmark(model_dir)
        if "dask" in parts:
            from bench.dask_scale import dask_benchmark

            sizes = [int(x) for x in args.dask_rows.split(",") if x.strip()]
            results["dask"] = dask_benchmark(work, model_dir, sizes)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench-{results['date'].replace(':', '')}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
