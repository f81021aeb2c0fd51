"""Stage `report`: the executive report, rendered from the warehouse by the papermill notebook.

The work is in `trustpulse.report` (notebook `reports/executive_report.ipynb`); this asset only runs it and
puts the report's path, size and chart count on the materialisation.
"""

import dagster as dg
from pydantic import Field

from trustpulse.report.data import producing_assets
from trustpulse.report.render import render_report
from trustpulse.settings import TrustpulseSettings

# Everything the report reads; `mention_topics` / `topic_trends` are read only when their files exist.
REPORT_DEPS = [dg.AssetKey(name) for name in producing_assets()]


class ReportConfig(dg.Config):
    period: str = Field(default="latest", description="'latest', 'all', or a period start such as 2026-11-02.")
    brands: list[str] = Field(default_factory=list, description="Brands to report on; empty: every brand.")
    run_date: str = Field(default="", description="YYYY-MM-DD naming the report folder; empty: today (UTC).")


@dg.asset(deps=REPORT_DEPS, group_name="report", kinds={"jupyter", "html"})
def executive_report(
    context: dg.AssetExecutionContext, config: ReportConfig, settings: TrustpulseSettings
) -> dg.MaterializeResult:
    """One HTML page an executive reads in two minutes, then the details: DATA_ROOT/reports/latest.html."""
    report = render_report(settings.root, period=config.period, brands=config.brands, run_date=config.run_date)
    context.log.info(f"executive report: {report.latest} ({report.chart_count} charts, {report.size_bytes} bytes)")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(report.path)),
            "latest": dg.MetadataValue.path(str(report.latest)),
            "notebook": dg.MetadataValue.path(str(report.notebook)),
            "size_bytes": dg.MetadataValue.int(report.size_bytes),
            "chart_count": dg.MetadataValue.int(report.chart_count),
            "seconds": dg.MetadataValue.float(report.seconds),
        }
    )
