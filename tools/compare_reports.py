"""Compare two report folders' words and tables, ignoring images and run-specific details.

Usage: ``python tools/compare_reports.py BEFORE_DIR AFTER_DIR [--show N]``

Each report's visible text (headings, sentences and every table cell, in reading order) is
compared line by line; embedded images, the run time and the run id are left out. Prints one
line per report (``same`` or the number of differing lines, with the first ``--show`` of them)
and exits 1 if any report differs or is missing on either side. Used to check that a
restructuring changed no figure (issue 10).
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

from bs4 import BeautifulSoup

_VOLATILE = re.compile(r"(rendered|generated|prepared|run) (on|at|in) [^.;|]*", re.IGNORECASE)


def report_lines(path: Path) -> list[str]:
    """Return a report's visible text as normalised lines (no images, scripts or styles)."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["script", "style", "img", "svg", "head"]):
        tag.decompose()
    lines = []
    for row in soup.find_all(["tr", "h1", "h2", "h3", "h4", "p", "li", "caption", "summary"]):
        if row.name != "tr" and row.find_parent("tr"):
            continue
        cells = row.find_all(["th", "td"]) if row.name == "tr" else [row]
        text = " | ".join(" ".join(c.get_text(" ").split()) for c in cells)
        text = _VOLATILE.sub(r"\1 \2 …", text)
        if text:
            lines.append(text)
    return lines


def compare(before: Path, after: Path, show: int = 5) -> int:
    """Print a line per report; return the number of reports that differ or are missing."""
    names = sorted({p.relative_to(before) for p in before.rglob("*.html")}
                   | {p.relative_to(after) for p in after.rglob("*.html")})
    bad = 0
    for name in names:
        a, b = before / name, after / name
        if not (a.exists() and b.exists()):
            print(f"{name}: only in {'before' if a.exists() else 'after'}")
            bad += 1
            continue
        diff = [d for d in difflib.unified_diff(report_lines(a), report_lines(b), lineterm="", n=0)
                if d[:1] in "+-" and not d.startswith(("+++", "---"))]
        if diff:
            bad += 1
            print(f"{name}: {len(diff)} differing lines")
            for d in diff[:show]:
                print(f"    {d[:160]}")
        else:
            print(f"{name}: same")
    print(f"{len(names) - bad} of {len(names)} reports have the same words and tables")
    return bad


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--show", type=int, default=5, help="differing lines to print per report")
    args = parser.parse_args(argv)
    return 1 if compare(args.before, args.after, args.show) else 0


if __name__ == "__main__":
    sys.exit(main())
