"""The anomaly and out-of-distribution view: scores, histogram, ROC, threshold and gallery."""

from .panel import AnomalyPanel

__all__ = ["AnomalyPanel"]
