"""The report states only what the data supports, stays readable at 20 entities, and reconciles with the warehouse.

Small samples say "not enough data (n=2)"; zero-width or few-thread intervals are never drawn; 20 names get 20
colours; a chart that shows a subset says so; one period is a sentence; a planted mismatch between what the report
states and the warehouse fails the blocking check and leaves latest.html as it was.
"""

import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.checks import report_reconciles
from assets.report import executive_report, published_report
from tests.conftest import with_contract_columns
from tests.test_report import RUN_DATE, build_rich_root
from trustpulse.report import blocks, figures, fmt
from trustpulse.report.context import load_report
from trustpulse.report.kpis import (
    NOT_ENOUGH,
    Kpi,
    Measure,
    all_kpis,
    median_response_measure,
    response_rate_measure,
    trust_measure,
)
from trustpulse.report.reconcile import reconcile
from trustpulse.report.render import ReportNotReconciled, render_report
from trustpulse.report.stated import ANSWERED, ANSWERED_NOT_IN_DUMP, NEEDS_ANSWER
from trustpulse.report.style import PALETTE, assign_colors, color_for
from trustpulse.settings import TrustpulseSettings

MIN_N = TrustpulseSettings.model_fields["min_kpi_n"].default
WEEKS = ("2026-10-12", "2026-10-19")
UTC_TS = pl.Datetime("us", "UTC")


def _ts(week: str, hours: int) -> datetime:
    return datetime.fromisoformat(week).replace(tzinfo=UTC) + timedelta(hours=hours)


def _needs(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema_overrides={"created_at": UTC_TS})


def _write(root: Path, name: str, df: pl.DataFrame) -> None:
    (root / "warehouse").mkdir(parents=True, exist_ok=True)
    df.write_parquet(root / "warehouse" / f"{name}.parquet")


def build_owner_root(root: Path, owners: int, weeks: tuple[str, ...] = WEEKS) -> Path:
    """`owners` owner accounts (each its own brand), owner i with i+1 mentions needing an answer per week."""
    needs, resp = [], []
    for i in range(owners):
        owner = f"owner{i:02d}"
        for week in weeks:
            for j in range(i + 1):
                needs.append(
                    {
                        "mention_id": f"{owner}-{week}-{j}",
                        "owner": owner,
                        "brand": owner,
                        "platform": "blog",
                        "created_at": _ts(week, j),
                        "reason": "question",
                        "is_negative": False,
                        "answered": j % 2 == 0,
                        "first_response_minutes": 30.0 if j % 2 == 0 else None,
                    }
                )
        frame = _needs([n for n in needs if n["owner"] == owner])
        for period in (*weeks, "all"):
            rows = frame if period == "all" else frame.filter(pl.col("created_at").dt.strftime("%Y-%m-%d") >= period)
            if period != "all":
                rows = rows.filter(pl.col("created_at") < _ts(period, 24 * 7))
            n, a = rows.height, int(rows["answered"].sum())
            resp.append(
                {
                    "owner": owner,
                    "brand": owner,
                    "period": period,
                    "cut": "all",
                    "needs_answer": n,
                    "answered": a,
                    "response_rate": a / n,
                }
            )
    _write(root, "needs_answer", _needs(needs))
    _write(root, "responsiveness", with_contract_columns(pl.DataFrame(resp), "responsiveness"))
    return root


# ---- 1. small samples --------------------------------------------------------------------------------------------


def test_min_kpi_n_is_one_named_setting() -> None:
    assert MIN_N == 5 and TrustpulseSettings(data_root="/tmp/x").min_kpi_n == MIN_N


def test_small_n_card_says_not_enough_data() -> None:
    two = _needs(
        [
            {"answered": True, "answer_in_dump": True, "first_response_minutes": 26.0},
            {"answered": True, "answer_in_dump": True, "first_response_minutes": 26.0},
        ]
    )
    rate = response_rate_measure(two, MIN_N)
    assert rate.value is None and rate.note == f"{NOT_ENOUGH} (n=2)"
    minutes = median_response_measure(two, MIN_N)
    assert minutes.value is None and minutes.note == f"{NOT_ENOUGH} (n=2)"
    html = blocks.card(Kpi("response_rate", "Response rate", "pct", "up", rate, None), "before")
    assert "not enough data (n=2)" in html and "100%" not in html
    html = blocks.card(Kpi("median_response", "Median", "minutes", "down", minutes, None), "before")
    assert "not enough data (n=2)" in html and "26 min" not in html
    assert response_rate_measure(two, min_n=2).value == pytest.approx(100.0)  # the setting decides


