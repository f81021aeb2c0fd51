"""Precision and recall of the closing judge and of "needs an answer" on the labelled turns.

Reads tests/fixtures/turns/turns.tsv (real conversation turns, labelled by hand: needs_answer | closing | other),
splits it by a hash of `id` into a development part (tuned on) and a held-apart part (not tuned on), and writes
bench/results/needs_answer.json with the commit. Also scores the previous whole-message regex as a baseline.

"Needs an answer" is predicted as in trustpulse/scoring/needs_answer.py without the sentiment model: not a closing,
and a question or addressed to an account (an @handle; every turn here is addressed or about a brand).

Run: .venv/bin/python bench/needs_answer_bench.py
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trustpulse.scoring.signals import is_closing, is_question  # noqa: E402

TURNS = ROOT / "tests" / "fixtures" / "turns" / "turns.tsv"
RESULT = ROOT / "bench" / "results" / "needs_answer.json"
HELD_APART_PERCENT = 40  # ids whose hash falls below this percentage are held apart
SPLIT_SALT = "turns-v1"
LABELS = ("needs_answer", "closing", "other")
_ADDRESSED = re.compile(r"@\w")
# the judge before this change (whole-message regex), kept here only as the baseline
_OLD_GRATITUDE_ONLY = re.compile(
    r"^\W*(?:@\S+\s+)*(?:ok(?:ay)?|great|perfect|cool|got it|thanks?|thank you|thx|ty|cheers|much appreciated|"
    r"that (?:sorted|fixed|solved) it|all good|dm sent|ok,? dm sent)(?:[\s,!.]+(?:so much|a lot|again|that "
    r"(?:sorted|fixed|solved) it|for (?:the|your) (?:help|reply|quick reply))?)*[\s!.:)]*$",
    re.IGNORECASE,
)


def part_of(turn_id: str) -> str:
    """'held_apart' or 'dev', fixed by a hash of the id (so adding turns never moves old ones)."""
    digest = hashlib.sha256(f"{SPLIT_SALT}:{turn_id}".encode()).hexdigest()
    return "held_apart" if int(digest, 16) % 100 < HELD_APART_PERCENT else "dev"


def load_turns(path: Path = TURNS) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    bad = [r["id"] for r in rows if r["label"] not in LABELS]
    if bad:
        raise ValueError(f"unknown labels for {bad[:5]}")
    return rows


def needs_answer(text: str, closing: Callable[[str], bool] = is_closing) -> bool:
    return not closing(text) and (is_question(text) or bool(_ADDRESSED.search(text)))


def _pr(pred: list[bool], gold: list[bool]) -> dict[str, float | int]:
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
    fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "tp": tp, "fp": fp, "fn": fn}


def score(rows: list[dict[str, str]], closing: Callable[[str], bool] = is_closing) -> dict[str, object]:
    texts = [r["text"] for r in rows]
    return {
        "n": len(rows),
        "closing": _pr([closing(t) for t in texts], [r["label"] == "closing" for r in rows]),
        "needs_answer": _pr([needs_answer(t, closing) for t in texts], [r["label"] == "needs_answer" for r in rows]),
    }


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    rows = load_turns()
    parts = {name: [r for r in rows if part_of(r["id"]) == name] for name in ("dev", "held_apart")}
    counts = {name: {label: sum(r["label"] == label for r in part) for label in LABELS} for name, part in parts.items()}
    old = lambda text: bool(_OLD_GRATITUDE_ONLY.match(text.strip()))  # noqa: E731
    result = {
        "commit": _commit(),
        "turns": str(TURNS.relative_to(ROOT)),
        "split": {"held_apart_percent": HELD_APART_PERCENT, "salt": SPLIT_SALT, "counts": counts},
        "judge": "trustpulse.scoring.signals.is_closing",
        "needs_answer_rule": "not is_closing and (is_question or an @handle); no sentiment model",
        "dev": score(parts["dev"]),
        "held_apart": score(parts["held_apart"]),
        "baseline_old_regex": {"dev": score(parts["dev"], old), "held_apart": score(parts["held_apart"], old)},
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("dev", "held_apart", "baseline_old_regex")}, indent=1))
    if "--errors" in sys.argv:  # development part only: the held-apart part is not looked at while tuning
        for r in parts["dev"]:
            pred = "closing" if is_closing(r["text"]) else "-"
            if (pred == "closing") != (r["label"] == "closing"):
                print(f"{r['label']:>12} pred={pred:8} {r['text'][:150]}")


if __name__ == "__main__":
    main()
