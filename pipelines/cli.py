"""`trustpulse` command line: run the pipeline, fill a data root with the demo, score sentiment."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from trustpulse.embeddings import BATCH_SIZE
from trustpulse.settings import TrustpulseSettings, default_data_root, parse_column_option
from trustpulse.storage import data_path, is_remote, read_parquet, write_bytes_atomic

# the code location `trustpulse`, as in the repository's workspace.yaml (which `dagster dev` in a checkout reads)
WORKSPACE_YAML = """load_from:
  - python_module:
      module_name: pipelines.definitions
      attribute: defs
      location_name: trustpulse
"""


def _settings(data: str | None, columns: str | None = None) -> TrustpulseSettings:
    return TrustpulseSettings(
        data_root=str(data_path(data or default_data_root())),
        csv_columns=parse_column_option(columns) if columns else {},
    )


def _print_outputs(settings: TrustpulseSettings) -> None:
    import polars as pl

    accounting = settings.warehouse_dir / "ingest_accounting.parquet"
    if accounting.exists():
        table = read_parquet(accounting)
        print("\nper dump: raw (what the file holds) = kept + duplicates + quarantined")
        for r in table.iter_rows(named=True):
            gap = f"   {r['unread']:,} NOT READ" if r["unread"] else ""
            print(
                f"  {r['dump_file']:<40} {r['source_format']:<10} raw {r['raw_records']:>6}"
                f" = kept {r['kept']:>6} + dup {r['duplicates']:>5} + quarantined {r['quarantined']:>4}{gap}"
            )
    manifest = settings.warehouse_dir / "partitions" / "dump_manifest"
    parts = sorted(manifest.glob("*.parquet"), key=str) if manifest.is_dir() else []
    notes = pl.concat([read_parquet(p) for p in parts], how="diagonal_relaxed") if parts else None
    if notes is not None and "reader_notes" in notes.columns:
        noted = notes.filter(pl.col("reader_notes").list.len() > 0).sort("dump_file")
        if noted.height:
            print("\nnotes on how dumps were read:")
            for r in noted.iter_rows(named=True):
                for note in r["reader_notes"]:
                    print(f"  {r['dump_file']}: {note}")
    print("\noutputs:")
    for path in sorted(settings.warehouse_dir.glob("*.parquet"), key=str):
        print(f"  {path}")
    connect = (
        "trustpulse.storage.duckdb_connect(path, [data_path(root)])"
        if is_remote(settings.root)
        else "duckdb.connect(path)"
    )
    print(f"  {settings.duckdb_path}   (one view per table: {connect}.sql('from mentions'))")
    print(f"  Dagster runs: DAGSTER_HOME={settings.dagster_home}  (make ui)")


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.runner import run_pipeline

    try:
        settings = _settings(args.data, args.columns)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = run_pipeline(settings, force=args.force, verbose=args.verbose, progress=lambda m: print(m, flush=True))
    _print_outputs(settings)
    problems = [error if error.startswith(name) else f"{name}: {error}" for name, error in report.failed.items()]
    problems += unread_lines(settings)
    if problems:
        print("\nfailed:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0


def unread_lines(settings: TrustpulseSettings) -> list[str]:
    """One line per published dump whose file holds records the reader did not produce."""
    import polars as pl

    path = settings.warehouse_dir / "ingest_accounting.parquet"
    if not path.exists():
        return []
    gaps = read_parquet(path).filter(pl.col("unread") != 0)
    return [
        f"{r['dump_file']}: {r['unread']:,} of {r['raw_records']:,} records in the file were not read "
        f"(read as {r['source_format']})"
        for r in gaps.iter_rows(named=True)
    ]


def cmd_demo(args: argparse.Namespace) -> int:
    from trustpulse.demo import DEMO_BRANDS_FILE, generate_demo_dumps

    settings = _settings(args.data, args.columns)
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    brands = settings.root / "brands.yaml"
    if not brands.exists():
        write_bytes_atomic(DEMO_BRANDS_FILE.read_bytes(), brands)
    paths = generate_demo_dumps(settings.landing_dir, seed=args.seed, scale=args.scale)
    print(f"demo dumps written to {settings.landing_dir} ({len(paths)} files); brands: {brands}")
    return cmd_run(args)


def cmd_sentiment(args: argparse.Namespace) -> int:
    """One text per line in; CSV out (label,score,p_negative,p_neutral,p_positive), one row per line."""
    import csv

    from trustpulse.sentiment.model import ModelLoadError, SentimentModel

    label_map = dict(pair.split("=", 1) for pair in args.label_map.split(",")) if args.label_map else None
    try:
        model = SentimentModel.load(args.model, label_map=label_map)
    except ModelLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    lines = raw.decode("utf-8", errors="replace").splitlines()
    scores = model.score_texts(lines, batch_size=args.batch_size, progress=True)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["label", "score", "p_negative", "p_neutral", "p_positive"])
    for row in scores.iter_rows(named=True):
        writer.writerow([row["label"], *(f"{row[k]:.6f}" for k in ("score", "p_negative", "p_neutral", "p_positive"))])
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    """Start `dagster dev` (webserver + daemon: sensors, schedule, automation) on the same data root and
    persistent DAGSTER_HOME as `trustpulse run`, with DATA/reports/ served read-only on loopback beside it so
    the report's link in the UI opens in a browser."""
    import os
    import signal
    import subprocess

    from pipelines.runner import ensure_dagster_home
    from trustpulse.serve import REPORTS_PORT_OFFSET, REPORTS_URL_ENV, serve_reports
    from trustpulse.settings import DATA_ENV_VAR

    settings = _settings(args.data)
    home = ensure_dagster_home(settings)
    os.environ[DATA_ENV_VAR] = str(settings.root)
    port = args.reports_port if args.reports_port is not None else args.port + REPORTS_PORT_OFFSET
    reports = None
    if not is_remote(settings.root):  # reports in an object store are not served: open them from the store
        try:
            reports = serve_reports(settings.root / "reports", port=port)
        except OSError as exc:
            print(f"error: cannot serve the reports on port {port}: {exc} (try --reports-port)", file=sys.stderr)
            return 2
        os.environ[REPORTS_URL_ENV] = reports.url
    dagster = shutil.which("dagster") or str(Path(sys.executable).parent / "dagster")
    print(
        f"DAGSTER_HOME={home}  data root={settings.root}\n"
        f"Dagster UI: http://{args.host}:{args.port}   "
        f"reports: {f'{reports.url}latest.html' if reports else settings.root / 'reports' / 'latest.html'}\n"
        f"new dumps go into {settings.landing_dir}/ (the landing sensor ingests them, automation publishes)",
        flush=True,
    )
    # the workspace is written beside the instance, not read from the repository: a non-editable install has no
    # repository; the code location keeps its name (run history and sensor cursors are keyed by it)
    workspace = home / "workspace.yaml"
    write_bytes_atomic(WORKSPACE_YAML.encode(), workspace)
    server = subprocess.Popen(
        [dagster, "dev", "-w", str(workspace), "-h", args.host, "-p", str(args.port)], cwd=workspace.parent
    )

    def stop(signum: int, _frame: object) -> None:
        server.send_signal(signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return server.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if reports is not None:
            reports.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trustpulse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="materialise every asset for every dump in DATA/landing/")
    demo = sub.add_parser("demo", help="fill DATA/landing/ with the demo dumps, then run")
    for p in (run, demo):
        p.add_argument("--data", help="data root (default: $TRUSTPULSE_DATA, else ./data)")
        p.add_argument("--force", action="store_true", help="re-ingest dumps that are already ingested")
        p.add_argument("--verbose", action="store_true", help="show Dagster's step logs and stack traces")
        p.add_argument(
            "--columns",
            metavar="FIELD=COLUMN,...",
            help="column map for table exports (CSV, TSV, Excel), e.g. 'text=Hit Sentence,author=Influencer'; "
            "see also DATA/trustpulse.yaml and landing/<file>.columns.yaml (README)",
        )
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--scale", type=float, default=1.0, help="1.0 gives about 2,500 mentions")
    sentiment = sub.add_parser("sentiment", help="score one text per line of FILE; CSV on stdout")
    sentiment.add_argument("file", help="a text file, one text per line ('-' for stdin)")
    sentiment.add_argument(
        "--model",
        default="trustpulse-minilm-sentiment",
        help="our packaged model, or a Hugging Face model id / local path",
    )
    sentiment.add_argument("--label-map", default="", help="model label=our label pairs, e.g. LABEL_0=negative,...")
    sentiment.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    sentiment.set_defaults(func=cmd_sentiment)
    ui = sub.add_parser("ui", help="start the Dagster UI on the data root")
    ui.add_argument("--data", help="data root (default: $TRUSTPULSE_DATA, else ./data)")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument(
        "--reports-port", type=int, default=None, help="port serving DATA/reports/ on loopback (default: --port + 1)"
    )
    ui.set_defaults(func=cmd_ui)
    run.set_defaults(func=cmd_run)
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
