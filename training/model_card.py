"""The human-readable MODEL_CARD.md written beside every model version."""

from __future__ import annotations

from typing import Any

from training.evaluation import certainty_rows


def _head_table(metrics: dict[str, Any]) -> str:
    rows = ["| label | precision | recall | F1 | n |", "|---|---:|---:|---:|---:|"]
    for label in metrics["labels"]:
        c = metrics["per_class"][label]
        rows.append(
            f"| {label} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | {c['support']} |"
        )
    return "\n".join(rows)


def _certainty_table(tables: dict[str, Any]) -> list[str]:
    """How often each head is right at each level of its top probability, as markdown."""
    heads = list(tables)
    rows = [
        "| top probability | " + " | ".join(f"{h} rows | {h} right" for h in heads) + " |",
        "|---|" + "---:|---:|" * len(heads),
    ]
    for name, bins in certainty_rows(tables):
        cells = [
            cell
            for b in bins.values()
            for cell in ((str(b["n"]), f"{b['right']:.2f}") if b else ("0", ""))
        ]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    errors = ", ".join(f"{h} {tables[h]['calibration_error']:.3f}" for h in heads)
    return [
        "",
        "How often it is right at each level of its top probability on these statements"
        f" (expected calibration error: {errors}):",
        "",
        *rows,
    ]


def render_card(metadata: dict[str, Any]) -> str:
    """Markdown card: what the model is, its data, its figures, and its limits.

    `{version}` is filled in by the model store when the version name is known.
    """
    cv = metadata["cv_metrics"]
    params = metadata["params"]
    data = metadata["training_data"]
    parts = [
        "# Model card: Ukraine-NATO stance and sentiment, version {version}",
        "",
        "## What it does",
        "Labels a political statement's stance on Ukraine's accession to NATO (support, oppose,",
        "neutral) and its tone (positive, negative, neutral), with calibrated probabilities.",
        "Stance score = P(support) - P(oppose); sentiment score = P(positive) - P(negative).",
        "",
        "## Model",
        "Shared features: word 1-{w} grams (negation-marked: {neg}) and character {c} grams,".format(
            w=params["word_ngram_range"][1],
            neg="yes" if params["mark_negation"] else "no",
            c="-".join(map(str, params["char_ngram_range"]))
            if params["char_ngram_range"]
            else "no",
        ),
        "TF-IDF with sublinear term frequency. One multinomial logistic regression per head"
        f" (stance C={params['stance_C']}, sentiment C={params['sentiment_C']}, class weights"
        f" {params['class_weight']}), temperature-scaled on out-of-fold predictions"
        f" (T={params['stance_temperature']:.3f} and {params['sentiment_temperature']:.3f}).",
        f"The sentiment head also sees VADER lexicon scores: {'yes' if params['use_vader'] else 'no'}.",
        (
            f"The stance head also sees the same features of only the words within"
            f" {params['target_window']} words of a word naming the question (NATO, membership,"
            " accession, neutrality, ...)."
            if params.get("target_window")
            else "The stance head sees the whole text only (no target window)."
        ),
        (
            "It also sees two scope columns: another candidate country named and Ukraine never,"
            " the EU named and NATO never."
            if params.get("scope_features")
            else "No scope columns."
        ),
        "",
        "## Training data",
        f"`{data['source']}` ({data['rows']} rows, sha256 `{data['sha256'][:16]}...`).",
        f"Stance counts: {data['counts']['stance']}. Sentiment counts: {data['counts']['sentiment']}.",
        "",
        f"## Cross-validated figures ({metadata['cv_folds']}-fold stratified"
        + (", whole batches held out" if metadata.get("cv_grouped_by") else "")
        + ", out-of-fold)",
        f"Stance macro-F1 {cv['stance']['macro_f1']:.3f}, F_avg {cv['stance']['f_avg']:.3f}.",
        "",
        _head_table(cv["stance"]),
        "",
        f"Sentiment macro-F1 {cv['sentiment']['macro_f1']:.3f}.",
        "",
        _head_table(cv["sentiment"]),
    ]
    challenge = metadata.get("challenge_metrics")
    if challenge:
        parts += [
            "",
            "## Challenge set (hard cases, never trained on)",
            f"Stance macro-F1 {challenge['stance']['macro_f1']:.3f}, sentiment macro-F1"
            f" {challenge['sentiment']['macro_f1']:.3f} on {challenge['stance']['n']} statements.",
        ]
    dev = metadata.get("dev_metrics")
    if dev:
        m = dev["metrics"]
        parts += [
            "",
            "## Real statements (development set, never trained on)",
            f"Stance macro-F1 {m['stance']['macro_f1']:.3f}, sentiment macro-F1"
            f" {m['sentiment']['macro_f1']:.3f} on {dev['n']} real statements"
            f" (`{metadata['dev_data']['source']}`). This, not cross-validation, is the figure"
            " to expect on real speech.",
            "",
            _head_table(m["stance"]),
        ]
        if "certainty" in dev:  # models trained before the table: none
            parts += _certainty_table(dev["certainty"])
    behaviour = metadata.get("behaviour")
    if behaviour:
        verdict = "passed" if behaviour["gate"]["passed"] else "FAILED"
        rates = ", ".join(f"{group} {rate:.1%}" for group, rate in behaviour["rates"].items())
        parts += ["", "## Behavioural tests", f"Gate {verdict}: {rates}."]
    parts += [
        "",
        "## Limits",
        "- English only; trained on statements written by the project team in the voices of",
        "  political speech, not on a sample of real quotes. Cross-validation on that corpus",
        "  overstates accuracy on real statements.",
        "- A bag-of-n-grams model: long-range negation, sarcasm and reported speech that is",
        "  rebutted later in the text are its weakest cases. It does not follow an argument: a",
        "  position argued through its consequences, a rebuttal of someone else's position or a",
        "  deferral said as a forecast is often missed. On the project's real statements, readers",
        "  applying the codebook agreed with the labels at stance macro-F1 0.91; models of this",
        '  kind reach about 0.66 (README, "How far this model goes").',
        "- Scores describe text, not people: do not use them to judge a person without reading",
        "  the statement.",
        "",
        "## Provenance",
        f"Created {metadata.get('created_at', 'at save time')},"
        f" git commit {metadata.get('git_commit') or 'unknown'}; library versions and the"
        " model file's sha256 are in metadata.json.",
        "",
    ]
    return "\n".join(parts)
