"""Cleaning rules, each on a small dump in the seeds' shape or a structured export."""

from __future__ import annotations

import polars as pl
import pytest

from tests.conftest import clean_fixture, read_raw
from trustpulse.brands import BrandsConfigError, load_brandbook
from trustpulse.cleaning.authors import infer_post_author, pseudonymise
from trustpulse.cleaning.boilerplate import is_boilerplate_line
from trustpulse.cleaning.dates import parse_timestamp
from trustpulse.cleaning.dedup import find_duplicates
from trustpulse.cleaning.dump import clean_dump
from trustpulse.cleaning.language import detect_language
from trustpulse.cleaning.text import mask_pii, normalise_text

FORM_BOILERPLATE = ("Post a comment", "Verify your Comment", "ReplyDelete", "Comments are moderated")


@pytest.mark.parametrize(
    "line",
    [
        "Post a comment",
        "Verify your Comment",
        "Comments are moderated, and will not appear until the author has approved them.",
        "Your Information",
        "(Name is required. Email address will not be displayed with the comment.)",
        "ReplyDelete",
        "Having trouble reading this image? View an alternate.",
    ],
)
def test_boilerplate_lines(line):
    assert is_boilerplate_line(line)


def test_normal_sentences_are_not_boilerplate():
    assert not is_boilerplate_line("Post a comment if you disagree with me, I read them all.")
    assert not is_boilerplate_line("Comments like yours are why I write.")


def test_blog_thread_is_cleaned_into_the_contract(settings, book):
    raw, cleaned = clean_fixture("blog_thread.txt", settings, book)
    m = cleaned.mentions
    texts = m["text"].to_list()
    # no boilerplate survives, and the form is quarantined as such
    assert not any(b in t for t in texts for b in FORM_BOILERPLATE)
    assert cleaned.quarantine["reason"].str.starts_with("boilerplate").all()
    # repeated comments collapse: no thread keeps two mentions with the same text
    assert m.group_by("thread_id", "text").len()["len"].max() == 1
    assert cleaned.duplicates["rule"].to_list() == ["repeated_block"] * 4
    # whole multi-line comments, signature authors, the post's author as owner
    beth = m.filter(pl.col("author") == "Beth Harte").row(0, named=True)
    assert beth["text"].count("\n") == 3 and not beth["is_owner"]
    assert set(m["author"].drop_nulls()) >= {"Beth Harte", "Liz Strauss", "Maria"}
    post = m.filter(pl.col("position") == 0).row(0, named=True)
    assert post["is_owner"] and post["author"] == "Maria" and post["parent_id"] is None
    owner_replies = m.filter(pl.col("is_owner") & (pl.col("position") > 0))
    assert sorted(t.split(" –")[0] for t in owner_replies["text"]) == ["@Beth", "@Liz"]
    # replies link to the comment of the person they address; other comments answer the post
    by_id = {r["mention_id"]: r for r in m.iter_rows(named=True)}
    for reply in owner_replies.iter_rows(named=True):
        parent = by_id[reply["parent_id"]]
        assert reply["text"].startswith("@" + parent["author"].split()[0])
    assert m.filter(~pl.col("is_owner"))["parent_id"].to_list() == [post["mention_id"]] * 4
    # blog comments talk to the post's author
    assert set(m["mention_type"]) == {"direct"}
    # PII masked in text, pseudonymised author ids beside display names
    reply_liz = owner_replies.filter(pl.col("text").str.starts_with("@Liz"))["text"].item()
    assert "[email]" in reply_liz and "[phone]" in reply_liz and "maria@example.com" not in reply_liz
    assert m["author_id"].drop_nulls().str.starts_with("a_").all()
    assert m.filter(pl.col("author") == "Maria")["author_id"].n_unique() == 1
    assert m["lang"][0] == "en"
    assert cleaned.accounting(raw.height)["raw_records"] == raw.height


def test_blogger_owner_reply_detected_by_thanks(settings, book):
    _, cleaned = clean_fixture("blogger_thread.txt", settings, book)
    m = cleaned.mentions.sort("position")
    assert m["is_owner"].to_list() == [True, False, True, False]