def test_small_n_in_a_rendered_report(tmp_path: Path) -> None:
    root = build_rich_root(tmp_path / "data")
    needs = pl.read_parquet(root / "warehouse" / "needs_answer.parquet")
    # Globex: only 2 mentions needing an answer in the report week
    keep = ~((pl.col("brand") == "Globex") & (pl.col("created_at") >= _ts("2026-10-19", 0))) | pl.col(
        "mention_id"
    ).is_in(["G200", "G201"])
    _write(root, "needs_answer", needs.filter(keep))
    unanswered = pl.read_parquet(root / "warehouse" / "unanswered.parquet")
    _write(
        root, "unanswered", unanswered.filter(pl.col("mention_id").is_in(needs.filter(keep)["mention_id"].to_list()))
    )
    report = load_report(root, run_date=RUN_DATE)
    globex = next(k for k in all_kpis(report) if k.brand == "Globex")
    assert globex.get("response_rate").current.note == f"{NOT_ENOUGH} (n=2)"
    html = blocks.kpi_cards(report, all_kpis(report))
    assert "not enough data (n=2)" in html


# ---- intervals ---------------------------------------------------------------------------------------------------


def _trust(threads: int, low: float, high: float) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "brand": ["B"],
            "period": ["2026-10-19"],
            "trust_index": [60.0],
            "trust_index_low": [low],
            "trust_index_high": [high],
            "index_note": [None],
            "threads": [threads],
        },
        schema_overrides={"index_note": pl.String},
    )


def test_zero_width_interval_is_never_shown() -> None:
    assert fmt.interval(60.0, 60.0, "index") == "" and fmt.interval(40.0, 60.0, "pct") == "95% CI 40–60%"
    flat = trust_measure(_trust(threads=12, low=60.0, high=60.0), "B", "2026-10-19", MIN_N)
    assert flat.value == 60.0 and flat.low is None and flat.high is None and flat.interval_note
    html = blocks.card(Kpi("trust_index", "Trust index", "index", "up", flat, None), "before")
    assert "95% CI" not in html and "60.0" in html
    few = trust_measure(_trust(threads=3, low=60.0, high=60.0), "B", "2026-10-19", MIN_N)
    assert few.value is None and few.note == f"{NOT_ENOUGH} (n=3)"


def test_few_thread_intervals_are_labelled_not_drawn(tmp_path: Path) -> None:
    root = build_rich_root(tmp_path / "data")
    trust = pl.read_parquet(root / "warehouse" / "trust_index.parquet")
    few = (pl.col("brand") == "Globex") & (pl.col("period") == "2026-10-12")
    flat = (pl.col("brand") == "Acme") & (pl.col("period") == "2026-10-12")
    trust = trust.with_columns(
        threads=pl.when(few).then(2).otherwise(pl.col("threads")),
        trust_index_high=pl.when(flat).then(pl.col("trust_index")).otherwise(pl.col("trust_index_high")),
        trust_index_low=pl.when(flat).then(pl.col("trust_index")).otherwise(pl.col("trust_index_low")),
    )
    _write(root, "trust_index", trust)
    report = load_report(root, run_date=RUN_DATE)
    fig = figures.trust_over_time(report)
    assert not isinstance(fig, str) and fig is not None
    assert "interval needs 5+ threads" in fig.layout.title.text
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    hovers = [c for t in lines for c in t.customdata]
    assert "interval needs 5+ threads" in hovers and "no interval (zero width)" in hovers
    for band in (t for t in fig.data if t.fill == "toself"):  # no band spans a gated or zero-width point
        assert len(set(band.y)) == len(band.y) or min(band.y) < max(band.y)
    rows = figures._trust_rows(report, ("trust_index",))
    gated = rows.filter(few | flat)
    assert gated["trust_index_low"].is_null().all() and gated["trust_index_high"].is_null().all()
    width = rows.filter(pl.col("trust_index_low").is_not_null())
    assert (width["trust_index_high"] - width["trust_index_low"]).min() > 0


# ---- 2. readable at 20 entities ----------------------------------------------------------------------------------


