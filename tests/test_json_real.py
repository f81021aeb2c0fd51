"""The JSON reader on real files from the wild (tests/fixtures/json, see SOURCES.md there).

Expected values were read by hand from the fixture files, not taken from the reader's output.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from trustpulse.readers import DumpSource, count_file_records, detect_format, read_dump
from trustpulse.readers.json_reader import count_json_records, records_from_object

REAL = Path(__file__).parent / "fixtures" / "json"

# file -> (format, records, kept, skipped)
EXPECTED_COUNTS = {
    "reddit_thread_more_stubs.json": ("json", 7, 5, 2),  # post + 4 comments + 2 `more` stubs
    "reddit_thread_context_chain.json": ("json", 12, 11, 1),  # post + 10 nested comments + "continue this thread"
    "reddit_thread_deleted_comment.json": ("json", 7, 6, 1),  # post + 6 comments, one [deleted]
    "reddit_user_overview_spez.json": ("json", 100, 100, 0),  # 97 comments + 3 posts
    "pushshift_comments.ndjson": ("jsonl", 27, 23, 4),  # 2 [removed] + 2 [deleted] bodies
    "twarc2_flattened_head.jsonl": ("jsonl", 4, 4, 0),
    "twarc2_search_response.jsonl": ("json", 1, 1, 0),  # one response on one line: a document
    "v1_status_jack.json": ("json", 1, 1, 0),
    "v1_extended_tweet.json": ("json", 1, 1, 0),
}


def read(name: str) -> pl.DataFrame:
    source = DumpSource(REAL / name)
    return pl.concat(list(read_dump(source, detect_format(source))))


def row(raw: pl.DataFrame, native_id: str) -> dict:
    return raw.filter(pl.col("native_id") == native_id).row(0, named=True)


@pytest.mark.parametrize("name", sorted(EXPECTED_COUNTS))
def test_format_counts_and_accounting(name: str):
    fmt, records, kept, skipped = EXPECTED_COUNTS[name]
    source = DumpSource(REAL / name)
    assert detect_format(source) == fmt
    raw = read(name)
    assert raw.height == records
    assert raw["parse_error"].null_count() == records
    assert raw["skip_reason"].drop_nulls().len() == skipped
    assert raw.filter(pl.col("skip_reason").is_null()).height == kept
    # the structural count agrees with what the reader produced
    assert count_file_records(source, fmt) == records


def test_every_fixture_is_counted_by_an_independent_walk():
    for name, (fmt, records, _, _) in EXPECTED_COUNTS.items():
        text = (REAL / name).read_text(encoding="utf-8")
        values = (
            [json.loads(line) for line in text.splitlines() if line.strip()] if fmt == "jsonl" else [json.loads(text)]
        )
        assert count_json_records(values) == records, name


def test_reddit_thread_with_more_stubs():
    raw = read("reddit_thread_more_stubs.json")
    post = row(raw, "t3_98vj9e")
    assert post["kind"] == "post" and post["author_handle"] == "kemitche" and post["created_at_raw"] == "1534785690"
    assert post["text"].startswith("Please be a good 'bot' citizen of reddit\n\nHello everyone!")
    assert post["owner_hint"] is None
    reply = row(raw, "t1_e4uhrr8")
    assert reply["author_handle"] == "Sporkicide" and reply["created_at_raw"] == "1535256046"
    assert reply["parent_native_id"] == "t1_e4uaa59" and reply["thread_native_id"] == "t3_98vj9e"
    assert reply["text"] == "Oh yeah, like I ever listen to anything that guy says."
    assert row(raw, "t1_e4uaa59")["author_handle"] == "V2Blast"
    stubs = raw.filter(pl.col("skip_reason").is_not_null())
    assert stubs.select("parent_native_id", "skip_reason").rows() == [
        ("t1_e4uhrr8", "not_in_dump: reddit 'more' stub for 1 comments not in this file"),
        ("t1_e4j4830", "not_in_dump: reddit 'more' stub for 5 comments not in this file"),
    ]
    assert stubs["native_id"].null_count() == 2  # a stub's name is its first hidden comment's, not its own


def test_reddit_comment_chain_ten_deep_and_continue_stub():
    raw = read("reddit_thread_context_chain.json")
    assert raw.filter(pl.col("kind") == "comment")["text"].to_list()[:10] == [str(i) for i in range(1, 11)]
    deepest = row(raw, "t1_dkk4pwe")
    assert deepest["parent_native_id"] == "t1_dkk4pvi" and deepest["created_at_raw"] == "1500706626"
    assert row(raw, "t1_dkk4pne")["parent_native_id"] == "t3_6otocc"
    stub = raw.filter(pl.col("skip_reason").is_not_null()).row(0, named=True)
    assert stub["parent_native_id"] == "t1_dkk4pwe" and stub["skip_reason"].startswith("not_in_dump: reddit 'continue")


def test_reddit_deleted_comment_is_skipped_and_its_reply_kept():
    raw = read("reddit_thread_deleted_comment.json")
    deleted = row(raw, "t1_dedry69")
    assert deleted["skip_reason"] == "deleted: comment body is [deleted]" and deleted["author_handle"] is None
    reply = row(raw, "t1_dedtw0d")
    assert reply["author_handle"] == "ragnar_bot87" and reply["parent_native_id"] == "t1_dedry69"
    assert reply["created_at_raw"] == "1488401282"
    assert row(raw, "t3_5wycy8")["author_handle"] == "ragnar_bot87"


def test_reddit_user_listing():
    raw = read("reddit_user_overview_spez.json")
    assert raw["kind"].value_counts().sort("kind").rows() == [("comment", 97), ("post", 3)]
    assert set(raw["author_handle"]) == {"spez"}
    first = row(raw, "t1_dgkdvkz")
    assert first["parent_native_id"] == "t1_dgkdpjg" and first["thread_native_id"] == "t3_66q4is"
    assert first["created_at_raw"] == "1492791260"
    assert (
        first["url"] == "https://www.reddit.com/r/modnews/comments/66q4is/the_web_redesign_css_and_mod_tools/dgkdvkz/"
    )
    link_post = row(raw, "t3_8575")
    assert link_post["text"] == "100 oldest dot com domains\nhttp://www.jottings.com/100-oldest-dot-com-domains.htm"
    assert link_post["created_at_raw"] == "1129643665"


def test_reddit_listings_one_per_line(tmp_path: Path):
    listing = (REAL / "reddit_user_overview_spez.json").read_text(encoding="utf-8")
    path = tmp_path / "listings.jsonl"
    path.write_text(listing + "\n" + listing + "\n", encoding="utf-8")
    source = DumpSource(path)
    assert detect_format(source) == "jsonl"
    raw = pl.concat(list(read_dump(source, "jsonl")))
    assert raw.height == 200 and count_file_records(source, "jsonl") == 200
    assert raw["line_start"].to_list() == [1] * 100 + [2] * 100


def test_pretty_printed_thread_is_one_document(tmp_path: Path):
    thread = json.loads((REAL / "reddit_thread_more_stubs.json").read_text(encoding="utf-8"))
    path = tmp_path / "thread_pretty.json"
    path.write_text(json.dumps(thread, indent=2), encoding="utf-8")
    source = DumpSource(path)
    assert detect_format(source) == "json"
    raw = pl.concat(list(read_dump(source, "json")))
    assert raw.height == 7 and count_file_records(source, "json") == 7


def test_bare_submission_object_is_a_post():
    listing = json.loads((REAL / "reddit_user_overview_spez.json").read_text(encoding="utf-8"))
    submission = next(child["data"] for child in listing["data"]["children"] if child["kind"] == "t3")
    (post,) = records_from_object(submission)  # as a Pushshift submissions dump has it: no kind wrapper
    assert post["kind"] == "post" and post["native_id"] == "t3_8575" and post["author_handle"] == "spez"


def test_pushshift_lines_with_string_float_and_int_times():
    raw = read("pushshift_comments.ndjson")
    bot = row(raw, "t1_kod0bke")  # created_utc 1706745600.0 (float)
    assert bot["author_handle"] == "Bitty_Bot" and bot["created_at_raw"] == "1706745600"
    assert bot["parent_native_id"] == "t1_kihqg38" and bot["thread_native_id"] == "t3_199i3jp"
    tells = row(raw, "t1_c0cmuol")  # created_utc "1251763200" (string)
    assert tells["author_handle"] == "tells" and tells["created_at_raw"] == "1251763200"
    assert tells["parent_native_id"] == "t1_c0cmjyg" and tells["thread_native_id"] == "t3_9fure"
    old = row(raw, "t1_c13")  # no `name`: built from `id`; created_utc 1134365188 (int)
    assert old["author_handle"] == "frjo" and old["created_at_raw"] == "1134365188"
    assert old["parent_native_id"] == "t3_17863"
    assert row(raw, "t1_c63fp23")["author_handle"] == "kn0thing"
    reasons = raw["skip_reason"].drop_nulls().to_list()
    assert sorted(reasons) == ["deleted: comment body is [deleted]"] * 2 + ["deleted: comment body is [removed]"] * 2
    orphan = row(raw, "t1_c15")  # author [deleted], text kept
    assert orphan["author_handle"] is None and orphan["text"] == "Jython related topics by Frank Wierzbicki"
    assert orphan["skip_reason"] is None and "[deleted]" in orphan["reader_note"]


def test_pushshift_api_response(tmp_path: Path):
    lines = (REAL / "pushshift_comments.ndjson").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "pushshift_page.json"
    path.write_text(json.dumps({"data": [json.loads(line) for line in lines[:3]]}), encoding="utf-8")
    source = DumpSource(path)
    raw = pl.concat(list(read_dump(source, detect_format(source))))
    assert raw["author_handle"].to_list() == ["DubsAli", "Bitty_Bot", "spaceforce505"]
    assert set(raw["platform"]) == {"reddit"} and count_file_records(source, "json") == 3


def test_twarc2_flattened_keeps_usernames_replies_and_full_retweet_text():
    raw = read("twarc2_flattened_head.jsonl")
    reply = row(raw, "1380242586288328707")
    assert reply["author_handle"] == "PDXPapaG" and reply["author_name"] == "Kaz"
    assert reply["created_at_raw"] == "2021-04-08T19:34:10.000Z"
    assert reply["parent_native_id"] == "1380229267770933248"
    assert reply["thread_native_id"] == "1380220754978086917"
    assert reply["url"] == "https://x.com/PDXPapaG/status/1380242586288328707"
    retweet = row(raw, "1380242611781386245")
    assert retweet["author_handle"] == "Alexandravm12" and retweet["author_name"] == "Alexandra Machado"
    assert retweet["text"].startswith("RT @williamserafino: De manera simultánea")
    assert retweet["text"].endswith("La pandilla del Partido Demócrata hace sentir su regreso.")
    assert not any(handle.isdigit() for handle in raw["author_handle"])


def test_x_api_v2_search_response():
    tweet = read("twarc2_search_response.jsonl").row(0, named=True)
    assert tweet["native_id"] == "1394735776701816833"
    assert tweet["author_handle"] == "LachiVeronica" and tweet["author_name"] == "Veronica Lachi"
    assert tweet["created_at_raw"] == "2021-05-18T19:24:56.000Z"
    assert tweet["text"] == "RT @bibaigna96: #POIUYTREWQ"


def test_v1_statuses():
    jack = read("v1_status_jack.json").row(0, named=True)
    assert (jack["native_id"], jack["author_handle"], jack["author_name"]) == ("397", "jack", "Jack")
    assert jack["created_at_raw"] == "Sun Mar 26 19:17:08 +0000 2006" and jack["text"] == "getting waxed!"
    extended = read("v1_extended_tweet.json").row(0, named=True)
    assert extended["native_id"] == "782737772490600448" and extended["author_handle"] == "notinourselves"
    assert extended["text"].startswith("has more details about these changes.")
    assert extended["text"].endswith("https://t.co/JWSPztfoyt")
    assert extended["created_at_raw"] == "Mon Oct 03 00:23:22 +0000 2016"


# --- values: never interpreted in the reader --------------------------------------------------------------------


def test_epoch_milliseconds_number_is_passed_on_as_text():
    (record,) = records_from_object({"id": 1, "text": "hi", "created_at": 1700000000123})
    assert record["created_at_raw"] == "1700000000123" and "parse_error" not in record
    assert record["native_id"] == "1"


def test_float_id_that_lost_precision_is_not_used():
    (record,) = records_from_object({"id": 1.3802425863e18, "text": "hi"})
    assert record["native_id"] is None and "lost precision" in record["reader_note"]
    (exact,) = records_from_object({"id": 12345.0, "text": "hi"})
    assert exact["native_id"] == "12345"


def test_a_bad_record_inside_a_page_does_not_fail_the_page():
    records = records_from_object({"data": [{"id": "1", "text": "ok", "author_id": "9"}, "oops", {"id": "3"}]})
    assert [r.get("parse_error") for r in records] == [None, "expected a JSON object, got str", "record has no text"]
    assert records[0]["author_handle"] == "9" and "numeric id is used" in records[0]["reader_note"]
    assert count_json_records([{"data": [{"id": "1"}, "oops", {"id": "3"}]}]) == 3


def test_two_reddit_replies_with_the_same_words_are_two_mentions(settings, book):
    """WindyCheck answered twice with "test comment" (t1_deg4a40, t1_deg4sly, 14 minutes apart): two
    comments with their own Reddit ids, not a duplicate."""
    from tests.conftest import read_raw
    from trustpulse.cleaning.dump import clean_dump

    cleaned = clean_dump(read_raw(REAL / "reddit_thread_deleted_comment.json", settings), settings, book, b"k")
    assert cleaned.mentions.height == 6 and cleaned.duplicates.height == 0
    assert cleaned.quarantine["reason"].to_list() == ["deleted: comment body is [deleted]"]
    assert cleaned.mentions.filter(pl.col("author") == "WindyCheck")["text"].to_list().count("test comment") == 2


def test_youtube_comment_thread_replies_are_read_and_counted():
    source = DumpSource(REAL / "youtube_comment_thread.json")
    fmt = detect_format(source)
    raw = pl.concat(list(read_dump(source, fmt)))
    assert count_file_records(source, fmt) == raw.height == 2
    rows = {r["author_name"]: r for r in raw.iter_rows(named=True)}
    joko = rows["Joko Prabowo"]
    assert joko["text"] == "@Sugyono Saja betul om" and joko["created_at_raw"] == "2019-12-31T12:23:28.000Z"
    assert joko["parent_native_id"] == "Ugw1hpNW--cMCwhG-wJ4AaABAg" and joko["platform"] == "youtube"
    assert rows["Sugyono Saja"]["text"] == "Bikin burung laen drop. Suara kasar dan kerras"


def test_tweets_with_their_own_includes_get_usernames():
    raw = pl.concat(list(read_dump(DumpSource(REAL / "twitterdev_tweets_own_includes.jsonl"), "jsonl")))
    assert raw["author_handle"].to_list() == ["TwitterDev"] * 4
    assert raw["reader_note"].is_null().all()


def test_an_unknown_shape_with_texts_inside_shows_as_a_gap(tmp_path: Path):
    """An object we cannot read, holding three comments: the reader keeps one record (quarantined), the
    structural count says three, so the accounting shows two unread instead of 'balanced'."""
    path = tmp_path / "forum.json"
    path.write_text(
        '{"forum": "x", "posts": [{"message": "first"}, {"message": "second", "replies": [{"message": "third"}]}]}'
    )
    source = DumpSource(path)
    records = list(read_dump(source, detect_format(source)))
    assert sum(frame.height for frame in records) == 1
    assert count_file_records(source, detect_format(source)) == 3
