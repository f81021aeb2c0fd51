"""The import contract: `trustpulse/` is the core and imports neither Dagster nor the Dagster layers
(`assets`, `pipelines`), not even lazily inside a function; `assets/` does not import `pipelines`; inside the
core, the readers may use the cleaning but `trustpulse/cleaning/` never imports `trustpulse.readers`."""

from __future__ import annotations

import ast
import fnmatch
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# package directory -> patterns of the modules it may not import (matched against the top-level module and the
# full dotted name)
FORBIDDEN = {
    "trustpulse": ("dagster*", "assets", "pipelines"),
    "assets": ("pipelines",),
    "trustpulse/cleaning": ("trustpulse.readers", "trustpulse.readers.*"),
}


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) for every import statement anywhere in the tree, function bodies included; a relative
    import gives no module outside its own package and is skipped."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def contract_violations(root: Path, package: str, forbidden: tuple[str, ...]) -> list[str]:
    """'file:line imports module' for every import of a forbidden module in the package under `root`."""
    out = []
    for path in sorted((root / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        out += [
            f"{path.relative_to(root)}:{line} imports {module}"
            for line, module in _imported_modules(tree)
            if any(
                fnmatch.fnmatchcase(module.split(".", 1)[0], pattern) or fnmatch.fnmatchcase(module, pattern)
                for pattern in forbidden
            )
        ]
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_its_layer_may(package: str) -> None:
    violations = contract_violations(REPO, package, FORBIDDEN[package])
    assert not violations, "\n".join(violations)


def test_the_contract_check_finds_a_planted_violation(tmp_path: Path) -> None:
    core = tmp_path / "trustpulse"
    core.mkdir()
    (core / "clean.py").write_text("import polars\nfrom trustpulse.storage import table_path\n")
    (core / "sneaky.py").write_text(
        "import os\n\n\ndef later():\n    from dagster_shared import error\n    import pipelines.runner\n"
    )
    assert contract_violations(tmp_path, "trustpulse", FORBIDDEN["trustpulse"]) == [
        "trustpulse/sneaky.py:5 imports dagster_shared",
        "trustpulse/sneaky.py:6 imports pipelines.runner",
    ]


def test_the_contract_check_finds_cleaning_importing_the_readers(tmp_path: Path) -> None:
    cleaning = tmp_path / "trustpulse" / "cleaning"
    cleaning.mkdir(parents=True)
    (cleaning / "text.py").write_text(
        "from trustpulse.cleaning.html import html_to_text\nfrom trustpulse.readers.html_reader import read_html\n"
    )
    assert contract_violations(tmp_path, "trustpulse/cleaning", FORBIDDEN["trustpulse/cleaning"]) == [
        "trustpulse/cleaning/text.py:2 imports trustpulse.readers.html_reader",
    ]


IMPORT_EVERY_CORE_MODULE = """
import importlib, json, pkgutil, sys
import trustpulse
for module in pkgutil.walk_packages(trustpulse.__path__, "trustpulse."):
    importlib.import_module(module.name)
print(json.dumps(sorted(m for m in ("dagster", "assets", "pipelines") if m in sys.modules)))
"""


def test_importing_the_whole_core_loads_no_dagster() -> None:
    """What the source check cannot see: a dependency of the core that pulls Dagster in."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_CORE_MODULE], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
