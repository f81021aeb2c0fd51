"""Responsiveness and trust on a fixture small enough to compute by hand (values in the comments)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.conftest import clean_fixture
from trustpulse.brands import BrandBook, load_brandbook
from trustpulse.scoring.responsiveness import canned_flags
from trustpulse.scoring.score import score_mentions
from trustpulse.scoring.signals import is_advocacy, is_gratitude_only, is_question
from trustpulse.scoring.stats import wilson_interval
from trustpulse.scoring.trust import weighted_median
from trustpulse.settings import ScoringConfig
from trustpulse.tables import MENTION_SCHEMA, TABLES, conform

WEEK = "2024-03-04"


def _t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=UTC)


# id, thread, parent, position, author, is_owner, time, text, label, score
ROWS = [
    ("m1", "T1", None, 0, "u1", False, _t(4, 10), "@AcmeHelp my order never arrived", "negative", -0.8),
    (
        "m2",
        "T1",
        "m1",
        1,
        "AcmeHelp",
        True,
        _t(4, 10, 30),
        "@u1 sorry, DM us your order number",
        "neutral",
        0.0,
    ),
    ("m3", "T1", "m2", 2, "u1", False, _t(4, 11), "@AcmeHelp thanks, that sorted it!", "positive", 0.6),
    ("m4", "T2", None, 0, "u2", False, _t(4, 12), "@AcmeHelp how do I change my address?", "neutral", 0.0),
    ("m5", "T2", "m4", 1, "AcmeHelp", True, _t(4, 14), "@u2 sorry, DM us your order number", "neutral", 0.0),
    ("m6", "T3", None, 0, "u3", False, _t(5, 9), "@AcmeHelp is the store open on Sunday?", "neutral", 0.0),
    ("m7", "T4", None, 0, "u4", False, _t(6, 8), "@AcmeHelp the app crashes", "negative", -0.5),
    (
        "m8",
        "T4",
        "m7",
        1,
        "AcmeHelp",
        True,
        _t(6, 8, 20),
        "@u4 Which phone are you on? We'll look into it today.",
        "neutral",
        0.0,
    ),
    ("m9", "T4", "m8", 2, "u4", False, _t(6, 9), "iPhone 12, still crashing", "negative", -0.6),
    ("m10", "T4", "m7", 3, "u5", False, _t(6, 9, 30), "same here, app is broken", "negative", -0.7),
    ("m11", "T4", "m9", 4, "u4", False, _t(6, 10, 30), "hello??", "neutral", 0.0),
    ("m12", "T5", None, 0, "u6", False, _t(6, 11), "I recommend Acme to everyone", "positive", 0.9),
    ("m13", "T6", None, 0, "u7", False, _t(6, 12), "Acme prices went up again", "negative", -0.4),
]


@pytest.fixture
def acme() -> BrandBook:
    from trustpulse.brands import Brand

    return BrandBook(brands=(Brand(name="Acme", accounts=("@AcmeHelp",)),))


def hand_fixture() -> tuple[pl.DataFrame, pl.DataFrame]:
    mentions = pl.DataFrame(
        [
            {
                "mention_id": mid,
                "record_id": f"k:{i}",
                "dump_file": "hand.jsonl",
                "dump_key": "k",
                "source_format": "jsonl",
                "platform": "twitter",
                "thread_id": thread,
                "parent_id": parent,
                "position": pos,
                "author_id": f"a_{author}",
                "author": author,
                "is_owner": owner,
                "brand": ["Acme"],
                "mention_type": "direct" if text.startswith("@") or thread == "T4" else "about",
                "created_at": when,
                "text": text,
                "lang": "en",
                "n_chars": len(text),
                "url": None,
            }
            for i, (mid, thread, parent, pos, author, owner, when, text, _, _) in enumerate(ROWS)
        ],
        schema=MENTION_SCHEMA,
    )
    sentiment = pl.DataFrame(
        {"mention_id": [r[0] for r in ROWS], "label": [r[8] for r in ROWS], "score": [r[9] for r in ROWS]}
    )
    return mentions, sentiment


@pytest.fixture
def scores(acme):
    mentions, sentiment = hand_fixture()
    return score_mentions(mentions, sentiment, acme, ScoringConfig())


def test_needs_answer_by_hand(scores):
    na = scores.needs_answer.sort("mention_id")
    # m3 is a closing ("thanks, that sorted it!"), m12/m13 have no owner to answer them
    assert sorted(na["mention_id"]) == sorted(["m1", "m4", "m6", "m7", "m9", "m10", "m11"])
    by_id = {r["mention_id"]: r for r in na.iter_rows(named=True)}
    assert {k: by_id[k]["reason"] for k in by_id} == {
        "m1": "negative",
        "m4": "question",
        "m6": "question",
        "m7": "negative",
        "m9": "negative",
        "m10": "negative",
        "m11": "question",
    }
    assert {k: by_id[k]["answer_mention_id"] for k in by_id if by_id[k]["answered"]} == {
        "m1": "m2",
        "m4": "m5",
        "m7": "m8",
    }
    assert {k: by_id[k]["first_response_minutes"] for k in ("m1", "m4", "m7")} == {
        "m1": 30,
        "m4": 120,
        "m7": 20,
    }
    assert set(na["owner"]) == {"AcmeHelp"} and set(na["brand"]) == {"Acme"}
    # worst first: most negative, then most recent
    assert scores.unanswered["mention_id"].to_list() == ["m10", "m9", "m11", "m6"]


@pytest.mark.parametrize("period", [WEEK, "all"])
def test_responsiveness_by_hand(scores, period):
    row = scores.responsiveness.filter(
        (pl.col("owner") == "AcmeHelp") & (pl.col("period") == period) & (pl.col("cut") == "all")
    ).row(0, named=True)
    assert (row["needs_answer"], row["answered"]) == (7, 3)
    assert row["response_rate"] == pytest.approx(3 / 7)
    # Wilson 95%: centre (p + z^2/2n)/(1 + z^2/n), half-width z sqrt(p(1-p)/n + z^2/4n^2)/(1 + z^2/n)
    assert row["response_rate_low"] == pytest.approx(0.1582198552514697, abs=1e-12)
    assert row["response_rate_high"] == pytest.approx(0.7495416354723428, abs=1e-12)
    assert row["first_response_minutes_median"] == 30  # of 20, 30, 120
    assert row["first_response_minutes_p90"] == pytest.approx(102)  # 30 + 0.8 * (120 - 30)
    assert (row["negative_needs_answer"], row["negative_answered"]) == (4, 2)
    assert row["negative_response_rate"] == 0.5
    assert row["abandoned_threads"] == 1  # T4: m9, m10, m11 left after the owner's last reply
    assert row["abandoned_channel"] is False
    assert (row["owner_replies"], row["personal_replies"]) == (3, 1)  # m2 and m5 are the same canned text
    assert row["personal_reply_share"] == pytest.approx(1 / 3)
    # recovery: u1 -0.8 -> +0.6 (1.4); u4 -0.5 -> -0.6 (-0.1); mean 0.65
    assert (row["recovery_n"], row["sentiment_recovery"]) == (2, pytest.approx(0.65))


def test_trust_index_by_hand(scores):
    row = scores.trust_index.filter(pl.col("period") == WEEK).row(0, named=True)
    # ability: 10 audience mentions, 2 positive, 5 negative: 50 * (1 + (2 - 5) / 10)
    assert row["ability"] == pytest.approx(35.0)
    # benevolence: .4 * 3/7 + .3 * 2/4 + .2 * (1 - ln 31 / ln 1441) + .1 * (0.5 + 0.65 / 2)
    time_score = 1 - math.log1p(30) / math.log1p(1440)
    assert row["benevolence"] == pytest.approx(100 * (0.4 * 3 / 7 + 0.15 + 0.2 * time_score + 0.0825))
    # integrity: .4 * (1 - 3/7 abandoned) + .3 * 1/3 personal + .3 * (1 + 1) / (1 + 0 + 2) advocacy
    assert row["integrity"] == pytest.approx(100 * (0.4 * 4 / 7 + 0.1 + 0.2))
    assert row["trust_index"] == pytest.approx((35.0 + row["benevolence"] + row["integrity"]) / 3)
    assert row["trust_index"] == pytest.approx(46.269003175830164)
    assert row["trust_index_low"] <= row["trust_index"] <= row["trust_index_high"]
    assert row["index_note"] is None


def test_bootstrap_is_seeded(acme):
    mentions, sentiment = hand_fixture()
    a = score_mentions(mentions, sentiment, acme, ScoringConfig()).trust_index
    b = score_mentions(mentions, sentiment, acme, ScoringConfig()).trust_index
    c = score_mentions(mentions, sentiment, acme, ScoringConfig(seed=1)).trust_index
    assert a.equals(b)
    assert not a.equals(c)


def test_not_enough_data(acme):
    mentions, sentiment = hand_fixture()
    few = mentions.filter(pl.col("thread_id").is_in(["T1", "T2"]))
    row = (
        score_mentions(few, sentiment, acme, ScoringConfig())
        .trust_index.filter(pl.col("period") == "all")
        .row(0, named=True)
    )
    assert row["ability"] is None and row["ability_note"] == "not enough data (3 audience mentions < 10)"
    assert row["benevolence"] is None and row["trust_index"] is None
    assert row["index_note"].startswith("not enough data: ability, benevolence")


@pytest.mark.parametrize(
    "table",
    [
        "needs_answer",
        "unanswered",
        "responsiveness",
        "trust_index",
        "trust_drivers",
    ],
)
def test_score_tables_are_written_to_their_contract(acme, table):
    """Every scoring table has exactly its contract's columns and types, whatever the data (a normal week, too
    few mentions for any component, none at all)."""
    mentions, sentiment = hand_fixture()
    few = mentions.filter(pl.col("thread_id").is_in(["T1", "T2"]))
    for data in (mentions, few, mentions.head(0)):
        written = getattr(score_mentions(data, sentiment, acme, ScoringConfig()), table)
        assert_frame_equal(conform(written, table), written, check_dtypes=False)  # the values hold (strict cast)
        assert written.schema == pl.Schema(TABLES[table].schema)


def test_drivers_link_back_to_mentions(scores):
    d = scores.trust_drivers.filter(pl.col("period") == WEEK)
    unanswered = d.filter((pl.col("component") == "benevolence") & (pl.col("direction") == "-"))
    assert unanswered["mention_id"].to_list() == ["m10", "m9", "m11", "m6"]
    assert unanswered["impact"][0] == pytest.approx(-100 * 0.4 / 7)
    ability_down = d.filter((pl.col("component") == "ability") & (pl.col("direction") == "-"))
    assert ability_down["mention_id"][0] == "m1" and ability_down["impact"][0] == pytest.approx(50 * -0.8 / 10)
    advocacy = d.filter((pl.col("component") == "integrity") & (pl.col("direction") == "+"))
    assert advocacy["mention_id"].to_list() == ["m12"]
    canned = d.filter(pl.col("why").str.starts_with("canned"))
    assert sorted(canned["mention_id"]) == ["m2", "m5"]


def test_channel_abandonment(acme):
    """An owner who answered, then let 10 in a row go unanswered, abandoned the channel."""
    mentions, sentiment = hand_fixture()
    extra = [
        {
            **mentions.row(5, named=True),
            "mention_id": f"x{i}",
            "thread_id": f"X{i}",
            "author": f"v{i}",
            "author_id": f"a_v{i}",
            "created_at": _t(7, 8 + i // 6, (i * 10) % 60),
            "text": f"@AcmeHelp any news {i}?",
        }
        for i in range(10)
    ]
    mentions = pl.concat([mentions, pl.DataFrame(extra, schema=MENTION_SCHEMA)])
    sentiment = pl.concat(
        [
            sentiment,
            pl.DataFrame(
                {
                    "mention_id": [e["mention_id"] for e in extra],
                    "label": ["neutral"] * 10,
                    "score": [0.0] * 10,
                }
            ),
        ]
    )
    r = score_mentions(mentions, sentiment, acme, ScoringConfig()).responsiveness
    row = r.filter((pl.col("period") == "all") & (pl.col("cut") == "all")).row(0, named=True)
    assert row["abandoned_channel"] is True


def test_twcs_median_first_response_per_brand(settings, book):
    _, cleaned = clean_fixture("twcs_sample.csv", settings, book)
    m = cleaned.mentions
    neutral = m.select("mention_id", pl.lit("neutral").alias("label"), pl.lit(0.0).alias("score"))
    r = score_mentions(m, neutral, load_brandbook(settings.brands_path()), ScoringConfig()).responsiveness
    overall = r.filter((pl.col("period") == "all") & (pl.col("cut") == "all"))
    medians = dict(zip(overall["brand"], overall["first_response_minutes_median"], strict=True))
    assert medians == {"Sprint": 42.5, "Apple": 20.0}  # sprintcare answered after 15 and 70 minutes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("how do I change my seat", True),
        ("Is it open?", True),
        ("the app crashes", False),
        ("Any update on my refund", True),
    ],
)
def test_questions(text, expected):
    assert is_question(text) is expected


def test_gratitude_and_advocacy():
    assert is_gratitude_only("@Acme thanks, that sorted it!") and not is_gratitude_only("thanks but it's broken")
    assert is_advocacy("Highly recommend them", 0.8) and not is_advocacy("I recommend avoiding them", -0.8)


def test_wilson_edges():
    assert wilson_interval(0, 0) == (None, None)
    low, high = wilson_interval(0, 10)
    assert low == 0 and 0.27 < high < 0.28


def test_weighted_median_is_the_median_of_the_repeated_values():
    rng = np.random.default_rng(3)
    for size in (1, 2, 7, 50):
        values = np.sort(rng.exponential(30, size))
        weights = rng.integers(0, 4, size)
        expected = np.median(np.repeat(values, weights)) if weights.sum() else None
        assert weighted_median(values, weights) == expected
    assert weighted_median(np.array([]), np.array([], dtype=int)) is None


def test_canned_replies_repeats_anywhere_near_copies_within_the_window():
    template = "thanks for reaching out, please send us a direct message with your order number so we can help"
    distinct = [
        "your refund went out on monday",
        "the lounge opens at six",
        "we moved you to the 9:40 flight",
        "a courier will collect the parcel",
        "sorry, that colour is sold out",
        "gate changes show in the app first",
    ]
    texts = [template, *distinct, template.replace("help", "help!"), distinct[0], template + " today"]
    # all pairs (window covers everything): the template's variants and the repeated reply are canned
    assert canned_flags(texts, 90, window=100).tolist() == [1, 1, 0, 0, 0, 0, 0, 1, 1, 1]
    # window 2 over distinct texts in order of first use: "help!" (7th distinct) is 7 away from the template
    # (0th) and "today" is 1 away from "help!"; the repeat of reply 0 counts whatever the distance
    assert canned_flags(texts, 90, window=2).tolist() == [0, 1, 0, 0, 0, 0, 0, 1, 1, 1]


def test_a_neutral_mention_is_never_named_a_positive_or_negative_driver(acme):
    """A mention the model labelled neutral, with a score a hair above or below zero, is not called a
    "positive audience mention" (or a negative one) in the drivers: only the model's polar labels are."""
    mentions, sentiment = hand_fixture()
    # every labelled mention becomes neutral, half of them scored just above zero and half just below
    ids = sentiment["mention_id"].to_list()
    neutral = sentiment.with_columns(
        label=pl.lit("neutral"), score=pl.Series([0.01 if i % 2 else -0.01 for i in range(len(ids))])
    )
    drivers = score_mentions(mentions, neutral, acme, ScoringConfig()).trust_drivers
    assert drivers.filter(pl.col("component") == "ability").height == 0
    # with the hand labels, the ability drivers are exactly the polar mentions
    labelled = score_mentions(mentions, sentiment, acme, ScoringConfig()).trust_drivers
    ability = labelled.filter(pl.col("component") == "ability").join(sentiment, on="mention_id")
    assert set(ability.filter(pl.col("direction") == "+")["label"]) <= {"positive"}
    assert set(ability.filter(pl.col("direction") == "-")["label"]) == {"negative"}
