"""The leaders' index, the glossary and the data-quality page written beside the reports."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cilib.report import index

SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
URL = re.compile(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.I)


@dataclass
class FakeJob:
    """The fields of a batch job the index reads."""

    notebook: str
    school_id: str | None
    out_html: str
    status: str = "ok"
    error: str = ""


class Visible(HTMLParser):
    """Collects visible text, table rows and the inline scripts of a page."""

    def __init__(self):
        super().__init__()
        self.text, self.scripts, self.rows = [], [], []
        self._skip = 0
        self._row = None

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "title"):
            self._skip += 1
            if tag == "script":
                self.scripts.append("")
        if tag == "tr":
            self._row = []

    def handle_endtag(self, tag):
        if tag in ("script", "style", "title"):
            self._skip -= 1
        if tag == "tr" and self._row is not None:
            self.rows.append(" ".join(self._row))
            self._row = None

    def handle_data(self, data):
        if self._skip:
            if self.scripts and self.get_starttag_text().startswith("<script"):
                self.scripts[-1] += data
            return
        self.text.append(data)
        if self._row is not None and data.strip():
            self._row.append(data.strip())


def parse(page: str) -> Visible:
    p = Visible()
    p.feed(page)
    return p


@pytest.fixture(scope="module")
def pages(sample_store, tmp_path_factory):
    """The three pages written for the sample with one failed job."""
    out = tmp_path_factory.mktemp("period")
    jobs = []
    for sid in [None, *sample_store.school_ids]:
        folder = out / ("trust" if sid is None else sid)
        folder.mkdir()
        for nb in ("01_assess_needs", "04_monitor_adjust"):
            path = folder / f"{nb}.html"
            path.write_text("<html></html>")
            jobs.append(FakeJob(nb, sid, str(path)))
    jobs[-1].status, jobs[-1].error = "failed", "PapermillExecutionError: boom <b>"
    Path(jobs[-1].out_html).unlink()
    manifest = {"counts": {"total": len(jobs), "ok": len(jobs) - 1, "failed": 1}}
    path = index.write_index(out, sample_store, jobs, manifest)
    ok_jobs = [FakeJob(j.notebook, j.school_id, j.out_html) for j in jobs[:-1]]
    clean = index.index_page(out, sample_store, ok_jobs, {"counts": {"failed": 0}})
    return {
        "index": path.read_text(),
        "clean": clean,
        "glossary": (out / "glossary.html").read_text(),
        "dq": (out / "data-quality.html").read_text(),
        "store": sample_store,
    }


@pytest.mark.slow  # computes every school's goal figures on the sample
def test_index_has_the_trust_first_then_every_school_by_name_and_phase(pages):
    """One row per school with its name and phase; the whole trust comes first."""
    store = pages["store"]
    schools = pages["index"].split("id='cilib-schools'", 1)[1].split("</table>", 1)[0]
    rows = parse("<table " + schools + "</table>").rows[1:]  # the first row is the header
    assert rows[0].startswith("Whole trust All schools")
    names = [s["school_name"] for s in store.meta["schools"]]
    assert len(rows) == 1 + len(names)
    for row, school in zip(rows[1:], store.meta["schools"], strict=True):
        assert row.startswith(f"{school['school_name']} {school['phase'].capitalize()}")
    assert "Whole trust" in pages["index"] and store.meta["trust_name"] in pages["index"]


@pytest.mark.slow  # computes every school's goal figures on the sample
def test_index_shows_each_goal_with_the_reports_verdict(pages):
    """A school's goal cell shows the same latest value and icon as its report's summary."""
    from cilib.report.summary import ICONS, goal_rows

    store = pages["store"]
    rows = goal_rows(store, "NLT07")
    g2 = rows.loc[rows["goal"] == "G2"].iloc[0]
    words = ICONS[g2["variation"]][2]
    latest = f"{g2['latest']:.{int(g2['digits'])}f}"
    cells = re.findall(r"<td class='num'>([^<]*)<span class='icon'[^>]*aria-label='([^']*)'",
                       pages["index"])
    assert (latest, words) in cells
    assert "aria-label='Improving'" in pages["index"] or "aria-label='Concerning'" in pages["index"]


@pytest.mark.slow  # computes every school's goal figures on the sample
def test_search_script_is_allowed_by_its_hash_and_nothing_else(pages):
    """The one inline script is allowed by its SHA-256 in the CSP; nothing loads from outside."""
    page = pages["index"]
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert scripts == [index.SEARCH_SCRIPT]
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)
    assert f"script-src 'sha256-{digest}';" in csp and "default-src 'none'" in csp
    assert "id='cilib-search'" in page
    for name in ("index", "glossary", "dq"):
        assert not URL.search(pages[name]), name
        assert "src=" not in pages[name]


@pytest.mark.slow  # computes every school's goal figures on the sample
def test_operator_detail_only_when_a_report_failed(pages):
    """A failed report shows its error (escaped) and the manifest link; a clean run neither."""
    page = pages["index"]
    assert "PapermillExecutionError: boom &lt;b&gt;" in page and "manifest.json" in page
    assert "not made" in page
    clean = pages["clean"]
    assert "manifest.json" not in clean and "failed" not in parse(clean).text


@pytest.mark.slow  # computes every school's goal figures on the sample
def test_glossary_explains_the_terms_in_plain_english(pages):
    """Each term the reports use has an entry; the page links back to the index."""
    text = " ".join(parse(pages["glossary"]).text)
    for term in ("Control limits", "Special cause", "Common cause", "Hedges' g",
                 "Months of progress", "Suppression", "Disadvantaged pupils", "Funnel plot",
                 "Confidence interval"):
        assert term in text
    assert "href='index.html'" in pages["glossary"]


@pytest.mark.slow  # computes every school's goal figures on the sample
def test_data_quality_page_gives_reasons_never_values_or_codes(pages):
    """Rows set aside per table with the rule's reason in words; no row value, no rule code."""
    store = pages["store"]
    p = parse(pages["dq"])
    text = " ".join(p.text)
    total = int(store.data_quality["rows_in"].sum())
    assert f"{total:,} rows were read" in text
    assert "Two rows share a key but disagree" in text
    assert "7732" not in text and "rows 7732" not in pages["dq"]
    assert not SNAKE.findall(text), SNAKE.findall(text)
    assert not SNAKE.findall(" ".join(parse(pages["index"]).text))


def test_index_of_a_trust_without_goal_data(tmp_path):
    """A trust whose plan has no goal data still gets all three pages, with every school listed."""
    import textwrap

    from cilib.data.config import load_config
    from cilib.data.prepare import prepare
    from tests.conftest import TINY_CONFIG, TINY_FILES

    for name, text in TINY_FILES.items():
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    (tmp_path / "trust.yml").write_text(textwrap.dedent(TINY_CONFIG), encoding="utf-8")
    cfg = load_config(tmp_path / "trust.yml")
    store = prepare(cfg, "2024/25 HT1", store_dir=tmp_path / "store")
    out = tmp_path / "period"
    out.mkdir()
    jobs = [FakeJob("01_hello", sid, str(out / "x.html"), "failed", "boom") for sid in
            [None, *store.school_ids]]
    index.write_index(out, store, jobs, {"counts": {"total": 3, "ok": 0, "failed": 3}})
    page = (out / "index.html").read_text()
    for sid in store.school_ids:
        assert store.school_name(sid) in page
    assert page.count("not made") == len(jobs)
    assert (out / "glossary.html").exists() and (out / "data-quality.html").exists()
