"""Owners and answers on real thread shapes, with and without a brands file.

Expected values are read off the fixtures by hand: the seeds are the real blog dumps the product was
designed on (tests/fixtures/seeds), the support threads a twcs-shaped export written for these rules.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.conftest import read_raw
from trustpulse.brands import BrandBook, load_brandbook
from trustpulse.cleaning.dump import clean_dump
from trustpulse.scoring.score import score_mentions
from trustpulse.settings import ScoringConfig, TrustpulseSettings

FIXTURES = Path(__file__).parent / "fixtures"
NO_BRANDS = BrandBook(brands=())


def _settings(tmp_path: Path) -> TrustpulseSettings:
    return TrustpulseSettings(data_root=str(tmp_path / "data"), pseudonym_key="k")


def _neutral(mentions: pl.DataFrame) -> pl.DataFrame:
    return mentions.select("mention_id", label=pl.lit("neutral"), score=pl.lit(0.0))


def _scored(path: Path, tmp_path: Path, book: BrandBook):
    settings = _settings(tmp_path)
    mentions = clean_dump(read_raw(path, settings), settings, book, b"k").mentions
    return mentions, score_mentions(mentions, _neutral(mentions), book, ScoringConfig())


def _by_text(mentions: pl.DataFrame, start: str) -> dict:
    return mentions.filter(pl.col("text").str.starts_with(start)).row(0, named=True)


def test_without_a_brands_file_every_support_account_is_an_entity(tmp_path: Path):
    mentions, scores = _scored(FIXTURES / "owners" / "support_threads.csv", tmp_path, NO_BRANDS)
    owners = sorted(mentions.filter(pl.col("is_owner"))["author"].unique().to_list())
    assert owners == ["AppleSupport", "HPSupport", "VirginTrains"]
    # the printhead complaint @-addresses HPSupport: HP's, although HPSupport never answered it
    printhead = _by_text(mentions, "@HPSupport Problem")
    assert printhead["brand"] == ["HPSupport"] and printhead["mention_type"] == "direct"
    needs = scores.needs_answer.join(mentions.select("mention_id", "text"), on="mention_id")
    owed = {r["text"][:26]: (r["owner"], r["brand"]) for r in needs.iter_rows(named=True)}
    assert owed["@HPSupport Problem with pr"] == ("HPSupport", "HPSupport")
    assert owed["@VirginTrains the 09:10 to"] == ("VirginTrains", "VirginTrains")
    assert "@VirginTrains thanks" not in {t[:19] for t in needs["text"]}  # a closing owes nothing


def test_alias_in_an_agents_sign_off_routes_nothing(tmp_path: Path):
    """Virgin Trains' agent signs "^HP": that is no mention of HP, and the printhead complaint stays HP's."""
    book = load_brandbook(FIXTURES / "owners" / "hp_alias_brands.yaml")
    mentions, scores = _scored(FIXTURES / "owners" / "support_threads.csv", tmp_path, book)
    signed = _by_text(mentions, "@502 Sorry about that")
    assert signed["is_owner"] and signed["brand"] == ["Virgin Trains"]
    by_owner = scores.needs_answer.group_by("owner", "brand").len().sort("owner").rows()
    # HP: the printhead complaint and the charging one; Virgin Trains: the cancelled train; Apple: two
    assert by_owner == [
        ("AppleSupport", "AppleSupport", 2),
        ("HPSupport", "HP", 2),
        ("VirginTrains", "Virgin Trains", 1),
    ]
    vt = scores.responsiveness.filter(
        (pl.col("owner") == "VirginTrains") & (pl.col("period") == "all") & (pl.col("cut") == "all")
    ).row(0, named=True)
    assert vt["first_response_minutes_p90"] == pytest.approx(15.0)  # 09:05 -> 09:20, not HP's hours


def test_a_reply_the_export_references_but_lacks_is_answered_apart(tmp_path: Path):
    mentions, scores = _scored(FIXTURES / "owners" / "support_threads.csv", tmp_path, NO_BRANDS)
    restarts = _by_text(mentions, "@AppleSupport my iPhone")
    assert restarts["replies_not_in_dump"] == 1  # response 999 is not in the file
    row = scores.needs_answer.filter(pl.col("mention_id") == restarts["mention_id"]).row(0, named=True)
    assert row["answered"] and not row["answer_in_dump"] and row["first_response_minutes"] is None
    assert restarts["mention_id"] not in scores.unanswered["mention_id"].to_list()
    apple = scores.responsiveness.filter(
        (pl.col("owner") == "AppleSupport") & (pl.col("period") == "all") & (pl.col("cut") == "all")
    ).row(0, named=True)
    assert (apple["needs_answer"], apple["answered"], apple["answered_not_in_dump"]) == (2, 2, 1)


def test_seed_002_replies_are_linked_to_the_comments_they_answer(tmp_path: Path):
    mentions, scores = _scored(FIXTURES / "seeds" / "002_b9bd486239912b56.txt", tmp_path, NO_BRANDS)
    text_of = dict(zip(mentions["mention_id"], mentions["text"], strict=True))
    replies = {
        r["text"][:8]: text_of[r["parent_id"]][:30]
        for r in mentions.filter(pl.col("is_owner") & (pl.col("position") > 0)).iter_rows(named=True)
    }
    # Amber answered Beth Harte, Chuck (his comment lost its signature: "Investment in social media ..."),
    # and Liz Strauss twice
    assert replies == {
        "@Beth – ": "Amber, great addition to the s",
        "@Chuck –": "Investment in social media is ",
        "@Liz I a": "Amber,\nThis post is brilliant ",
        "@Liz – y": "Amber\nI know you’re far too co",
    }
    answered = scores.needs_answer.filter(pl.col("answered")).join(mentions, on="mention_id")["text"]
    assert sorted(t[:12] for t in answered) == sorted(
        ["Amber, great", "Investment i", "Amber,\nThis ", "Amber\nI know"]
    )
    # the exchange between two commenters at the end is not the post author's to answer
    owed = set(scores.needs_answer["mention_id"])
    for start in ("Taxi Design, that seems", "Mike Shields, I took"):
        assert _by_text(mentions, start)["mention_id"] not in owed


def test_seed_001_a_reply_quoting_a_comment_answers_it(tmp_path: Path):
    mentions, scores = _scored(FIXTURES / "seeds" / "001_365b62212bd2d2a9.txt", tmp_path, NO_BRANDS)
    comment = _by_text(mentions, "Interesting article. Social media is a whole new animal")
    reply = _by_text(mentions, "Thanks for sharing your comments")
    assert reply["is_owner"] and reply["parent_id"] == comment["mention_id"]
    row = scores.needs_answer.filter(pl.col("mention_id") == comment["mention_id"]).row(0, named=True)
    assert row["answered"] and row["answer_mention_id"] == reply["mention_id"]


def test_unnamed_authors_of_the_seed_blogs_are_separate_entities(tmp_path: Path):
    settings = _settings(tmp_path)
    owners = set()
    for name in ("000_ae531de35fabd164.txt", "001_365b62212bd2d2a9.txt", "003_1892d1c1370188b4.txt"):
        mentions = clean_dump(read_raw(FIXTURES / "seeds" / name, settings), settings, NO_BRANDS, b"k").mentions
        owners |= {(r["author"], tuple(r["brand"])) for r in mentions.filter(pl.col("is_owner")).iter_rows(named=True)}
    assert len({author for author, _ in owners}) == 3
    assert all(brand == (author,) for author, brand in owners)


def test_accounts_that_answer_people_are_owners_without_configuration(tmp_path: Path):
    """X export, no brands file: @NorthCare answers three people in two threads; @dave only talks."""
    lines = [
        '{"id": "1", "text": "@NorthCare my order never came", "author": "ann", "created_at": "2024-03-01T09:00:00Z"}',
        '{"id": "2", "text": "@ann sorry! DM us the order number", "author": "NorthCare", "in_reply_to": "1",'
        ' "created_at": "2024-03-01T09:10:00Z"}',
        '{"id": "3", "text": "@NorthCare same problem here", "author": "bob", "in_reply_to": "1",'
        ' "created_at": "2024-03-01T09:20:00Z"}',
        '{"id": "4", "text": "@bob we are on it", "author": "NorthCare", "in_reply_to": "3",'
        ' "created_at": "2024-03-01T09:30:00Z"}',
        '{"id": "5", "text": "@NorthCare is the app down?", "author": "cat", "created_at": "2024-03-02T10:00:00Z"}',
        '{"id": "6", "text": "@cat back up now", "author": "NorthCare", "in_reply_to": "5",'
        ' "created_at": "2024-03-02T10:05:00Z"}',
        '{"id": "7", "text": "@dave did you see this?", "author": "eve", "created_at": "2024-03-02T11:00:00Z"}',
        '{"id": "8", "text": "@eve yes", "author": "dave", "in_reply_to": "7", "created_at": "2024-03-02T11:05:00Z"}',
    ]
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(lines) + "\n")
    mentions, scores = _scored(path, tmp_path, NO_BRANDS)
    assert mentions.filter(pl.col("is_owner"))["author"].unique().to_list() == ["NorthCare"]
    assert sorted(scores.needs_answer["owner"].to_list()) == ["NorthCare"] * 3


def test_a_blog_whose_page_names_its_author_only_in_a_reply(tmp_path: Path):
    """Phil Whelan's post (front matter, no byline): the author is the `bypostauthor` commenter, so the three
    readers' questions are his to answer; he answered Chandra's, 40 minutes later (9:32 -> 10:12)."""
    mentions, scores = _scored(FIXTURES / "pages" / "philwhelan_front_matter_comments.md", tmp_path, NO_BRANDS)
    post = mentions.filter(pl.col("position") == 0).row(0, named=True)
    assert post["author"] == "Phil Whelan" and post["is_owner"]
    assert str(post["created_at"]) == "2011-01-22 02:58:00+00:00"  # front matter: 18:58 at UTC-8
    assert not post["text"].startswith("---")
    needs = scores.needs_answer.join(mentions.select("mention_id", "author"), on="mention_id")
    assert sorted(needs.select("author", "owner", "answered").rows()) == [
        ("Chandra Shekher Gupta", "Phil Whelan", True),
        ("Kevin Rood", "Phil Whelan", False),
        ("rashm", "Phil Whelan", False),
    ]
    assert needs.filter(pl.col("answered"))["first_response_minutes"].to_list() == [40.0]


def test_disqus_people_by_name_spam_and_a_malformed_date_quarantined(tmp_path: Path):
    settings = _settings(tmp_path)
    cleaned = clean_dump(
        read_raw(FIXTURES / "pages" / "disqus_export_remark42.xml", settings), settings, NO_BRANDS, b"k"
    )
    assert cleaned.mentions["author"].to_list() == ["Alexander Blah", "mikhail", "No Username", "Blah Noname"]
    reasons = sorted(cleaned.quarantine["reason"].to_list())
    assert reasons[0].startswith("bad_value: created_at '2011-x09-30T22:48:43Z' is not a date")
    assert reasons[1] == "spam: Disqus marks this post isSpam"
