"""Print every report's page height at 1280 px wide and whether it overflows a 390 px phone.

Usage: ``python tools/page_heights.py REPORTS_DIR``

``REPORTS_DIR`` is a batch's output (``<period>/<school or trust>/<notebook>.html`` and the
period's ``index.html``), or any folder of HTML pages. Each page is opened in Debian's chromium
(``/usr/bin/chromium``, driven by playwright) from ``file://``; nothing is loaded from anywhere
else. One line per page: its path, the page height in px at 1280 px wide, the page width at 390 px
and ``overflow`` when that is wider than the screen. Then the largest height per notebook (report
type). Used for the before and after figures of issue 13.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def measure(pages: list[Path]) -> list[tuple[Path, int, int]]:
    """Return ``(page, height at 1280 px, scroll width at 390 px)`` for each page."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        wide = browser.new_page(viewport={"width": 1280, "height": 900})
        narrow = browser.new_page(viewport={"width": 390, "height": 844})
        for page in pages:
            url = page.resolve().as_uri()
            wide.goto(url)
            height = wide.evaluate("document.documentElement.scrollHeight")
            narrow.goto(url)
            width = narrow.evaluate("document.documentElement.scrollWidth")
            out.append((page, int(height), int(width)))
        browser.close()
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure every HTML page under the folder and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reports", type=Path, help="a batch's reports folder")
    args = ap.parse_args(argv)
    pages = sorted(args.reports.rglob("*.html"))
    if not pages:
        print(f"No HTML pages under {args.reports}", file=sys.stderr)
        return 1
    by_type: dict[str, list[int]] = defaultdict(list)
    overflowing = 0
    for page, height, width in measure(pages):
        rel = page.relative_to(args.reports).as_posix()
        flag = "overflow" if width > 390 else "fits"
        overflowing += width > 390
        print(f"{rel:60s} height@1280 {height:6d} px  width@390 {width:5d} px  {flag}")
        by_type[page.stem].append(height)
    print("\nLargest height at 1280 px per report type:")
    for stem, hs in sorted(by_type.items()):
        print(f"  {stem:24s} max {max(hs):6d} px  min {min(hs):6d} px  ({len(hs)} pages)")
    print(f"\n{overflowing} of {len(pages)} pages overflow 390 px")
    return 0


if __name__ == "__main__":
    sys.exit(main())