def test_twenty_names_twenty_distinct_stable_colours() -> None:
    names = [f"Brand {i}" for i in range(20)]
    colours = [color_for(n, names) for n in names]
    assert len(set(colours)) == 20 and len(PALETTE) >= 20
    shuffled = random.Random(7).sample(names, len(names))
    assert assign_colors(shuffled) == assign_colors(names)  # the same colour per name whatever the order
    assert color_for("Brand 3", names) == color_for("Brand 3", reversed(names))
    assert color_for("someone else") == color_for("someone else")  # outside an assignment: stable hash


def test_subset_chart_says_which_and_why(tmp_path: Path) -> None:
    root = build_owner_root(tmp_path / "data", owners=15)
    report = load_report(root, run_date=RUN_DATE)
    assert len(set(report.colors.values())) == len(report.colors) == 15
    fig, caption = figures.response_rate_by_owner(report)
    assert fig is not None and not isinstance(fig, str)
    assert len(fig.data) == figures.MAX_OWNER_LINES == 12
    assert caption.startswith("Top 12 of 15 owners by mentions needing an answer")
    assert "the other 3 (owner02, owner01, owner00)" in caption and "table below" in caption
    assert len({t.line.color for t in fig.data}) == 12


def test_one_period_is_a_sentence_not_a_chart(tmp_path: Path) -> None:
    root = build_owner_root(tmp_path / "data", owners=3, weeks=("2026-10-19",))
    report = load_report(root, run_date=RUN_DATE)
    chart, caption = figures.response_rate_by_owner(report)
    assert isinstance(chart, str) and caption == ""
    assert chart.startswith("Only week of 19 Oct 2026 has dated mentions needing an answer")
    assert "owner02 answered 2 of 3" in chart and "%" not in chart  # n=3 < 5: counts, no rate
    rich = build_rich_root(tmp_path / "rich")
    trust = pl.read_parquet(rich / "warehouse" / "trust_index.parquet")
    _write(rich, "trust_index", trust.filter(pl.col("period").is_in(["2026-10-19", "all"])))
    sentence = figures.trust_over_time(load_report(rich, run_date=RUN_DATE))
    assert isinstance(sentence, str) and sentence.startswith("Only week of 19 Oct 2026 has a trust index")
    assert "Acme 44.0 (95% CI 38.0–50.0)" in sentence


# ---- 4. entities and replies not in the export -------------------------------------------------------------------


def test_owners_without_brands_are_not_nothing_to_report(tmp_path: Path) -> None:
    root = build_owner_root(tmp_path / "data", owners=2)
    for name in ("needs_answer", "responsiveness"):
        table = pl.read_parquet(root / "warehouse" / f"{name}.parquet")
        _write(root, name, table.with_columns(brand=pl.lit(None, pl.String)))
    report = load_report(root, run_date=RUN_DATE)
    html = blocks.kpi_cards(report, all_kpis(report))
    assert "nothing to report" not in html and "owner00, owner01" in html
    assert "owner00" in blocks.owner_scorecard(report)
    assert reconcile(root / "warehouse", report.stated).passed


def test_answered_reply_not_in_the_export_is_shown_apart(tmp_path: Path) -> None:
    root = build_rich_root(tmp_path / "data")
    needs = pl.read_parquet(root / "warehouse" / "needs_answer.parquet")
    outside = pl.col("mention_id").is_in(["A200", "A201", "A202"])  # report week of Acme
    needs = needs.with_columns(
        answered=pl.when(outside).then(True).otherwise(pl.col("answered")),
        answer_in_dump=~outside,
        first_response_minutes=pl.when(outside).then(None).otherwise(pl.col("first_response_minutes")),
    )
    _write(root, "needs_answer", needs)
    unanswered = pl.read_parquet(root / "warehouse" / "unanswered.parquet")
    _write(root, "unanswered", unanswered.filter(~outside))
    report = load_report(root, run_date=RUN_DATE)
    acme = all_kpis(report)[0].get("response_rate").current
    assert acme.answered_outside == 3
    assert "3 answered, reply not in the export" in blocks.kpi_cards(report, all_kpis(report))
    stated = {(i.metric, i.brand, i.period): i.value for i in report.stated.items}
    assert stated[(ANSWERED_NOT_IN_DUMP, "Acme", "2026-10-19")] == 3
    assert reconcile(root / "warehouse", report.stated).passed


