"""Content digests of every published warehouse table under a data root, to show that a refactor left the
pipeline's output unchanged: `python scripts/warehouse_digests.py DATA [--out FILE]`.

A table's digest is the sha256 of its rows, each written as JSON, sorted, so file layout, row
order and parquet metadata do not matter. Columns that record when or by which run a row was written
(wall-clock times, run ids, paths under the data root) are left out: they differ between any two runs.
Author ids are keyed hashes, and each data root draws its own key: run the pipeline with a fixed key to compare
two data roots. ``bench/results/demo_warehouse_digests.json`` was recorded with
``TRUSTPULSE_PSEUDONYM_KEY=warehouse-digests trustpulse demo --data DIR``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import polars as pl

VOLATILE = ("ingested_at", "run_id", "published_at", "generated_at", "written_at", "built_at", "path", "seconds")


def table_digest(path: Path) -> dict[str, object]:
    df = pl.read_parquet(path)
    kept = [c for c in df.columns if not any(v in c for v in VOLATILE)]
    df = df.select(sorted(kept))
    lines = sorted(json.dumps(row, default=str, sort_keys=True) for row in df.iter_rows(named=True))
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return {"rows": df.height, "columns": len(kept), "sha256": digest}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", type=Path)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    tables = sorted((args.data / "warehouse").glob("*.parquet"))
    result = {t.stem: table_digest(t) for t in tables}
    text = json.dumps(result, indent=2, sort_keys=True)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
