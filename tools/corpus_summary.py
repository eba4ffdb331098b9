"""Run the malformed-input corpus of issue 11 and print its summary.

Usage (from the repository root)::

    .venv/bin/python tools/corpus_summary.py            # every case
    .venv/bin/python tools/corpus_summary.py --fast     # without the cases that run notebooks
    .venv/bin/python tools/corpus_summary.py --fault 5  # only the cases of fault 5

Prints one line per case that does not meet its expected outcome or a global check, then the
totals: inputs tried, outcomes as expected, rows lost, crashes, leaks (raw pupil ids or hostile
values shown) and changes outside the trust's store and reports folder. Exits 1 if any case
failed, else 0. The same cases run under pytest in ``tests/test_corpus.py``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.corpus import CASES, build_small_trust, check_case, run_case  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the corpus and print its summary; return 1 if any case failed."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fast", action="store_true", help="skip the cases that run notebooks")
    p.add_argument("--fault", type=int, action="append", help="only cases of this fault")
    p.add_argument("--case", action="append", help="only the case with this name")
    p.add_argument("-v", "--verbose", action="store_true", help="print every case and its time")
    args = p.parse_args(argv)
    cases = [
        c
        for c in CASES
        if not (args.fast and c.slow)
        and (not args.fault or c.fault in args.fault)
        and (not args.case or c.name in args.case)
    ]
    start = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="cilib-corpus-") as tmp:
        base = Path(tmp) / "base" / "trust"
        build_small_trust(base)
        for i, case in enumerate(cases):
            t0 = time.perf_counter()
            run = run_case(case, Path(tmp) / f"case{i:03d}" / "root", base)
            r = check_case(case, run)
            results.append(r)
            if args.verbose:
                status = "ok  " if r.ok else "FAIL"
                print(f"{status}  {time.perf_counter() - t0:5.1f}s  {case.name}", flush=True)
            if not r.ok:
                first = r.problems[0].replace("\n", " ")
                more = f" (+{len(r.problems) - 1} more)" if len(r.problems) > 1 else ""
                print(f"FAIL  fault {case.fault}  {case.name}: {first[:220]}{more}", flush=True)
    malformed = [r for r in results if r.fault]
    print()
    print(
        f"inputs tried:          {len(results)} ({len(malformed)} malformed, "
        f"{len(results) - len(malformed)} controls)"
    )
    print(f"outcomes as expected:  {sum(r.outcome_ok for r in results)} of {len(results)}")
    print(f"cases passing all:     {sum(r.ok for r in results)} of {len(results)}")
    print(f"rows lost:             {sum(r.rows_lost for r in results)}")
    print(f"crashes:               {sum(bool(r.crash) for r in results)}")
    print(f"leaks:                 {sum(bool(r.leak) for r in results)}")
    print(f"outside writes:        {sum(bool(r.outside) for r in results)}")
    print(f"time:                  {time.perf_counter() - start:.0f}s")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
