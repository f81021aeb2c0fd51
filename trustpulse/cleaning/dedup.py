"""Exact and near-duplicate detection inside one dump.

Duplicates are the same mention seen twice: the same native id, a reader-detected repeat, the same text
by the same author answering the same parent in the same thread, or (rapidfuzz) a near-copy of one.
Canned owner replies to *different* people are different mentions, so the parent is part of the key.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz

NEAR_MIN_CHARS = 20


@dataclass(frozen=True)
class Duplicate:
    row: int
    of_row: int
    rule: str  # same_id | repeated_block | exact | near
    similarity: float


def find_duplicates(
    texts: list[str],
    native_ids: list[str | None],
    repeat_of: list[int | None],
    group_keys: list[tuple],
    near_ratio: float,
) -> list[Duplicate]:
    """Rows (by index) that duplicate an earlier kept row. `group_keys`: (thread, author, parent)."""
    dups: dict[int, Duplicate] = {}
    first_by_id: dict[str, int] = {}
    for i, native in enumerate(native_ids):
        if native is None:
            continue
        if native in first_by_id:
            dups[i] = Duplicate(i, first_by_id[native], "same_id", 100.0)
        else:
            first_by_id[native] = i
    for i, j in enumerate(repeat_of):
        if i not in dups and j is not None and j not in dups and texts[i].casefold() == texts[j].casefold():
            dups[i] = Duplicate(i, j, "repeated_block", 100.0)

    kept_by_group: dict[tuple, list[int]] = defaultdict(list)
    for i, key in enumerate(group_keys):
        if i in dups:
            continue
        folded = texts[i].casefold()
        match = None
        for j in kept_by_group[key]:
            other = texts[j].casefold()
            if other == folded:
                match = Duplicate(i, j, "exact", 100.0)
                break
            if min(len(folded), len(other)) >= NEAR_MIN_CHARS:
                score = fuzz.ratio(folded, other, score_cutoff=near_ratio)
                if score:
                    match = Duplicate(i, j, "near", round(score, 2))
                    break
        if match:
            dups[i] = match
        else:
            kept_by_group[key].append(i)
    # point every duplicate at a kept row (a first occurrence may itself have matched an earlier row)
    resolved = []
    for i in sorted(dups):
        target, seen = dups[i].of_row, {i}
        while target in dups and target not in seen:
            seen.add(target)
            target = dups[target].of_row
        resolved.append(Duplicate(i, target, dups[i].rule, dups[i].similarity))
    return resolved
