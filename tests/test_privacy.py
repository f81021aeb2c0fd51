"""Privacy: e-mail addresses and phone numbers never reach a parquet text column or the report; authors
are pseudonymised with a keyed hash whose key comes from the environment."""

from __future__ import annotations

import multiprocessing
import shutil
from concurrent.futures import ProcessPoolExecutor

import polars as pl

from pipelines import cli
from tests.conftest import FIXTURES
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import write_bytes_once

SECRETS = ("maria@example.com", "415-555-0132", "jo.doe+x@mail.example.org", "(212) 555-0175", "dee@corp.example")


def test_no_pii_in_any_parquet_column_or_the_report(settings, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("TRUSTPULSE_PSEUDONYM_KEY", "privacy-test-key")
    settings.landing_dir.mkdir(parents=True)
    shutil.copy(FIXTURES / "blog_thread.txt", settings.landing_dir / "blog.txt")  # maria@, 415-555-0132
    (settings.landing_dir / "pii.jsonl").write_text(
        '{"id": "p1", "text": "Acme refund? write jo.doe+x@mail.example.org or (212) 555-0175", "author": "jo",'
        ' "created_at": "2024-03-01T10:00:00Z", "platform": "forum"}\n'
        '{"id": "p2", "text": "broken line from dee@corp.example\n'
    )
    assert cli.main(["run", "--data", str(settings.root)]) == 0
    leaks = []
    for path in settings.root.rglob("*.parquet"):
        if "cache" in path.parts or "models" in path.parts:
            continue
        df = pl.read_parquet(path)
        for column, dtype in df.schema.items():
            if dtype == pl.String:
                values = "\n".join(v for v in df[column].drop_nulls().to_list())
                leaks += [f"{path.name}.{column}: {s}" for s in SECRETS if s in values]
    assert leaks == []
    report = (settings.root / "reports" / "latest.html").read_text()
    assert not [s for s in SECRETS if s in report]
    mentions = pl.read_parquet(settings.warehouse_dir / "mentions.parquet")
    assert "[email]" in "".join(mentions["text"]) and "[phone]" in "".join(mentions["text"])
    quarantine = pl.read_parquet(settings.warehouse_dir / "quarantine.parquet")
    assert any("[email]" in r for r in quarantine["raw"])  # the unparseable line is kept, masked
    jo = mentions.filter(pl.col("author") == "jo")["author_id"].item()
    assert jo.startswith("a_") and "jo" not in jo


def _key_of(data_root: str) -> bytes:
    return TrustpulseSettings(data_root=data_root).resolved_pseudonym_key()


def test_processes_creating_the_pseudonym_key_at_once_all_get_the_same_key(tmp_path, monkeypatch):
    """Two workers ingesting their first dumps at once must pseudonymise with one key: the key file is
    created once (hard link, never replaced) and every process reads the one that won."""
    monkeypatch.delenv("TRUSTPULSE_PSEUDONYM_KEY", raising=False)
    # A worker that dies raises BrokenProcessPool here (a multiprocessing.Pool would wait for it forever).
    with ProcessPoolExecutor(max_workers=6, mp_context=multiprocessing.get_context("spawn")) as pool:
        keys = list(pool.map(_key_of, [str(tmp_path)] * 12, timeout=300))
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert (tmp_path / ".pseudonym_key").read_bytes() == keys[0]
    assert not list(tmp_path.glob(".*.tmp"))


def test_write_bytes_once_keeps_the_first_content(tmp_path):
    target = tmp_path / "sub" / "key"
    assert write_bytes_once(b"first", target) == b"first"
    assert write_bytes_once(b"second", target) == b"first"
    assert target.read_bytes() == b"first"
