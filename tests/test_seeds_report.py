"""The five real blog dumps, no brands file, through `trustpulse run`: the report states what the tables hold.

Expected values are read off the dumps by hand: seed 002 is Amber's post with 24 audience comments, of which
2 are an exchange between two commenters (Taxi Design / Mike Shields) and 1 is a closing ("Exactly, its all
about the conversation! Thanks for the post, excellent points."); she answered 4 (Beth Harte, Chuck, Liz
Strauss twice): 4 of 21, a Wilson 95% interval of 8-40%. Seeds 000, 003 and 004 are posts nobody commented on.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from bs4 import BeautifulSoup

from pipelines import cli

SEEDS = Path(__file__).parent / "fixtures" / "seeds"


@pytest.fixture(scope="module")
def seeds_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("seeds") / "data"
    (root / "landing").mkdir(parents=True)
    for path in SEEDS.iterdir():
        shutil.copy(path, root / "landing" / path.name)
    mp = pytest.MonkeyPatch()
    mp.delenv("DAGSTER_HOME", raising=False)
    mp.setenv("TRUSTPULSE_PSEUDONYM_KEY", "seeds")
    try:
        assert cli.main(["run", "--data", str(root)]) == 0
    finally:
        mp.undo()
    return root


def _report_text(root: Path) -> str:
    soup = BeautifulSoup((root / "reports" / "latest.html").read_text(), "lxml")
    for tag in soup(["script", "style"]):
        tag.decompose()
    return re.sub(r"\s+", " ", soup.get_text(" "))


def test_owners_are_found_without_a_brands_file(seeds_root: Path):
    with duckdb.connect(str(seeds_root / "warehouse.duckdb"), read_only=True) as con:
        owed = con.execute(
            "select owner, count(*), count(*) filter (where answered) from needs_answer group by 1"
        ).fetchall()
        unanswered = con.execute("select count(*) from unanswered").fetchall()[0][0]
    assert sorted(owed) == [("Amber", 21, 4), ("author of 001_365b62212bd2d2a9.txt", 1, 1)]
    assert unanswered == 17


def test_the_report_says_what_the_tables_hold(seeds_root: Path):
    text = _report_text(seeds_root)
    assert "nothing to report" not in text.lower()
    # one owner with enough data: no comparison ("the fewest") with nobody
    assert "Amber answered 19% of 21 mentions that needed an answer (95% CI 8–40%)." in text
    assert "answered the fewest" not in text
    assert "17 mentions in all periods are still unanswered" in text
    # the three posts nobody commented on get no card of zeros, and the report says why
    assert "No card for author of 000_ae531de35fabd164.txt, author of 003_1892d1c1370188b4.txt, author of" in text
    # undated blog dumps: no claim that no topic grew, the reason instead
    assert "No topic grew" not in text
    assert "none of these mentions has a date" in text
    assert "36 of 36 have no date" in text
