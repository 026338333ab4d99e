"""What a Dask worker runs: one partition scored into one part file.

The model is loaded once per worker process (verified by sha256 and library versions, as
`model.store` always does) and kept for the worker's life; tasks carry only the model directory,
version and hash. Each part is written to a temporary file and renamed into place, so a task
retried after a worker died rewrites its part instead of duplicating rows. The scoring itself
is the single-machine scorer's (`model.batch`, `model.batch_parquet`): same columns, same
`error` semantics.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from model.batch import BatchInputError, BatchOptions, BatchSummary, decoded_lines
from model.batch_files import atomic_output
from model.batch_formats import LINE_FORMATS, stream_scored
from model.batch_parquet import write_scored_parquet
from model.errors import ModelError
from model.store import LoadedModel, ModelStore
from scaleout.partitions import Partition

PROJECT = "ukraine-nato-stance"


class VersionMismatch(ModelError):
    """A worker runs another version of the project (or of the model) than the client."""


@dataclass(frozen=True)
class Job:
    """What every task of one run shares."""

    model_dir: str
    model_version: str
    model_sha256: str
    project_version: str
    options: BatchOptions
    out_dir: str
    width: int


def project_version() -> str:
    try:
        return version(PROJECT)
    except PackageNotFoundError:
        return "not installed"


_MODELS: dict[tuple[str, str], LoadedModel] = {}


def worker_model(job: Job) -> LoadedModel:
    """The job's model, loaded and verified once per worker process."""
    mine = project_version()
    if mine != job.project_version:
        raise VersionMismatch(
            f"a worker runs {PROJECT} {mine} but the client runs {job.project_version}; "
            "install the same version on every machine (make install) and restart the workers"
        )
    key = (job.model_dir, job.model_version)
    if key not in _MODELS:
        _MODELS[key] = ModelStore(job.model_dir).load(job.model_version)
    model = _MODELS[key]
    if model.metadata["sha256"] != job.model_sha256:
        raise VersionMismatch(
            f"the model {job.model_version} under {job.model_dir} on a worker has sha256 "
            f"{model.metadata['sha256'][:12]}..., the client's {job.model_sha256[:12]}...; "
            "give every machine the same model directory"
        )
    return model


def _read(path: str, start: int, end: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(start)
        return handle.read(end - start)


def score_partition(job: Job, part: Partition) -> dict[str, Any]:
    """Score `part` into its part file; returns its name and counts."""
    model = worker_model(job)
    target = str(Path(job.out_dir) / part.part_name(job.width))
    summary = BatchSummary()
    try:
        _score(model, job, part, target, summary)
    except BatchInputError as exc:
        where = (
            f"{part.path}" if part.start == 0 else f"{part.path}, the part from byte {part.start}"
        )
        if part.fmt == "parquet" and part.start:
            where = f"{part.path}, the part from row group {part.start}"
        raise BatchInputError(f"{where}: {exc}") from exc
    return {"part": Path(target).name, "rows": summary.rows, "flagged": summary.flagged}


def _score(
    model: LoadedModel, job: Job, part: Partition, target: str, summary: BatchSummary
) -> None:
    if part.fmt == "parquet":
        _score_parquet(model, job, part, target, summary)
    else:
        raw = _read(part.path, part.start, part.end)
        if part.fmt == "csv":
            raw = _read(part.path, 0, part.header_end) + raw
        lines = decoded_lines(io.BytesIO(raw), "utf-8")
        fmt = LINE_FORMATS[part.fmt]
        with atomic_output(target) as out:
            for piece in stream_scored(model, lines, fmt, job.options, summary):
                out.write(piece)


def _score_parquet(
    model: LoadedModel, job: Job, part: Partition, target: str, summary: BatchSummary
) -> None:
    import pyarrow.parquet as pq

    source = pq.ParquetFile(part.path)
    groups = list(range(part.start, part.end))
    table = source.read_row_groups(groups) if groups else source.schema_arrow.empty_table()
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    buffer.seek(0)
    with atomic_output(target, binary=True) as out:
        write_scored_parquet(model, buffer, out, job.options, summary)
