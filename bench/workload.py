"""Distinct, real-length statements for load tests, built from the corpus.

Each statement joins the opening of one corpus sentence to the ending of another, so lengths
and vocabulary are those of real statements and no two requests repeat (no cache can help).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from pathlib import Path

from training.dataset import load_labelled_csv
from training.train import DEFAULT_DATA


def statements(n: int, seed: int = 0, data: Path = DEFAULT_DATA) -> Iterator[str]:
    texts = load_labelled_csv(data).texts
    rng = random.Random(seed)
    for i in range(n):
        head, tail = rng.choice(texts).split(), rng.choice(texts).split()
        cut_head = rng.randint(1, max(1, len(head) * 2 // 3))
        cut_tail = rng.randint(0, len(tail) // 2)
        yield " ".join(head[:cut_head] + tail[cut_tail:]) + f" ({i})"


def write_csv(path: Path, n: int, seed: int = 0) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "source"])
        for i, text in enumerate(statements(n, seed)):
            writer.writerow([i, text, "bench"])
    return path


def write_bodies(path: Path, requests: int, per_request: int, seed: int = 0) -> Path:
    """One JSON request body per line: {"text"} for single quotes, {"texts"} for batches."""
    source = statements(requests * per_request, seed)
    with path.open("w", encoding="utf-8") as handle:
        for _ in range(requests):
            batch = [next(source) for _ in range(per_request)]
            body = {"text": batch[0]} if per_request == 1 else {"texts": batch}
            handle.write(json.dumps(body) + "\n")
    return path
