"""The label sets of the two heads, in the order used for probability columns."""

STANCE_LABELS: tuple[str, ...] = ("support", "oppose", "neutral")
SENTIMENT_LABELS: tuple[str, ...] = ("positive", "negative", "neutral")
