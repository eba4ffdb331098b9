"""The ``cilib`` command: run the half-term batch, validate data, regenerate the sample trust.

Errors a user can cause (missing file, unknown school, period outside the calendar, bad YAML,
unknown config key, bad data) print one clear message and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from cilib.core.errors import CilibError
from cilib.data.config import load_config
from cilib.data.prepare import prepare
from cilib.run.batch import run_batch
from cilib.sample.design import DEFAULT_SEED, MAX_SCHOOLS
from cilib.sample.generate import generate

EXIT_USER_ERROR = 2
EXIT_FAILED_NOTEBOOKS = 1
EXIT_INTERRUPTED = 130


def _progress(quiet: bool):
    start = time.perf_counter()

    def say(msg: str) -> None:
        if not quiet:
            print(f"[{time.perf_counter() - start:6.1f}s] {msg}", flush=True)

    return say


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for the ``cilib`` command and its subcommands."""
    p = argparse.ArgumentParser(
        prog="cilib",
        description="Continuous-improvement analytics for groups of schools.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser(
        "run",
        help="run the half-term batch: validate once, run every notebook, render HTML reports",
        description="Validate the data once, run each notebook for each school and the trust, "
        "and write reports/<period>/index.html with a manifest.",
    )
    r.add_argument("--config", required=True, type=Path, help="trust config (YAML)")
    r.add_argument("--period", required=True, help='period to report on, e.g. "2025/26 HT6"')
    r.add_argument("--schools", nargs="+", metavar="ID", help="only these schools (default: all)")
    r.add_argument("--notebooks", nargs="+", metavar="NAME", help="only these notebooks")
    r.add_argument("--jobs", type=int, metavar="N", help="parallel workers (default: config)")
    r.add_argument("--output", type=Path, metavar="DIR", help="reports folder (default: config)")
    r.add_argument("--quiet", action="store_true", help="print only the index path")
    r.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run the notebooks on a Dask scheduler, e.g. tcp://host:8786 (its workers must reach "
        "the store and notebooks by the same paths)",
    )
    r.add_argument(
        "--fresh-kernels",
        action="store_true",
        help="start a new kernel for every notebook (slower; default: one warm kernel per worker)",
    )
    r.add_argument(
        "--notebooks-per-kernel",
        type=int,
        default=20,
        metavar="N",
        help="notebooks a warm kernel runs before a new one is started (default: 20)",
    )

    v = sub.add_parser(
        "validate",
        help="validate the data only and print the data-quality summary",
        description="Load and validate every table, write the prepared store and quarantine, "
        "and print rows in / clean / quarantined per table.",
    )
    v.add_argument("--config", required=True, type=Path, help="trust config (YAML)")
    v.add_argument("--period", help="period the store is for (default: the calendar's last)")
    v.add_argument("--quiet", action="store_true", help="print nothing but errors")

    s = sub.add_parser(
        "sample",
        help="regenerate the synthetic sample trust",
        description="Write the deterministic synthetic sample trust (CSV, plan.yml, trust.yml).",
    )
    s.add_argument("--output", required=True, type=Path, metavar="DIR", help="folder to write")
    s.add_argument("--seed", type=int, default=None, metavar="N", help="random seed")
    s.add_argument(
        "--schools",
        type=int,
        default=None,
        metavar="N",
        help="make a district of N schools (8 or more) with the sample's planted effects",
    )
    return p


def _cmd_run(args) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise CilibError("--jobs must be at least 1.")
    if args.notebooks_per_kernel < 1:
        raise CilibError("--notebooks-per-kernel must be at least 1.")
    if args.output is not None and args.output.exists() and not args.output.is_dir():
        raise CilibError(f"--output {args.output} is a file; give a folder for the reports.")
    cfg = load_config(args.config)
    manifest = run_batch(
        cfg,
        args.period,
        schools=args.schools,
        notebooks=args.notebooks,
        jobs=args.jobs,
        output=args.output,
        progress=_progress(args.quiet),
        cluster=args.cluster,
        fresh_kernels=args.fresh_kernels,
        notebooks_per_kernel=args.notebooks_per_kernel,
    )
    print(manifest["index"])
    if manifest["counts"]["failed"]:
        print(
            f"{manifest['counts']['failed']} notebook(s) failed; "
            "see the index page and manifest.json.",
            file=sys.stderr,
        )
        return EXIT_FAILED_NOTEBOOKS
    return 0


def _cmd_validate(args) -> int:
    cfg = load_config(args.config)
    period = args.period or cfg.periods[-1]
    store = prepare(cfg, period, progress=_progress(args.quiet))
    if not args.quiet:
        print(store.data_quality.to_string(index=False))
        qs = store.quarantine_summary
        if len(qs):
            print("\nRows set aside (quarantine files in", store.folder / "quarantine", "):")
            print(qs.to_string(index=False))
    return 0


def _cmd_sample(args) -> int:
    if args.seed is not None and args.seed < 0:
        raise CilibError("--seed must be a whole number of 0 or more.")
    if args.output.exists() and not args.output.is_dir():
        raise CilibError(f"--output {args.output} is a file; give a folder to write the trust to.")
    if args.schools is not None and not 8 <= args.schools <= MAX_SCHOOLS:
        raise CilibError(f"--schools must be between 8 and {MAX_SCHOOLS:,} (the sample has 8).")
    seed = DEFAULT_SEED if args.seed is None else args.seed
    paths = generate(args.output, seed=seed, schools=args.schools)
    print(f"Wrote {len(paths)} files to {Path(args.output).resolve()}")
    return 0


class _StderrHandler(logging.Handler):
    """Print a log record as ``cilib: warning: ...`` on the current ``sys.stderr``."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"cilib: {record.levelname.lower()}: {record.getMessage()}", file=sys.stderr)


def _show_warnings() -> None:
    """Print cilib's logged warnings (e.g. the public sample key is in use) on stderr."""
    logger = logging.getLogger("cilib")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler(logging.WARNING))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cilib`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    _show_warnings()
    handlers = {"run": _cmd_run, "validate": _cmd_validate, "sample": _cmd_sample}
    try:
        return handlers[args.command](args)
    except CilibError as exc:
        print(f"cilib {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt as exc:  # one line, no traceback (a batch says how far it got)
        print(f"cilib: {exc}" if str(exc) else "cilib: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
