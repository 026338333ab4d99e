"""Batch scoring on a Dask cluster: `stance score INPUT -o OUTDIR --dask SCHEDULER`.

`partitions` plans the work (files, byte ranges, row groups), `tasks` runs on the workers (one
partition into one part file, with the scorer of `model.batch`), `run` drives a cluster. Only
this package imports dask; `model/` never does.
"""
