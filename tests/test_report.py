"""The executive report: rendering, offline HTML, escaping, thin data, the Dagster asset, a real browser.

Every test builds its own small data root (parquet tables written with Polars); nothing reads the development data.
The browser test needs Debian's chromium at /usr/bin/chromium (scripts/install_browser.sh installs it).
"""

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.checks import report_reconciles
from assets.report import executive_report, published_report
from tests.browser import CHROMIUM, MISSING, open_report
from tests.conftest import with_contract_columns
from trustpulse.report.checks import inspect_html
from trustpulse.report.context import load_report
from trustpulse.report.data import load_warehouse
from trustpulse.report.escape import h, quote, safe_link
from trustpulse.report.kpis import all_kpis
from trustpulse.report.render import ReportError, render_report
from trustpulse.settings import TrustpulseSettings
from trustpulse.tables import TableContractError

RUN_DATE = "2026-10-26"
WEEKS = ("2026-10-05", "2026-10-12", "2026-10-19")
BRANDS = {"Acme": "AcmeHelp", "Globex": "GlobexCare"}
# The planted payload: if it ever ran, window.__xss would be set.
PAYLOAD = "<script>alert('xss')</script> @AcmeHelp <img src=x onerror=\"window.__xss=1\"> my order is late?"
LABELS = ("negative", "positive", "neutral", "negative", "positive", "negative")


def _write(root: Path, name: str, df: pl.DataFrame) -> None:
    (root / "warehouse").mkdir(parents=True, exist_ok=True)
    df.write_parquet(root / "warehouse" / f"{name}.parquet")


def _ts(week: str, hours: int) -> datetime:
    return datetime.fromisoformat(week).replace(tzinfo=UTC) + timedelta(hours=hours)


