"""The executive report: warehouse tables -> KPIs, Plotly figures and escaped HTML blocks -> the papermill-run
notebook `reports/executive_report.ipynb` -> one self-contained HTML file under DATA_ROOT/reports/.

Modules: data (load tables), context (filter to brands, periods), kpis, figures, blocks (HTML), escape, style,
notebook (helpers the notebook calls), render (papermill + nbconvert), checks (offline / chart checks).
Import from the modules; this package imports nothing heavy so the notebook kernel starts fast.
"""