def test_net_sentiment_built_mostly_on_long_comments_says_so() -> None:
    """A net sentiment whose scored mentions are at least half comments of 80+ words carries a caveat on its card
    (the model's weak spot); mostly short mentions, or unscored long ones, do not."""
    from trustpulse.report.kpis import net_sentiment_measure

    long_text = " ".join(["word"] * 80)
    short_text = "Great service, thanks!"

    def audience(texts: list[str | None], labels: list[str | None]) -> pl.DataFrame:
        return pl.DataFrame({"text": texts, "label": labels}, schema={"text": pl.String, "label": pl.String})

    mostly_long = net_sentiment_measure(audience([long_text] * 6 + [short_text] * 4, ["positive"] * 10))
    assert mostly_long.value == 100.0
    assert mostly_long.caveat is not None and mostly_long.caveat.startswith("6 of 10 are comments of 80+ words")
    html = blocks.card(Kpi("net_sentiment", "Net sentiment", "points", "up", mostly_long, None), "")
    assert "6 of 10 are comments of 80+ words, which the sentiment model reads least reliably" in html
    half = net_sentiment_measure(audience([long_text] * 5 + [short_text] * 5, ["negative"] * 10))
    assert half.caveat is not None and half.caveat.startswith("5 of 10")
    assert net_sentiment_measure(audience([long_text] * 4 + [short_text] * 6, ["neutral"] * 10)).caveat is None
    # 79 words is not long; unscored (not English) long mentions do not count towards the scored ones
    just_short = " ".join(["word"] * 79)
    assert net_sentiment_measure(audience([just_short] * 10, ["positive"] * 10)).caveat is None
    unscored = audience([long_text] * 8 + [short_text] * 6, [None] * 8 + ["positive"] * 6)
    assert net_sentiment_measure(unscored).caveat is None


def test_unanswered_negative_counts_negative_questions_too(tmp_path: Path) -> None:
    """ "N mentions are still unanswered, K of them negative": K counts every open mention labelled negative, also
    those that need an answer because they ask a question (`reason` keeps only the first of question > negative >
    direct; on the seed blog thread the old count left negative questions out)."""
    import re

    root = build_rich_root(tmp_path / "data")
    needs = pl.read_parquet(root / "warehouse" / "needs_answer.parquet")
    before = load_report(root, run_date=RUN_DATE)
    open_ids = set(before.in_period(before.unanswered)["mention_id"].to_list())
    open_questions = needs.filter(pl.col("mention_id").is_in(list(open_ids)) & (pl.col("reason") == "question"))
    assert open_questions.height >= 1
    turned = open_questions["mention_id"].to_list()  # open questions that are also negative
    needs = needs.with_columns(is_negative=pl.col("is_negative") | pl.col("mention_id").is_in(turned))
    _write(root, "needs_answer", needs)
    report = load_report(root, run_date=RUN_DATE)
    text = blocks.takeaways(report, all_kpis(report))
    found = re.search(
        r"([\d,]+) mentions (?:in all periods|from this period) are still unanswered, ([\d,]+) of them", text
    )
    assert found is not None, text
    assert open_ids == set(report.in_period(report.unanswered)["mention_id"].to_list())
    want = needs.filter(pl.col("is_negative") & ~pl.col("answered") & pl.col("mention_id").is_in(list(open_ids)))
    by_reason = needs.filter((pl.col("reason") == "negative") & pl.col("mention_id").is_in(list(open_ids)))
    assert int(found.group(1)) == len(open_ids)
    assert int(found.group(2)) == want.height > by_reason.height  # the negative questions are in
    assert reconcile(root / "warehouse", report.stated).passed


