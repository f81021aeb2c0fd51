"""A regular (non-editable) install runs the pipeline away from the repository: everything it reads at run time
(the sentiment classifier, the report notebook, the default brand books) ships inside the packages.

No network: the fresh venv borrows the running environment's dependencies through a `.pth` line naming its
site-packages (a plain path line, so the editable-install hook `.pth` there is not run and the checkout is not
importable), and the project is built from a copy of the source tree with the running environment's setuptools.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[1]
# Never copied into the build: version control, local environments and what builds, tests and runs leave behind.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache", "data", "work"
)
PSEUDONYM_KEY = "install-test-key"
MIN_REPORT_BYTES = 100_000  # the report embeds plotly.js (several MB); an error page is far smaller
WAREHOUSE_TABLES = ("mentions", "mention_sentiment", "mention_topics", "trust_index", "responsiveness")
MIN_SETUPTOOLS = 69  # pyproject.toml's build-system requirement; offline, the running environment's is used


def _setuptools_major() -> int:
    try:
        return int(version("setuptools").split(".")[0])
    except PackageNotFoundError:
        return 0


def _run(cmd: list[str | Path], cwd: Path, env: dict[str, str], timeout: int) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd[:4]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return done


def _venv_borrowing_dependencies(venv: Path, cwd: Path, env: dict[str, str]) -> Path:
    """A fresh venv that imports the running environment's dependencies (not its editable trustpulse); its
    site-packages."""
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd, env, 120)
    where = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(_run([venv / "bin" / "python", "-c", where], cwd, env, 60).stdout.strip())
    borrowed = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site / "borrowed_dependencies.pth").write_text("".join(f"{p}\n" for p in borrowed), encoding="utf-8")
    return site


@pytest.mark.skipif(_setuptools_major() < MIN_SETUPTOOLS, reason=f"needs setuptools>={MIN_SETUPTOOLS} to build offline")
def test_a_regular_install_runs_the_demo_outside_the_repository(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("TRUSTPULSE_")}
    env |= {"HF_HUB_OFFLINE": "1", "TRUSTPULSE_PSEUDONYM_KEY": PSEUDONYM_KEY, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    # Dependencies' data files (nbconvert's templates, the ipykernel kernel spec) sit under the running
    # environment's prefix, where an install into the new venv would have put them under its own.
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    elsewhere = tmp_path / "elsewhere"  # the working directory of every command: neither the checkout nor a copy
    elsewhere.mkdir()
    venv = tmp_path / "venv"
    venv_site = _venv_borrowing_dependencies(venv, elsewhere, env)

    source = tmp_path / "source"  # a copy, so the build's build/ and *.egg-info never land in the checkout
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    # --ignore-installed: the running environment's trustpulse (an editable install) is visible through the
    # borrowed path; pip must neither take it as installed nor try to uninstall it.
    pip = [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--quiet", "--no-deps"]
    _run([*pip, "--no-index", "--no-build-isolation", "--ignore-installed", source], elsewhere, env, 300)
    shutil.rmtree(source)  # nothing may still read the source tree

    where = "import assets, pipelines, reports, trustpulse; print(trustpulse.__file__, reports.__file__)"
    located = _run([venv / "bin" / "python", "-c", where], elsewhere, env, 60).stdout.split()
    assert len(located) == 2 and all(Path(p).is_relative_to(venv_site) for p in located), located

    demo = _run([venv / "bin" / "trustpulse", "demo", "--data", "x"], elsewhere, env, 600)
    assert "Traceback" not in demo.stderr, demo.stderr[-5000:]
    data = elsewhere / "x"
    report = data / "reports" / "latest.html"
    assert report.is_file() and report.stat().st_size > MIN_REPORT_BYTES
    for table in WAREHOUSE_TABLES:
        assert pl.read_parquet(data / "warehouse" / f"{table}.parquet").height > 0, table
