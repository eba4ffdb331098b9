"""The sample reports in a real browser: phone and desktop widths, alt text, print, no requests.

Debian's chromium (``/usr/bin/chromium``; ``.ci/run`` installs it when missing) is driven by
the ``playwright`` package. The batch runs once into a temporary folder; every page is opened
from ``file://`` with every request routed, so a request to anywhere else fails the test. A few
screenshots are kept in ``tests/screenshots/`` (git-ignored) for a developer to look at.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from cilib.data.store import Store
from cilib.run.cli import main
from tests.conftest import SAMPLE_CONFIG

pytestmark = pytest.mark.slow

PERIOD = "2025/26 HT6"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
#: A code identifier in visible text: lower-case words joined by underscores.
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
NO_ALT = "No description has been provided for this image"
#: A4 in PostScript points (210 x 297 mm).
A4 = (595.28, 841.89)


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    """Run the batch on a copy of the sample once; return the period's reports folder."""
    dst = tmp_path_factory.mktemp("trust") / "sample"
    shutil.copytree(SAMPLE_CONFIG.parent, dst, ignore=shutil.ignore_patterns("store"))
    out = tmp_path_factory.mktemp("reports")
    code = main(
        ["run", "--config", str(dst / "trust.yml"), "--period", PERIOD, "--output", str(out),
         "--jobs", "2"]
    )
    assert code == 0
    folder = out / "2025-26_HT6"
    store_dir = next(p for p in dst.rglob("meta.json")).parent
    return folder, Store(store_dir)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, launched by playwright (``playwright install`` cannot run here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Visit:
    """A page opened at a given width with every request outside file:// and data: refused."""

    def __init__(self, browser, width: int, height: int = 900):
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.refused: list[str] = []
        self.page.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file://", "data:")):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()

    def open(self, path: Path):
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_load_state("load")
        return self.page

    def close(self):
        self.context.close()


def _pages(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


def _reports(folder: Path) -> list[Path]:
    return [p for p in _pages(folder) if p.parent != folder]


def test_the_batch_made_every_page(reports):
    """The index, glossary and data-quality pages sit beside the school and trust reports."""
    folder, store = reports
    names = {p.name for p in folder.glob("*.html")}
    assert {"index.html", "glossary.html", "data-quality.html"} <= names
    assert {p.parent.name for p in _reports(folder)} == {"trust", *store.school_ids}


def test_no_page_overflows_a_phone_and_nothing_is_requested(reports, browser):
    """At 390 px no page is wider than the screen; no page asks for anything outside itself."""
    folder, _ = reports
    visit = Visit(browser, 390, 844)
    wide = {}
    try:
        for path in _pages(folder):
            page = visit.open(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                wide[path.relative_to(folder).as_posix()] = width
        SCREENSHOTS.mkdir(exist_ok=True)
        visit.open(folder / "NLT01" / "04_monitor_adjust.html")
        visit.page.screenshot(path=str(SCREENSHOTS / "monitor_NLT01_390.png"))
        visit.open(folder / "index.html")
        visit.page.screenshot(path=str(SCREENSHOTS / "index_390.png"))
    finally:
        visit.close()
    assert not wide, f"pages wider than 390 px: {wide}"
    assert not visit.refused, f"requests left the page: {visit.refused[:5]}"


def test_every_chart_has_a_real_alt_text(reports, browser):
    """Every image has alt text that is neither empty nor nbconvert's placeholder; every inline
    SVG icon has a label."""
    folder, _ = reports
    visit = Visit(browser, 1280)
    missing = []
    try:
        for path in _pages(folder):
            page = visit.open(path)
            alts = page.eval_on_selector_all("img", "els => els.map(e => e.getAttribute('alt'))")
            labels = page.eval_on_selector_all(
                "svg",
                "els => els.map(e => e.getAttribute('aria-label') || "
                "(e.querySelector('title') || {}).textContent || '')",
            )
            for alt in [*alts, *labels]:
                if not alt or not alt.strip() or alt.strip() == NO_ALT:
                    missing.append((path.relative_to(folder).as_posix(), alt))
    finally:
        visit.close()
    assert not missing, f"{len(missing)} images without a real alt text, e.g. {missing[:5]}"


def test_summary_first_and_titles_name_the_school(reports, browser):
    """At 1280 x 900 each report's summary table ends inside the first screen; the tab title
    names the school (or the whole trust)."""
    folder, store = reports
    visit = Visit(browser, 1280, 900)
    late, titles = {}, {}
    try:
        for path in _reports(folder):
            page = visit.open(path)
            rel = path.relative_to(folder).as_posix()
            bottom = page.evaluate(
                "(() => { const t = document.querySelector('.cilib-summary table, "
                "table.cilib-summary-goals'); if (!t) return null; "
                "return t.getBoundingClientRect().bottom + window.scrollY; })()"
            )
            if bottom is None or bottom > 900:
                late[rel] = bottom
            who = path.parent.name
            # a trust report is titled by the trust's name ("..., all schools: Report, period")
            name = store.meta["trust_name"] if who == "trust" else store.school_name(who)
            if name not in page.title():
                titles[rel] = page.title()
        SCREENSHOTS.mkdir(exist_ok=True)
        visit.open(folder / "NLT01" / "04_monitor_adjust.html")
        visit.page.screenshot(path=str(SCREENSHOTS / "monitor_NLT01_1280.png"))
        visit.open(folder / "index.html")
        visit.page.screenshot(path=str(SCREENSHOTS / "index_1280.png"), full_page=True)
    finally:
        visit.close()
    assert not titles, f"tab titles without the school's name: {titles}"
    assert not late, f"summary table missing or below the first 900 px: {late}"


def test_no_code_identifiers_in_visible_text(reports, browser):
    """No snake_case word (a code, not words) in any page's visible text."""
    folder, _ = reports
    visit = Visit(browser, 1280)
    found = {}
    try:
        for path in _pages(folder):
            text = visit.open(path).evaluate("document.body.innerText")
            words = sorted(set(SNAKE.findall(text)))
            if words:
                found[path.relative_to(folder).as_posix()] = words[:8]
    finally:
        visit.close()
    assert not found, f"code identifiers in visible text: {found}"


def _page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """Return each page's (width, height) in points from the PDF's /MediaBox entries."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]", pdf)
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]


def test_printing_gives_a4_pages(reports, browser):
    """Printed to PDF with the page's own size, a report and the index come out on A4 pages,
    with every folded section open."""
    folder, _ = reports
    visit = Visit(browser, 1280)
    try:
        for rel in ("NLT01/04_monitor_adjust.html", "trust/10_trust_overview.html", "index.html"):
            page = visit.open(folder / rel)
            page.emulate_media(media="print")
            hidden = page.eval_on_selector_all(
                "details > :not(summary)", "els => els.filter(e => !e.checkVisibility()).length"
            )
            assert hidden == 0, f"{rel}: {hidden} folded sections stay closed when printed"
            pdf = page.pdf(prefer_css_page_size=True, print_background=True)
            sizes = _page_sizes(pdf)
            assert sizes, rel
            for w, h in sizes:
                assert abs(w - A4[0]) < 1.5 and abs(h - A4[1]) < 1.5, (rel, w, h)
            if rel == "NLT01/04_monitor_adjust.html":
                (SCREENSHOTS / "monitor_NLT01.pdf").parent.mkdir(exist_ok=True)
                (SCREENSHOTS / "monitor_NLT01.pdf").write_bytes(pdf)
    finally:
        visit.close()
    assert not visit.refused


def test_search_box_filters_the_index(reports, browser):
    """Typing a school's name in the index's search box leaves only that school's row shown."""
    folder, store = reports
    visit = Visit(browser, 1280)
    try:
        page = visit.open(folder / "index.html")
        name = store.school_name(store.school_ids[0])
        page.fill("#cilib-search", name)
        shown = page.eval_on_selector_all(
            "#cilib-schools tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.innerText)"
        )
        assert len(shown) == 1 and shown[0].startswith(name)
        page.fill("#cilib-search", "")
        all_rows = page.eval_on_selector_all(
            "#cilib-schools tbody tr", "rows => rows.filter(r => !r.hidden).length"
        )
        assert all_rows == 1 + len(store.school_ids)
    finally:
        visit.close()
    assert not visit.refused
