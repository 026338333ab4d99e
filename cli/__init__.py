"""The `stance` command: a thin edge over `model/` (score, info), `training/` and `reports/`."""
