"""`stance article FILE... [--json]`: the statements of news articles, who said them, and how.

Each FILE is plain text or HTML (by its .html/.htm suffix or its first tag), `-` for stdin.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cli.failures import CommandFailed
from model.articles import html_to_text, looks_like_html, score_article
from model.store import ModelStore

STDIN = "-"


def read_article(name: str) -> str:
    """The article's text: UTF-8 (a byte-order mark dropped), HTML reduced to its text."""
    try:
        raw = sys.stdin.buffer.read() if name == STDIN else Path(name).read_bytes()
    except FileNotFoundError as exc:
        raise CommandFailed(f"article file {name} not found") from exc
    except IsADirectoryError as exc:
        raise CommandFailed(f"{name} is a directory; give article files") from exc
    except PermissionError as exc:
        raise CommandFailed(f"article file {name} is not readable (permission denied)") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CommandFailed(
            f"{name} is not UTF-8 (byte {exc.start}); save the article as UTF-8"
        ) from exc
    if name.lower().endswith((".html", ".htm")) or looks_like_html(text):
        text = html_to_text(text)
    if not text.strip():
        raise CommandFailed(f"{name} holds no text")
    return text


def run_article(args: argparse.Namespace) -> int:
    model = ModelStore(args.model_dir).load(args.version)
    articles = [{"id": name} | score_article(model, read_article(name)) for name in args.files]
    if args.json:
        body = {"model": {"version": model.version}, "articles": articles}
        print(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        print("\n\n".join(table(article) for article in articles))
    return 0


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table(article: dict[str, Any]) -> str:
    """A readable table: one line per statement, then the speakers' overall stance."""
    lines = [f"== {article['id']}"]
    header = f"{'speaker':<26} {'role':<24} {'kind':<9} {'stance':<16} {'tone':<9} statement"
    lines += [header, "-" * len(header)]
    for item in article["statements"]:
        speaker = item["speaker"]
        who = speaker["name"] or (
            "(narration)" if item["kind"] == "narration" else "(unattributed)"
        )
        stance = f"{item['stance']['label']} {item['stance']['score']:+.2f}"
        lines.append(
            f"{_short(who, 26):<26} {_short(speaker['role'] or '', 24):<24} {item['kind']:<9} "
            f"{stance:<16} {item['sentiment']['label']:<9} {_short(item['text'], 60)}"
        )
    if article["speakers"]:
        lines += ["", "speakers (statements, mean stance score, label of the mean):"]
        for speaker in article["speakers"]:
            role = f" ({speaker['role']})" if speaker["role"] else ""
            lines.append(
                f"  {speaker['name']}{role}: {speaker['statements']}, "
                f"{speaker['stance']['score']:+.2f}, {speaker['stance']['label']}"
            )
    return "\n".join(lines)