def build_rich_root(root: Path) -> Path:
    """Two brands, three weeks, topics, and the payload in mentions, unanswered and trust_drivers."""
    mentions, sentiment, needs = [], [], []
    for b, (brand, owner) in enumerate(BRANDS.items()):
        for w, week in enumerate(WEEKS):
            for i in range(10):
                mid = f"{brand[:1]}{w}{i:02d}"
                text = PAYLOAD if (brand == "Acme" and w == 2 and i == 0) else f"{brand} mention {i} in week {w}?"
                label = LABELS[(i + b + w) % len(LABELS)]
                mentions.append(
                    {
                        "mention_id": mid,
                        "dump_file": f"dump_{b}.jsonl",
                        "platform": "twitter",
                        "thread_id": mid,
                        "author": f"user{i}",
                        "is_owner": False,
                        "brand": [brand],
                        "mention_type": "direct",
                        "created_at": _ts(week, 10 + i),
                        "text": text,
                        "url": None,
                    }
                )
                sentiment.append({"mention_id": mid, "label": label, "score": {"negative": -0.7}.get(label, 0.5)})
                answered = (i + w + b) % 3 != 0
                needs.append(
                    {
                        "mention_id": mid,
                        "owner": owner,
                        "brand": brand,
                        "platform": "twitter",
                        "created_at": _ts(week, 10 + i),
                        "reason": "negative" if label == "negative" else "question",
                        "is_negative": label == "negative",
                        "answered": answered and mid != "A200",
                        "first_response_minutes": float(15 + 40 * i) if answered and mid != "A200" else None,
                        "text": text,
                        "sentiment_score": -0.7 if label == "negative" else 0.5,
                        "thread_id": mid,
                        "author": f"user{i}",
                        "url": "https://example.com/t/" + mid,
                    }
                )
            mentions.append(
                {
                    "mention_id": f"{brand[:1]}{w}R",
                    "dump_file": f"dump_{b}.jsonl",
                    "platform": "twitter",
                    "thread_id": f"{brand[:1]}{w}00",
                    "author": owner,
                    "is_owner": True,
                    "brand": [brand],
                    "mention_type": "direct",
                    "created_at": _ts(week, 30),
                    "text": "We are on it.",
                    "url": None,
                }
            )
    mentions.append({**mentions[0], "mention_id": "undated1", "created_at": None})
    m = pl.DataFrame(mentions, schema_overrides={"created_at": pl.Datetime("us", "UTC")})
    _write(root, "mentions", m)
    _write(root, "mention_sentiment", pl.DataFrame(sentiment))
    need_df = pl.DataFrame(needs, schema_overrides={"created_at": pl.Datetime("us", "UTC")})
    _write(root, "needs_answer", need_df.drop("text", "sentiment_score", "thread_id", "author", "url"))
    open_rows = need_df.filter(~pl.col("answered")).sort(
        pl.col("mention_id") != "A200", "sentiment_score", pl.col("created_at"), descending=[False, False, True]
    )
    _write(root, "unanswered", open_rows)

    resp, trust, drivers = [], [], []
    for b, (brand, owner) in enumerate(BRANDS.items()):
        for w, period in enumerate((*WEEKS, "all")):
            rows = need_df.filter(pl.col("brand") == brand)
            if period != "all":
                rows = rows.filter(pl.col("created_at").dt.strftime("%Y-%m-%d").str.slice(0, 10) >= period).filter(
                    pl.col("created_at") < _ts(period, 24 * 7)
                )
            n, a = rows.height, int(rows["answered"].sum())
            base = {
                "owner": owner,
                "brand": brand,
                "period": period,
                "needs_answer": n,
                "answered": a,
                "response_rate": a / n,
                "response_rate_low": max(0.0, a / n - 0.2),
                "response_rate_high": min(1.0, a / n + 0.2),
                "first_response_minutes_median": 60.0 + 10 * w,
                "first_response_minutes_p90": 300.0,
                "negative_needs_answer": 3,
                "negative_response_rate": 0.5,
                "abandoned_threads": w % 2,
                "abandoned_channel": False,
                "owner_replies": 4,
                "personal_reply_share": 0.75,
            }
            resp.append({**base, "cut": "all", "cut_value": None})
            resp.append({**base, "cut": "platform", "cut_value": "twitter", "abandoned_channel": brand == "Globex"})
            value = 50.0 + 10 * b - 3 * w
            trust.append(
                {
                    "brand": brand,
                    "period": period,
                    "trust_index": value,
                    "trust_index_low": value - 6,
                    "trust_index_high": value + 6,
                    **{
                        f"{c}{s}": value + d + k
                        for c, d in (("ability", -5), ("benevolence", 4), ("integrity", 1))
                        for s, k in (("", 0), ("_low", -8), ("_high", 8))
                    },
                    "ability_note": None,
                    "benevolence_note": None,
                    "integrity_note": None,
                    "index_note": None,
                    "threads": 10,
                    "n_audience": 10.0,
                }
            )
            for component in ("ability", "benevolence", "integrity"):
                for direction in ("+", "-"):
                    first = brand == "Acme" and direction == "+" and component == "benevolence"
                    drivers.append(
                        {
                            "brand": brand,
                            "period": period,
                            "component": component,
                            "direction": direction,
                            "mention_id": "A200",
                            "impact": 0.9 if first else 0.3,
                            "why": "answered" if direction == "+" else "unanswered",
                            "text": PAYLOAD if first else f"{brand} {component} {direction} quote",
                        }
                    )
    _write(root, "responsiveness", pl.DataFrame(resp))
    _write(root, "trust_index", pl.DataFrame(trust))
    _write(root, "trust_drivers", pl.DataFrame(drivers))
    _write(
        root,
        "ingest_accounting",
        pl.DataFrame(
            {
                "dump_file": ["dump_0.jsonl", "dump_1.jsonl"],
                "dump_key": ["d0", "d1"],
                "source_format": ["jsonl"] * 2,
                "raw_records": [40, 35],
                "kept": [34, 33],
                "duplicates": [4, 2],
                "quarantined": [2, 0],
                "unread": [0, 0],
                "balanced": [True, True],
            }
        ),
    )
    audience = m.filter(~pl.col("is_owner"))
    topics = (
        audience.select("mention_id")
        .with_row_index("i")
        .with_columns(topic_id=(pl.col("i") % 4).cast(pl.Int64) - 1)
        .with_columns(topic_label=pl.format("topic <{}>", pl.col("topic_id")))
    )
    _write(root, "mention_topics", topics.drop("i"))
    trend_rows = []
    for w, week in enumerate(WEEKS):
        for t in range(-1, 3):
            trend_rows.append(
                {
                    "topic_id": t,
                    "topic_label": f"topic <{t}>",
                    "period_start": _ts(week, 0),
                    "mentions": 5 + t * w,
                    "share": 0.2 + 0.05 * t * w,
                    "prev_share": None if w == 0 else 0.2 + 0.05 * t * (w - 1),
                    "growth": None,
                    "p_value": 0.01,
                    "rising": t == 2 and w > 0,
                    "net_sentiment": 0.1 * t,
                }
            )
    _write(root, "topic_trends", pl.DataFrame(trend_rows, schema_overrides={"period_start": pl.Datetime("us", "UTC")}))
    return root