def test_twcs_threads_parents_owners_and_brands(settings, book):
    _, cleaned = clean_fixture("twcs_sample.csv", settings, book)
    m = cleaned.mentions
    assert m.height == 6
    assert m["thread_id"].n_unique() == 2
    by_native = {r["record_id"].rsplit(":", 1)[1]: r for r in m.iter_rows(named=True)}
    ids = {r["text"][:20]: r["mention_id"] for r in m.iter_rows(named=True)}
    first = m.filter(pl.col("text").str.contains("propose")).row(0, named=True)
    reply = m.filter(pl.col("text").str.contains("Private Message")).row(0, named=True)
    assert reply["parent_id"] == first["mention_id"] and reply["is_owner"]
    assert not first["is_owner"] and first["mention_type"] == "direct"
    assert first["brand"] == ["Sprint"]
    assert m.filter(pl.col("is_owner"))["author"].to_list() == ["sprintcare", "sprintcare", "AppleSupport"]
    positions = m.filter(pl.col("thread_id") == first["thread_id"]).sort("created_at")["position"].to_list()
    assert positions == [0, 1, 2, 3]
    assert str(first["created_at"]) == "2017-10-31 22:10:47+00:00"
    assert cleaned.duplicates["rule"].to_list() == ["same_id"]
    reasons = sorted(cleaned.quarantine["reason"])
    assert reasons[0] == "parse_error: expected 7 fields, got 4"
    assert "inbound must be True or False" in reasons[1]
    assert ids and by_native


def test_x_api_direct_about_and_product(settings, book):
    _, cleaned = clean_fixture("x_api_response.json", settings, book)
    m = {r["text"][:12]: r for r in cleaned.mentions.iter_rows(named=True)}
    complaint, answer, industry = m["@AcmeHelp my"], m["@ana_b sorry"], m["widgets from"]
    assert complaint["text"] == "@AcmeHelp my widget broke after one day & nobody answers"
    assert complaint["mention_type"] == "direct" and complaint["brand"] == ["Acme"]
    assert answer["is_owner"] and answer["parent_id"] == complaint["mention_id"]
    assert industry["mention_type"] == "product" and industry["brand"] == ["Acme"]


def test_reddit_owner_from_configured_account_and_duplicate_ids(settings, book):
    raw, cleaned = clean_fixture("reddit_comments.jsonl", settings, book)
    m = cleaned.mentions
    assert m.filter(pl.col("is_owner"))["author"].to_list() == ["AcmeOfficial"]
    recommend = m.filter(pl.col("text").str.starts_with("Acme refunded")).row(0, named=True)
    assert recommend["mention_type"] == "about"
    assert cleaned.duplicates.height == 1 and cleaned.quarantine.height == 2
    assert m["platform"].unique().to_list() == ["reddit"]
    assert raw.height == m.height + cleaned.duplicates.height + cleaned.quarantine.height


def test_generic_csv_markup_and_mixed_dates(settings, book):
    _, cleaned = clean_fixture("listening_custom.csv", settings, book)
    m = cleaned.mentions.sort("record_id")
    assert m["text"][0] == "Anyone tried Acme support? They answered in minutes."
    assert [str(t) for t in m["created_at"]] == [
        "2024-03-01 09:00:00+00:00",
        "2024-03-01 12:30:00+00:00",
        "2024-03-02 20:15:00+00:00",
    ]
    assert m["mention_type"].to_list() == ["about", "about", "product"]


def test_generic_jsonl_empty_text_quarantined(settings, book):
    _, cleaned = clean_fixture("generic.jsonl", settings, book)
    assert cleaned.quarantine["reason"].to_list() == ["empty_text: nothing left after cleaning"]
    answer = cleaned.mentions.filter(pl.col("is_owner")).row(0, named=True)
    question = cleaned.mentions.filter(~pl.col("is_owner")).row(0, named=True)
    assert answer["parent_id"] == question["mention_id"] and answer["thread_id"] == question["thread_id"]


