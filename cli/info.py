"""`stance info`: the current (or a named) model version's metadata as JSON."""

from __future__ import annotations

import argparse
import json

from model.store import ModelStore


def run_info(args: argparse.Namespace) -> int:
    print(json.dumps(ModelStore(args.model_dir).read_metadata(args.version), indent=2))
    return 0