def build_thin_root(root: Path) -> Path:
    """One dump, one brand with five mentions, trust_index all null with its notes: 'not enough data'."""
    week = "2026-10-19"
    trust = pl.DataFrame(
        {
            "brand": ["Tiny", "Tiny"],
            "period": [week, "all"],
            "ability_note": ["not enough data (5 audience mentions < 10)"] * 2,
            "benevolence_note": ["not enough data (0 mentions needing an answer < 5)"] * 2,
            "integrity_note": ["not enough data (0 signals < 5)"] * 2,
            "index_note": ["not enough data: ability, benevolence, integrity"] * 2,
            "threads": [1, 1],
        }
    )
    rows = [
        {
            "mention_id": f"t{i}",
            "dump_file": "only.csv",
            "platform": "forum",
            "thread_id": "t0",
            "author": f"u{i}",
            "is_owner": False,
            "brand": ["Tiny"],
            "mention_type": "about",
            "created_at": _ts(week, i),
            "text": PAYLOAD if i == 0 else f"tiny thing {i}",
            "url": None,
        }
        for i in range(5)
    ]
    _write(root, "mentions", pl.DataFrame(rows, schema_overrides={"created_at": pl.Datetime("us", "UTC")}))
    _write(
        root,
        "mention_sentiment",
        pl.DataFrame({"mention_id": ["t0", "t1"], "label": ["negative", "positive"], "score": [-0.6, 0.6]}),
    )
    _write(root, "trust_index", with_contract_columns(trust, "trust_index"))  # no component could be computed
    _write(
        root,
        "ingest_accounting",
        pl.DataFrame(
            {
                "dump_file": ["only.csv"],
                "dump_key": ["o"],
                "source_format": ["csv"],
                "raw_records": [6],
                "kept": [5],
                "duplicates": [0],
                "quarantined": [1],
                "unread": [0],
                "balanced": [True],
            }
        ),
    )
    return root  # needs_answer, unanswered, responsiveness, trust_drivers: absent on purpose


@pytest.fixture(scope="module")
def rich_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_rich_root(tmp_path_factory.mktemp("rich") / "data")


@pytest.fixture(scope="module")
def rendered(rich_root: Path):
    return render_report(rich_root, run_date=RUN_DATE)


@pytest.fixture(scope="module")
def html(rendered) -> str:
    return rendered.path.read_text(encoding="utf-8")


# ---- pure helpers ------------------------------------------------------------------------------------------------


