"""The executive-report notebook, shipped as package data so that an installed trustpulse can render it.

`trustpulse.report.render` runs `EXECUTIVE_REPORT_NOTEBOOK` (see README.md here); analysts open it in Jupyter.
"""

from pathlib import Path

EXECUTIVE_REPORT_NOTEBOOK = Path(__file__).resolve().parent / "executive_report.ipynb"
