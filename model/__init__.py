"""The model seam: text features, the stance + sentiment estimator, artifact I/O and prediction.

`training/` and `service/` build on this package; it imports neither of them.
"""

from model.errors import ModelError
from model.labels import SENTIMENT_LABELS, STANCE_LABELS

__all__ = ["SENTIMENT_LABELS", "STANCE_LABELS", "ModelError"]