def test_plain_text_platforms_keep_markup_as_text():
    payload = "<script>alert(1)</script> hi &amp; bye"
    assert normalise_text(payload, markup=False) == "<script>alert(1)</script> hi & bye"
    assert normalise_text("<p>hi <b>there</b></p><script>alert(1)</script>") == "hi there"


def test_mask_pii():
    masked = mask_pii("mail a.b+c@example.co.uk or call (415) 555-0132 / +44 20 7946 0958; 14% of 400 people")
    assert masked == "mail [email] or call [phone] / [phone]; 14% of 400 people"


def test_dates():
    assert str(parse_timestamp("Tue Oct 31 22:10:47 +0000 2017")) == "2017-10-31 22:10:47+00:00"
    assert str(parse_timestamp("2024-03-01T10:00:00+02:00")) == "2024-03-01 08:00:00+00:00"
    assert str(parse_timestamp("1709287200")) == "2024-03-01 10:00:00+00:00"
    with pytest.raises(ValueError, match="is not a date"):
        parse_timestamp("not a date")


def test_language():
    assert detect_language("Customers want to be heard and they want competence from the brands they buy from") == "en"
    assert detect_language("Los clientes quieren ser escuchados y quieren competencia de las marcas") == "es"
    assert detect_language("ok!") == "und"


def test_pseudonymise_is_keyed_and_stable():
    assert pseudonymise(b"k1", "twitter", "@Ana") == pseudonymise(b"k1", "twitter", "ana")
    assert pseudonymise(b"k1", "twitter", "ana") != pseudonymise(b"k2", "twitter", "ana")
    assert pseudonymise(b"k1", "twitter", None) is None


def test_infer_post_author_needs_agreement():
    assert infer_post_author(["Amber,\nnice", "Hi Amber, great", "Great post Amber. Thanks"]) == "Amber"
    assert infer_post_author(["Amber, nice"]) is None


def test_near_duplicates_only_within_author_parent_group():
    texts = [
        "Please DM us your order number so we can help.",
        "Please DM us your order number so we can help!",
        "Please DM us your order number so we can help.",
    ]
    keys = [("t", "brand", "p1"), ("t", "brand", "p1"), ("t", "brand", "p2")]
    dups = find_duplicates(texts, [None] * 3, [None] * 3, keys, near_ratio=95)
    assert [(d.row, d.of_row, d.rule) for d in dups] == [(1, 0, "near")]


def test_brands_yaml_errors_name_the_file(tmp_path):
    bad = tmp_path / "brands.yaml"
    bad.write_text("brands:\n  - aliases: [x]\n")
    with pytest.raises(BrandsConfigError, match=r"brands.yaml: brands\[0\]: every brand needs a 'name'"):
        load_brandbook(bad)


def test_unnamed_post_authors_of_different_blogs_get_different_ids(settings, book, tmp_path):
    ids = set()
    for i in range(2):
        path = tmp_path / f"blog{i}.txt"
        path.write_text(f"Post number {i} about service\n\nWe try hard to answer everyone, every day.\n")
        raw = read_raw(path, settings)
        cleaned = clean_dump(raw, settings, book, b"k")
        (post,) = cleaned.mentions.iter_rows(named=True)
        # named by their page, so that the report never adds two blogs' authors up as one owner
        assert post["is_owner"] and post["author"] == f"author of blog{i}.txt"
        assert post["brand"] == [f"author of blog{i}.txt"]  # with no brands file, the owner is its own entity
        ids.add(post["author_id"])
    assert len(ids) == 2


def test_pii_masked_in_raw_records_without_touching_ids():
    from trustpulse.cleaning.text import mask_pii_in_raw

    raw = '{"id": "8282173020", "author_id": "4155550100", "text": "call 415-555-0132 or a.b@x.com"}'
    masked = mask_pii_in_raw(raw, "call 415-555-0132 or a.b@x.com")
    assert masked == '{"id": "8282173020", "author_id": "4155550100", "text": "call [phone] or [email]"}'
    assert mask_pii_in_raw('1,"broken, mail x@y.org', None) == '1,"broken, mail [email]'
