"""Which mentions the sentiment model can read: the language rule.

Our model is English-only. A mention whose detected language (``mentions.lang``, from
``trustpulse.cleaning.language.detect_language``) is another language is not scored: it gets
``scored = false`` and ``not_scored_reason = "language"`` instead of a confident but meaningless neutral.
Undetermined (``"und"``: too short or unsure) and missing languages are scored, as most such mentions are
short English texts. With a multilingual model, configure ``languages`` as that model's languages, or an
empty list to score every mention.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

DEFAULT_LANGUAGES: tuple[str, ...] = ("en",)
UNDETERMINED = "und"  # same code as trustpulse.cleaning.language.UNDETERMINED
NOT_SCORED_LANGUAGE = "language"


def readable(langs: pl.Series, languages: Sequence[str] = DEFAULT_LANGUAGES) -> pl.Series:
    """Boolean per mention: True when the model should score it (its language is one it reads).

    ``languages`` empty = every language is read (a multilingual model).
    """
    if not languages:
        return pl.Series(langs.name, [True] * langs.len(), dtype=pl.Boolean)
    codes = langs.cast(pl.String).str.strip_chars().str.to_lowercase()
    allowed = [code.strip().lower() for code in languages]
    return (codes.is_null() | (codes == UNDETERMINED) | (codes == "") | codes.is_in(allowed)).fill_null(True)