def test_unanswered_negative_count_says_when_it_rests_on_long_comments(tmp_path: Path) -> None:
    """The negative count is the model's reading; when at least half of those open negative mentions are comments of
    80+ words (the model's weak spot), the takeaway says how many, counted from the texts themselves."""
    import re

    root = build_rich_root(tmp_path / "data")
    report = load_report(root, run_date=RUN_DATE)
    needs = pl.read_parquet(root / "warehouse" / "needs_answer.parquet")
    open_ids = report.in_period(report.unanswered)["mention_id"].to_list()
    negative_open = needs.filter(pl.col("is_negative") & pl.col("mention_id").is_in(open_ids))["mention_id"].to_list()
    assert len(negative_open) >= 2
    text = blocks.takeaways(report, all_kpis(report))
    assert f"{len(negative_open)} of them read as negative by the sentiment model" in text
    assert "which the model reads least reliably" not in text  # the fixture's comments are short

    made_long = negative_open[: (len(negative_open) + 1) // 2]  # at least half
    long_text = " ".join(["the parcel came late and support never wrote back"] * 9)  # 81 words
    unanswered = pl.read_parquet(root / "warehouse" / "unanswered.parquet").with_columns(
        text=pl.when(pl.col("mention_id").is_in(made_long)).then(pl.lit(long_text)).otherwise(pl.col("text"))
    )
    _write(root, "unanswered", unanswered)
    text = blocks.takeaways(load_report(root, run_date=RUN_DATE), all_kpis(load_report(root, run_date=RUN_DATE)))
    found = re.search(r"([\d,]+) of those ([\d,]+) are comments of 80\+ words, which the model reads least", text)
    assert found is not None, text
    assert (int(found.group(1)), int(found.group(2))) == (len(made_long), len(negative_open))


# ---- 3. reconciliation -------------------------------------------------------------------------------------------


def _plant_mismatch(root: Path) -> None:
    """The owner summary says Acme's owner answered one more mention in the report week than needs_answer has."""
    resp = pl.read_parquet(root / "warehouse" / "responsiveness.parquet")
    week = (pl.col("owner") == "AcmeHelp") & (pl.col("period") == "2026-10-19") & (pl.col("cut") == "all")
    _write(
        root,
        "responsiveness",
        resp.with_columns(answered=pl.when(week).then(pl.col("answered") + 1).otherwise(pl.col("answered"))),
    )


def test_stated_counts_reconcile_and_a_planted_mismatch_is_found(tmp_path: Path) -> None:
    root = build_rich_root(tmp_path / "data")
    report = load_report(root, run_date=RUN_DATE)
    blocks.owner_scorecard(report)
    kinds = {i.metric for i in report.stated.items}
    assert {NEEDS_ANSWER, ANSWERED} <= kinds
    assert reconcile(root / "warehouse", report.stated).passed
    _plant_mismatch(root)
    planted = load_report(root, run_date=RUN_DATE)
    blocks.owner_scorecard(planted)
    result = reconcile(root / "warehouse", planted.stated)
    assert not result.passed
    [bad] = result.mismatches
    assert (bad["metric"], bad["owner"], bad["value"], bad["warehouse"]) == (ANSWERED, "AcmeHelp", 7, 6)
    with pytest.raises(ReportNotReconciled, match="differ from the warehouse"):
        render_report(root, run_date=RUN_DATE)
    assert not (root / "reports" / "latest.html").exists()


def test_blocking_check_keeps_latest_html_on_a_mismatch(tmp_path: Path) -> None:
    source = build_rich_root(tmp_path / "rich")
    root = tmp_path / "data"
    shutil.copytree(source / "warehouse", root / "warehouse")
    assets = [executive_report, published_report, report_reconciles]
    resources = {"settings": TrustpulseSettings(data_root=str(root))}
    config = {"ops": {"executive_report": {"config": {"run_date": RUN_DATE}}}}
    good = dg.materialize(assets, resources=resources, run_config=config)
    assert good.success and all(e.passed for e in good.get_asset_check_evaluations())
    latest = root / "reports" / "latest.html"
    before = latest.read_bytes()

    _plant_mismatch(root)
    later = {"ops": {"executive_report": {"config": {"run_date": "2026-10-27"}}}}
    bad = dg.materialize(assets, resources=resources, run_config=later, raise_on_error=False)
    [evaluation] = bad.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["mismatched"].value == 1
    assert bad.asset_materializations_for_node("published_report") == []  # blocked: never ran
    assert latest.read_bytes() == before
    assert not (root / "reports" / "2026-10-27").exists()  # no dated copy either
    assert (root / "reports" / "staging" / "executive_report.html").exists()  # kept for whoever investigates

    with pytest.raises(dg.Failure, match="not published"):  # materialised alone, it checks again
        dg.materialize([published_report], resources=resources, selection=[published_report])
    assert latest.read_bytes() == before


def test_measure_defaults_are_truthful() -> None:
    assert Measure(None).note is None and Measure(1.0).interval_note is None
