"""Topic names a person would write: a short phrase taken from the topic's own mentions.

Method (KeyBERT-style, on the packaged encoder):

1. Candidates: every 2-5 word run of words inside one clause of a mention, after accounts, links and
   numbers are masked (`topic_input`) -- a masked token, a digit or punctuation ends a run, so a candidate
   never holds a handle, link or number. A run may not start or end with a stop word, a greeting or filler
   ("thanks", "please"), a contraction, or a word that appears as an ``@handle`` anywhere in the corpus
   (brand and account names written without the ``@``).
2. Support: a candidate must occur in at least `MIN_SUPPORT` mentions of the topic (or `MIN_SHARE` of
   them, whichever is more; one mention for a one-mention topic). The `MAX_CANDIDATES` with the highest
   class-based TF-IDF (share of the topic's mentions x log(1 + mean topic size / mentions with it in the
   corpus)) go on.
3. Relevance: cosine similarity of the candidate's embedding to the topic centroid (the mean embedding of
   its mentions), weighted by how much of the topic says it: ``cos * (COVERAGE_FLOOR + (1 - floor) *
   sqrt(share))``.
4. Diversity: Maximal Marginal Relevance over the candidates picks `N_PHRASES` phrases (the first is the
   label); a phrase too close to a label already given to a larger topic is passed over, so two topics do
   not share a name.

The label is written as the mentions write it (the most common casing of the phrase), first letter
capitalised. A topic with no candidate gets its two strongest keywords ("refund and order"), never a
number.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from trustpulse.topics.text import topic_input
from trustpulse.topics.vectors import unit_rows

MIN_WORDS = 2
MAX_WORDS = 5  # labels are 2-6 words; candidates stop at 5 so that a "(keyword)" suffix still fits
MAX_LABEL_WORDS = 6
CONTENT_WORDS = 3  # content-word phrases: 2-3 words
CONTENT_PHRASE_WEIGHT = 0.9  # their relevance is discounted: a natural run of words reads better
MIN_SUPPORT = 2  # mentions of the topic a candidate must occur in
MIN_SHARE = 0.01  # ... or this share of them, whichever is more
MAX_CANDIDATES = 40  # candidates per topic that are embedded (by c-TF-IDF)
COVERAGE_FLOOR = 0.5  # relevance weight of a phrase said by (almost) none of the topic's mentions
MMR_DIVERSITY = 0.4  # MMR: 0 = relevance only, 1 = diversity only
N_PHRASES = 3
DUPLICATE_SIMILARITY = 0.9  # a phrase this close to a larger topic's label is not used as a label
FALLBACK_LABEL = "other mentions"

# Words a label may contain but not start or end with: besides English stop words, greetings, fillers and
# the masks' own tokens.
_EDGE_TEXT = """
thanks thank thx ty please pls plz hi hello hey dear ok okay yes yeah yep lol omg wow just really
actually literally got get gets getting going like im ive dont didnt doesnt cant wont isnt youre
user http https www com amp rt via re fw fwd oh ah hmm guys folks today
"""
EDGE_WORDS = frozenset(_EDGE_TEXT.split())
_CLAUSE = re.compile(r"[.,;:!?()\[\]{}\"“”«»|/\\*…–—\n\t]+|\s-\s|\s-|-\s")
_TOKEN = re.compile(r"\S+")
_WORD = re.compile(r"^[A-Za-z][A-Za-z'’]*[A-Za-z]$|^[A-Za-z]$")
_HANDLE = re.compile(r"@(\w+)")


@dataclass(frozen=True)
class TopicName:
    label: str
    phrases: tuple[str, ...]


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | EDGE_WORDS


def handle_words(texts: Sequence[str]) -> frozenset[str]:
    """Lower-cased names that appear as @handles anywhere in `texts`."""
    return frozenset(m.lower() for t in texts for m in _HANDLE.findall(t or ""))


def _edge_ok(word: str, stop: frozenset[str], banned: frozenset[str]) -> bool:
    w = word.lower()
    return len(w) >= 2 and w not in stop and w not in banned and "'" not in w and "’" not in w


def phrases_of(text: str, stop: frozenset[str], banned: frozenset[str]) -> dict[str, tuple[str, float]]:
    """Candidate phrase (lower case) -> (its surface form in `text`, prior weight). Three kinds:

    - runs of MIN_WORDS..MAX_WORDS words inside a clause, with no masked token, digit or punctuation inside
      and no stop word, contraction or handle at an edge ("support fixed my voicemail"), weight 1;
    - a whole short mention (MIN_WORDS..MAX_LABEL_WORDS words once masks are dropped, clauses joined by
      commas: "still not fixed, what now"), weight 1;
    - adjacent content words of a clause once stop words and numbers are dropped ("flight delayed" from
      "flight 790 was delayed"), weight `CONTENT_PHRASE_WEIGHT`: c-TF-IDF's n-grams, less natural.
    """
    found: dict[str, tuple[str, float]] = {}
    clause_words: list[list[str]] = []
    whole_ok = True
    for clause in _CLAUSE.split(topic_input(text or "")):
        run: list[str] = []
        content: list[str] = []
        kept: list[str] = []
        for token in [*_TOKEN.findall(clause), ""]:
            if token and _WORD.match(token) and token.lower() not in ("user", "http"):
                run.append(token)
                kept.append(token)
                if _edge_ok(token, stop, banned):
                    content.append(token)
                continue
            if token and token.lower() not in ("@user", "http", "0") and not token.startswith("@user"):
                whole_ok = False  # a number or symbol inside: not a clean sentence
            for i in range(len(run)):
                if not _edge_ok(run[i], stop, banned):
                    continue
                for j in range(i + MIN_WORDS, min(len(run), i + MAX_WORDS) + 1):
                    words = run[i:j]
                    if _edge_ok(run[j - 1], stop, banned) and not any(w.lower() in banned for w in words):
                        found.setdefault(" ".join(w.lower() for w in words), (" ".join(words), 1.0))
            run = []
        for i in range(len(content)):
            for j in range(i + MIN_WORDS, min(len(content), i + CONTENT_WORDS) + 1):
                key = " ".join(w.lower() for w in content[i:j])
                found.setdefault(key, (" ".join(content[i:j]), CONTENT_PHRASE_WEIGHT))
        if kept:
            clause_words.append(kept)
    words = [w for c in clause_words for w in c]
    lowered = {w.lower() for w in words}
    if (
        whole_ok
        and MIN_WORDS <= len(words) <= MAX_LABEL_WORDS
        and not lowered & banned
        and lowered - stop
        and "0" not in text
    ):
        key = " ".join(w.lower() for w in words)
        found[key] = (", ".join(" ".join(c) for c in clause_words), 1.0)
    return found


def _mmr(relevance: np.ndarray, sims: np.ndarray, k: int, diversity: float, allowed: np.ndarray) -> list[int]:
    """Indices picked by Maximal Marginal Relevance; the first must be `allowed` (when any is)."""
    chosen: list[int] = []
    first_pool = np.flatnonzero(allowed) if allowed.any() else np.arange(len(relevance))
    chosen.append(int(first_pool[np.argmax(relevance[first_pool])]))
    while len(chosen) < min(k, len(relevance)):
        rest = np.array([i for i in range(len(relevance)) if i not in chosen])
        penalty = sims[np.ix_(rest, chosen)].max(axis=1)
        score = (1 - diversity) * relevance[rest] - diversity * penalty
        chosen.append(int(rest[np.argmax(score)]))
    return chosen


def _fallback(keywords: Sequence[str], used: set[str], stop: frozenset[str], banned: frozenset[str]) -> str:
    words = [w for w in keywords if w and w.isalpha() and w not in stop and w not in banned][:2]
    for label in ([f"{words[0]} and {words[1]}"] if len(words) == 2 else []) + [f"{w} mentions" for w in words]:
        if label not in used:
            return label
    return FALLBACK_LABEL


def _pretty(surface: str) -> str:
    return surface[:1].upper() + surface[1:]


def name_topics(
    texts: Sequence[str],
    topics: np.ndarray,
    embeddings: np.ndarray,
    embed: Callable[[Sequence[str]], np.ndarray],
    keywords: dict[int, Sequence[str]] | None = None,
    outlier: int = -1,
) -> dict[int, TopicName]:
    """A name for every topic id in `topics` except `outlier`: `texts` are the mentions (one per row of
    `embeddings` and `topics`), `embed` encodes phrases, `keywords` (c-TF-IDF words) give the fallback."""
    topics = np.asarray(topics)
    keywords = keywords or {}
    stop = _stop_words()
    banned = handle_words(texts)
    ids = sorted({int(t) for t in topics.tolist()} - {outlier})
    if not ids:
        return {}
    per_text = [phrases_of(t, stop, banned) for t in texts]
    df_topic: dict[int, Counter[str]] = defaultdict(Counter)
    df_all: Counter[str] = Counter()
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    prior: dict[str, float] = {}
    for topic, found in zip(topics.tolist(), per_text, strict=True):
        df_all.update(found.keys())
        df_topic[int(topic)].update(found.keys())
        for key, (surface, weight) in found.items():
            surfaces[key][surface] += 1
            prior[key] = max(prior.get(key, 0.0), weight)
    sizes = Counter(int(t) for t in topics.tolist())
    mean_size = float(np.mean([sizes[t] for t in ids]))
    unit = unit_rows(np.asarray(embeddings, dtype=np.float32))
    # larger topics are named first: they get the plainest phrase when two topics would say the same
    order = sorted(ids, key=lambda t: (-sizes[t], t))
    candidates: dict[int, list[str]] = {}
    for t in order:
        need = 1 if sizes[t] == 1 else max(MIN_SUPPORT, math.ceil(MIN_SHARE * sizes[t]))
        pool = [(p, n) for p, n in df_topic[t].items() if n >= need]
        ranked = sorted(pool, key=lambda pn: (-(pn[1] / sizes[t]) * math.log1p(mean_size / df_all[pn[0]]), pn[0]))
        candidates[t] = [p for p, _ in ranked[:MAX_CANDIDATES]]
    every = sorted({p for c in candidates.values() for p in c})
    vectors = dict(zip(every, unit_rows(np.asarray(embed(every), dtype=np.float32)), strict=True)) if every else {}

    names: dict[int, TopicName] = {}
    used: set[str] = set()
    used_vectors: list[np.ndarray] = []
    for t in order:
        cands = candidates[t]
        if not cands:
            label = _fallback(keywords.get(t, ()), used, stop, banned)
            used.add(label)
            names[t] = TopicName(label=_pretty(label), phrases=())
            continue
        centroid = unit_rows(unit[topics == t].mean(axis=0))
        V = np.stack([vectors[p] for p in cands])
        share = np.array([df_topic[t][p] / sizes[t] for p in cands])
        weight = np.array([prior[p] for p in cands])
        relevance = (V @ centroid) * (COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * np.sqrt(share)) * weight
        allowed = np.array([p not in used for p in cands])
        if used_vectors:
            allowed &= (V @ np.stack(used_vectors).T).max(axis=1) < DUPLICATE_SIMILARITY
        picked = _mmr(relevance, V @ V.T, N_PHRASES, MMR_DIVERSITY, allowed)
        phrases = tuple(_pretty(surfaces[cands[i]].most_common(1)[0][0]) for i in picked)
        label_key = cands[picked[0]]
        label = phrases[0]
        if label_key in used:  # every candidate is another topic's label: tell them apart by a keyword
            extra = next(
                (w for w in keywords.get(t, ()) if w.isalpha() and w not in banned | stop | set(label_key.split())),
                None,
            )
            label = f"{label} ({extra})" if extra and len(label.split()) < MAX_WORDS + 1 else label
        used.add(label_key)
        used_vectors.append(vectors[label_key])
        names[t] = TopicName(label=label, phrases=phrases)
    return names