def test_escape_helpers() -> None:
    assert h(PAYLOAD).startswith("&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;")
    assert "<" not in quote(PAYLOAD) and "&lt;img src=x onerror=&quot;" in quote(PAYLOAD)
    assert safe_link("javascript:alert(1)", "<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"
    assert (
        safe_link('https://e.com/"x', "t") == '<a href="https://e.com/&quot;x" target="_blank" '
        'rel="noopener noreferrer nofollow">t</a>'
    )


def test_inspect_html_finds_external_loads() -> None:
    page = (
        '<script src="https://cdn.example/x.js"></script><link rel="stylesheet" href="//fonts.example/css">'
        '<style>@import url("https://x/y.css");</style><a href="https://ok.example">link</a>'
        '<script>var s = "<img src=https://inside-a-string>";</script><div class="plotly-graph-div"></div>'
    )
    check = inspect_html(page)
    assert len(check.external_loads) == 3 and check.charts == 1


def test_period_and_kpis(rich_root: Path) -> None:
    report = load_report(rich_root, run_date=RUN_DATE)
    assert report.brands == ("Acme", "Globex")
    assert (report.period.label, report.period.previous, report.period.grain) == ("2026-10-19", "2026-10-12", "week")
    acme = all_kpis(report)[0]
    assert acme.get("mentions").current.value == 10 and acme.get("mentions").previous.value == 10
    assert acme.get("trust_index").current.value == pytest.approx(44.0)
    assert acme.get("trust_index").delta == pytest.approx(-3.0)
    rate = acme.get("response_rate").current
    assert rate.n == 10 and rate.low < rate.value < rate.high
    assert load_report(rich_root, period="all", run_date=RUN_DATE).period.previous is None
    with pytest.raises(ValueError, match="unknown brand"):
        load_report(rich_root, brands=["Nope"])


# ---- the rendered report -----------------------------------------------------------------------------------------


def test_render_writes_dated_report_and_latest(rendered, rich_root: Path) -> None:
    assert rendered.path == rich_root / "reports" / RUN_DATE / "executive_report.html"
    assert rendered.latest == rich_root / "reports" / "latest.html"
    assert rendered.path.read_bytes() == rendered.latest.read_bytes()
    assert rendered.size_bytes == rendered.path.stat().st_size
    assert rendered.chart_count == 8  # trust, components, comparison, volume, topic map, rising, rate, times
    assert not list((rich_root / "reports").rglob("*.tmp"))


def test_html_shows_no_code(html: str) -> None:
    check = inspect_html(html)
    assert check.code_inputs == 0
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html
    page = re.sub(r"<script\b.*?</script>", "", html, flags=re.S | re.I)  # the page without plotly.js
    for code in ("load_report(", "show_html(", "from trustpulse", "Traceback", "Warning", "notebook for analysts"):
        assert code not in page


def test_html_loads_nothing_from_the_network(html: str) -> None:
    assert inspect_html(html).external_loads == []
    assert not re.search(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html, re.I)
    assert "cdnjs" not in html and "require.min.js" not in html
    assert html.count("Plotly.newPlot") == inspect_html(html).charts


def test_text_from_dumps_is_escaped(html: str) -> None:
    assert "<script>alert(" not in html
    assert "<img src=x onerror" not in html
    # Shown as text (in drivers and unanswered). nbconvert re-serialises text nodes, so quotes may come back
    # unescaped there, which is harmless outside a tag: what matters is that every "<" is "&lt;".
    shown = re.findall(r"&lt;script&gt;alert\((?:'|&#x27;)xss(?:'|&#x27;)\)&lt;/script&gt;", html)
    assert len(shown) >= 2
    assert len(re.findall(r"&lt;img src=x onerror=(?:\"|&quot;)window.__xss=1(?:\"|&quot;)&gt;", html)) >= 2
    assert "topic &lt;" in html or "topic &amp;lt;" in html  # topic labels from dumps are escaped in the charts


def test_thin_data_says_not_enough_data(tmp_path: Path) -> None:
    root = build_thin_root(tmp_path / "thin")
    result = render_report(root, run_date=RUN_DATE)
    page = result.latest.read_text(encoding="utf-8")
    assert page.count("not enough data") >= 3
    assert "Tiny" in page and "Topics not computed" in page
    assert "<script>alert(" not in page
    assert inspect_html(page).external_loads == []


def test_a_drifted_column_stops_the_report_naming_its_table_and_column(tmp_path: Path, rich_root: Path) -> None:
    """The report reads through the table contract with strict casts: a column whose values are no longer of its
    type fails loudly instead of silently becoming null; the same tables, undrifted, load."""
    root = tmp_path / "data"
    shutil.copytree(rich_root / "warehouse", root / "warehouse")
    assert load_warehouse(root / "warehouse").needs["answered"].null_count() == 0
    needs = pl.read_parquet(root / "warehouse" / "needs_answer.parquet")
    drifted = needs.with_columns(answered=pl.when(pl.col("answered")).then(pl.lit("yes")).otherwise(pl.lit("no")))
    _write(root, "needs_answer", drifted)
    with pytest.raises(TableContractError, match=r"^table needs_answer: column answered holds String") as err:
        load_warehouse(root / "warehouse")
    assert "\n" not in str(err.value)
    with pytest.raises(ReportError, match="TableContractError: table needs_answer: column answered"):
        render_report(root, run_date=RUN_DATE)
    assert not (root / "reports" / "latest.html").exists()

    _write(root, "needs_answer", needs.drop("reason"))
    with pytest.raises(TableContractError, match=r"^table needs_answer: column reason \(String\) is missing$"):
        load_warehouse(root / "warehouse")


def test_dagster_asset_reports_metadata(tmp_path: Path, rich_root: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(rich_root / "warehouse", root / "warehouse")
    result = dg.materialize(
        [executive_report, published_report, report_reconciles],
        resources={"settings": TrustpulseSettings(data_root=str(root))},
        run_config={"ops": {"executive_report": {"config": {"run_date": RUN_DATE, "brands": ["Acme"]}}}},
    )
    assert result.success
    [check] = result.get_asset_check_evaluations()
    assert check.passed and check.metadata["checked"].value > 0
    staged = result.asset_materializations_for_node("executive_report")[0].metadata
    assert Path(staged["staged"].value) == root / "reports" / "staging" / "executive_report.html"
    meta = result.asset_materializations_for_node("published_report")[0].metadata
    path = Path(meta["path"].value)
    assert path == root / "reports" / RUN_DATE / "executive_report.html" and path.exists()
    assert meta["size_bytes"].value == path.stat().st_size > 1_000_000  # plotly.js is embedded
    assert meta["chart_count"].value == inspect_html(path.read_text(encoding="utf-8")).charts >= 6
    assert (root / "reports" / "latest.html").exists()


# ---- a real browser ------------------------------------------------------------------------------------------------


def test_report_in_a_real_browser(rendered, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(MISSING)
    shot = tmp_path / "report.png"
    seen = open_report(rendered.latest, shot)
    assert seen.console_errors == [] and seen.page_errors == []
    assert seen.foreign_requests == [], f"the report made network requests: {seen.foreign_requests}"
    assert seen.requests[0] == rendered.latest.resolve().as_uri()
    assert len(seen.charts_drawn) == rendered.chart_count and all(seen.charts_drawn)
    assert seen.svg_charts >= rendered.chart_count
    assert seen.xss_flag is None, "the planted <img onerror> payload ran"
    assert seen.dialogs == []
    assert seen.script_alert_elements == 0 and seen.img_onerror_elements == 0
    assert seen.payload_text_visible  # the payload is on the page, as text
    assert shot.exists() and shot.stat().st_size > 50_000
