"""The bundled demo data: seeded, realistic, big enough for every later metric."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl

from tests.conftest import read_raw
from trustpulse.brands import load_brandbook
from trustpulse.cleaning.dump import clean_dump
from trustpulse.demo import DEMO_BRANDS_FILE, generate_demo_dumps
from trustpulse.settings import TrustpulseSettings

REPO = Path(__file__).resolve().parents[1]


def test_demo_is_deterministic(tmp_path: Path):
    """The same seed gives the same bytes, also across processes (whose string hashing differs)."""
    script = "import sys; from pathlib import Path; from trustpulse.demo import generate_demo_dumps; "
    script += "generate_demo_dumps(Path(sys.argv[1]), seed=3, scale=0.2)"
    for name, hash_seed in (("a", "1"), ("b", "2")):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", script, str(tmp_path / name)], env=env, check=True, cwd=REPO)
    a = sorted((tmp_path / "a").iterdir())
    b = sorted((tmp_path / "b").iterdir())
    assert [p.name for p in a] == [p.name for p in b] and len(a) > 1
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    c = generate_demo_dumps(tmp_path / "c", seed=4, scale=0.2)
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in c]


def test_demo_has_what_the_metrics_need(tmp_path: Path):
    settings = TrustpulseSettings(data_root=str(tmp_path / "data"), pseudonym_key="k")
    book = load_brandbook(DEMO_BRANDS_FILE)
    frames, dupes, quarantined = [], 0, 0
    for path in generate_demo_dumps(tmp_path / "landing"):
        raw = read_raw(path, settings)
        cleaned = clean_dump(raw, settings, book, b"k")
        frames.append(cleaned.mentions)
        dupes += cleaned.duplicates.height
        quarantined += cleaned.quarantine.height
        assert cleaned.accounting(raw.height)["raw_records"] == raw.height
    m = pl.concat(frames)
    assert m.height >= 2000
    assert dupes >= 20 and quarantined >= 5
    assert set(m["platform"]) >= {"blog", "twitter", "reddit", "forum", "review"}
    assert set(m["mention_type"]) >= {"direct", "about", "product", "industry"}
    brands = m.explode("brand")["brand"].drop_nulls().unique().to_list()
    assert sorted(brands) == ["Brightcart", "Lumen Mobile", "Northwind Air"]
    weeks = m["created_at"].drop_nulls().dt.truncate("1w").n_unique()
    assert weeks >= 5
    # the walk-away brand: its owner replies mostly in the first two weeks
    lumen = m.filter(
        pl.col("is_owner") & pl.col("brand").list.contains("Lumen Mobile") & pl.col("created_at").is_not_null()
    )
    early = lumen.filter(pl.col("created_at") < pl.datetime(2026, 10, 12, time_zone="UTC")).height
    assert early > 3 * (lumen.height - early)
    # canned replies: Brightcart's owner texts repeat
    bright = m.filter(pl.col("is_owner") & pl.col("brand").list.contains("Brightcart"))
    assert bright["text"].str.replace(r"^@\S+ ", "").n_unique() <= 3
    assert m.filter(pl.col("text").str.contains("<script>")).height == 1
