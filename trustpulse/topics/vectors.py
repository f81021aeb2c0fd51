"""Vector helpers shared by topic fitting, topic assignment, topic labels and the taxonomy mapping."""

from __future__ import annotations

import numpy as np


def unit_rows(X: np.ndarray) -> np.ndarray:
    """Each row of `X` (or `X` itself, for one vector) divided by its L2 norm, so that
    `unit_rows(A) @ unit_rows(B).T` is the rows' cosine similarity. A zero row stays zero (similarity 0 to
    everything) instead of becoming NaN. The dtype is the caller's: cast first where float32 is wanted."""
    norms = np.linalg.norm(X, axis=-1, keepdims=True)
    return X / np.where(norms == 0, 1.0, norms)
