"""Language of a bio, detected with py3langid (a maintained fork of langid.py).

py3langid ships its Naive Bayes model inside the package, so detection needs no
download at run time and takes tens of microseconds per bio. Text with fewer
than `MIN_LETTERS` letters, once links, handles, hashtags and placeholders are
removed, gets no language. So does text whose best language has a probability
below `MIN_CONFIDENCE` or leads the next one by less than `MIN_MARGIN`. Short
Spanish bios spread probability over Galician and Aragonese, so the threshold is
a lead over the runner-up rather than a majority.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

MIN_LETTERS = 12
MIN_CONFIDENCE = 0.3
MIN_MARGIN = 0.1

# py3langid reports some regional varieties under their own ISO 639-3 codes; the
# card stores the macrolanguage, so "ary" (Moroccan Arabic) is stored as "ar".
_MACROLANGUAGE = {"ary": "ar", "arz": "ar", "apc": "ar", "acm": "ar", "afb": "ar", "ajp": "ar", "apd": "ar"}
_TOP_CANDIDATES = 5
_NOISE = re.compile(r"https?://\S+|\S+\.\S+/\S*|[@#][\w.]+|\[(?:email|phone)\]|\d+")


@dataclass(frozen=True, slots=True)
class DetectedLanguage:
    """An ISO 639-1 code where one exists (else ISO 639-3) and the model's probability."""

    code: str
    confidence: float


@cache
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str | None) -> DetectedLanguage | None:
    """Return the language of `text`, or None when it is too short or the model is unsure."""
    if not text:
        return None
    cleaned = _NOISE.sub(" ", text)
    if sum(character.isalpha() for character in cleaned) < MIN_LETTERS:
        return None
    # Varieties of one macrolanguage split its probability, so they are added up first.
    totals: dict[str, float] = {}
    for code, probability in _identifier().rank(cleaned)[:_TOP_CANDIDATES]:
        language = _MACROLANGUAGE.get(code, code)
        totals[language] = totals.get(language, 0.0) + float(probability)
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    language, confidence = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if confidence < MIN_CONFIDENCE or confidence - runner_up < MIN_MARGIN:
        return None
    return DetectedLanguage(language, round(min(confidence, 1.0), 4))
