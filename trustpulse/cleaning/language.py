"""Language identification (py3langid, offline, fast)."""

from __future__ import annotations

from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

UNDETERMINED = "und"


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, min_confidence: float = 0.6) -> str:
    """ISO 639-1 code, or 'und' when the text is too short or the model is unsure."""
    if sum(ch.isalpha() for ch in text) < 12:
        return UNDETERMINED
    lang, prob = _identifier().classify(text)
    return lang if prob >= min_confidence else UNDETERMINED
