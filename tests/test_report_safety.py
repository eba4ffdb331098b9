"""Reports are safe to open and the same every time (issue 11, faults 2 and 10).

- Hostile text in every free-text field of the config, plan, roadmap and data reaches the reports
  escaped, never as markup; every page carries a Content-Security-Policy and loads nothing from
  outside itself.
- The same inputs and config give the same HTML, PNG, JSON and parquet, byte for byte.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from cilib.data.config import load_config
from cilib.run.batch import run_batch
from tests.conftest import SAMPLE_CONFIG

PERIOD = "2025/26 HT6"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS = "javascript:alert(1)"
#: One string carrying the three payloads, put into every free-text field.
PAYLOAD = f"{SCRIPT}{IMG} {JS}"
KEY = "a-test-key-that-is-not-the-public-sample-key"
CSP = re.compile(
    r"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
    r"style-src 'unsafe-inline'; script-src ('none'|('sha256-[A-Za-z0-9+/=]+' ?)+)(;[^\"]*)?\">"
)


class _Page(HTMLParser):
    """Collects what a page would run or load: script elements, event handlers, URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.handlers: list[str] = []
        self.urls: list[str] = []
        self.csp: list[str] = []
        self.bodies: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        d = dict(attrs)
        if tag == "script":
            self._in_script = True
            self.scripts.append(d.get("src") or "")
        if tag == "meta" and (d.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp.append(d.get("content") or "")
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.handlers.append(f"{tag} {name}={value}")
            if name.lower() in ("src", "href", "action", "formaction", "srcset", "data"):
                self.urls.append(value or "")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.bodies.append(data)


def check_page(text: str, name: str) -> None:
    """Assert a page runs no script, loads nothing from outside and carries the CSP meta."""
    page = _Page()
    page.feed(text)
    assert page.csp and CSP.search(text), f"{name}: no Content-Security-Policy meta"
    assert text.index("Content-Security-Policy") < text.lower().index("<style"), name
    # an inline script only when the CSP allows exactly it by its hash (the index's search box)
    hashes = re.findall(r"'sha256-([A-Za-z0-9+/=]+)'", page.csp[0])
    inline = [base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() for b in page.bodies]
    ok = not any(page.scripts) and len(inline) == len(page.scripts)
    assert ok and sorted(inline) == sorted(hashes), (
        f"{name}: has <script> not allowed by the CSP: {page.scripts[:2]}"
    )
    assert not page.handlers, f"{name}: event handler attribute {page.handlers[:2]}"
    for url in page.urls:
        low = url.strip().lower()
        assert not low.startswith(("http:", "https:", "//", "javascript:")), f"{name}: {url}"
        assert low.startswith(("#", "data:image/")) or not re.match(r"^[a-z][a-z0-9+.-]*:", low), (
            f"{name}: {url}"
        )


def test_check_page_catches_unsafe_pages():
    """The page checker itself fails on a script, a handler, an external URL or a missing CSP."""
    good = (
        "<html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'; script-src 'none'\"><style></style></head>"
        "<body><a href='#x'>x</a></body></html>"
    )
    check_page(good, "good")
    body = "document.title='x'"
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    hashed = good.replace("script-src 'none'", f"script-src 'sha256-{digest}'")
    check_page(hashed.replace("</body>", f"<script>{body}</script></body>"), "hashed")
    for bad in (
        good.replace("<body>", f"<body>{SCRIPT}"),
        good.replace("<body>", "<body><img src=x onerror=alert(1)>"),
        good.replace("#x", "https://example.org/"),
        good.replace("#x", JS),
        good.replace("Content-Security-Policy", "X-Other"),
        hashed.replace("</body>", "<script>alert(1)</script></body>"),
    ):
        with pytest.raises(AssertionError):
            check_page(bad, "bad")


# --------------------------------------------------------------------------------------------
# hostile trust


def _poison_csv(path: Path, edit) -> None:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
        fields = list(rows[0])
    for i, row in enumerate(rows):
        edit(i, row)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def _poison_plan(path: Path) -> None:
    plan = yaml.safe_load(path.read_text(encoding="utf-8"))
    plan["vision"] = f"{plan['vision']} {PAYLOAD}"
    for p in plan["priorities"]:
        p["title"] = f"{p['title']} {PAYLOAD}"
    for g in plan["goals"]:
        g["title"] = f"{g['title']} {PAYLOAD}"
    for s in plan["strategies"]:
        for key in ("title", "if_we", "then", "and"):
            if s.get(key):
                s[key] = f"{s[key]} {PAYLOAD}"
    for a in plan["actions"]:
        a["title"] = f"{a['title']} {PAYLOAD}"
        a["owner"] = f"{a.get('owner') or 'Owner'} {PAYLOAD}"
    for c in plan.get("pdsa", []):
        for key in ("change_idea", "learning"):
            if c.get(key):
                c[key] = f"{c[key]} {PAYLOAD}"
        if isinstance(c.get("prediction"), dict):
            c["prediction"]["text"] = f"{c['prediction']['text']} {PAYLOAD}"
    path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True), encoding="utf-8")


def hostile_trust(folder: Path) -> Path:
    """Copy the sample trust and put the payloads into every free-text field it can carry."""
    shutil.copytree(SAMPLE_CONFIG.parent, folder, ignore=shutil.ignore_patterns("store"))
    cfg = yaml.safe_load((folder / "trust.yml").read_text(encoding="utf-8"))
    cfg["name"] = f"Trust {PAYLOAD}"
    cfg["pseudonymisation"] = {"key_env": "CILIB_TEST_HOSTILE_KEY"}
    cfg["reports"]["output"] = "reports"
    (folder / "trust.yml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")

    def school(i, row):
        row["school_name"] = f"{row['school_name']} {PAYLOAD}"
        row["region"] = f"{row['region']} {PAYLOAD}"

    def pupil(i, row):
        if i == 3:
            row["gender"] = "<img src=x onerror=alert(1)>"
        if i == 4:
            row["ethnicity"] = SCRIPT

    def roadmap(i, row):
        for k in row:
            if k not in ("phase", "by_when"):
                row[k] = f"{row[k]} {PAYLOAD}"

    def item(i, row):
        row["text"] = f"{row['text']} {PAYLOAD}"

    _poison_csv(folder / "schools.csv", school)
    _poison_csv(folder / "pupils.csv", pupil)
    _poison_csv(folder / "roadmap.csv", roadmap)
    _poison_csv(folder / "survey_items.csv", item)
    _poison_plan(folder / "plan.yml")
    return folder / "trust.yml"


@pytest.mark.slow
def test_hostile_text_is_escaped_in_every_report(tmp_path, monkeypatch):
    """Every notebook for the trust and one school: payloads appear escaped, never as markup."""
    monkeypatch.setenv("CILIB_TEST_HOSTILE_KEY", KEY)
    config = load_config(hostile_trust(tmp_path / "trust"))
    m = run_batch(config, PERIOD, schools=["NLT01"], jobs=2, output=tmp_path / "reports")
    assert m["counts"]["failed"] == 0, [n["error"] for n in m["notebooks"] if n["error"]]
    folder = tmp_path / "reports" / "2025-26_HT6"
    pages = sorted(folder.rglob("*.html"))
    assert len(pages) == m["counts"]["total"] + 3 >= 14  # + index, glossary, data quality
    escaped = {"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;"}
    seen: set[str] = set()
    for page in pages:
        text = page.read_text(encoding="utf-8")
        name = page.relative_to(folder).as_posix()
        check_page(text, name)
        for raw in ("<script>alert", "<img src=x", "<script"):
            if raw == "<script" and name == "index.html":
                continue  # its search box, allowed by hash (check_page)
            assert raw not in text.lower(), f"{name} has {raw!r} unescaped"
        seen |= {e for e in escaped if e in text}
        if name != "index.html":
            # the payload reaches every report through the trust or school name at least
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, name
    assert seen == escaped  # not vacuous: both payloads arrived, escaped
    # pupil values never reach a report, not even escaped: counts by rule only
    for page in pages:
        assert "&lt;img src=x onerror=alert(1)&gt;</td>" not in page.read_text(encoding="utf-8")
    plan_page = (folder / "trust" / "02_strategic_plan.html").read_text(encoding="utf-8")
    roadmap_page = (folder / "NLT01" / "03_implement_plan.html").read_text(encoding="utf-8")
    monitor_page = (folder / "trust" / "04_monitor_adjust.html").read_text(encoding="utf-8")
    assert plan_page.count("&lt;script&gt;alert(1)") >= 10  # vision, priorities, goals, strategies
    assert roadmap_page.count("&lt;script&gt;alert(1)") >= 5  # roadmap cells and action owners
    assert "&lt;script&gt;alert(1)" in monitor_page


# --------------------------------------------------------------------------------------------
# byte-for-byte reproducible runs


def _digests(folder: Path, patterns: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pattern in patterns:
        for p in sorted(folder.rglob(pattern)):
            out[p.relative_to(folder).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _pngs(folder: Path) -> list[bytes]:
    """Every PNG embedded in the run's pages, decoded."""
    found = []
    for page in sorted(folder.rglob("*.html")):
        for b64 in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page.read_text()):
            found.append(base64.b64decode(b64))
    return found


@pytest.mark.slow
def test_same_inputs_give_identical_outputs(tmp_path):
    """A period run twice into two folders gives the same bytes in every HTML, PNG and JSON
    file, the same kept notebooks, and the same parquet in the store; only run-log.json differs.
    """
    trust = tmp_path / "trust"
    shutil.copytree(SAMPLE_CONFIG.parent, trust, ignore=shutil.ignore_patterns("store"))
    config = load_config(trust / "trust.yml")
    runs, stores = [], []
    for name in ("a", "b"):
        run_batch(
            config,
            PERIOD,
            schools=["NLT01"],
            notebooks=["01_assess_needs"],
            jobs=2,
            output=tmp_path / name,
        )
        folder = tmp_path / name / "2025-26_HT6"
        runs.append(folder)
        store = _digests(trust / "store" / "2025-26_HT6", ("*.parquet",))
        # derived/ holds results shared between reports, named by a key that includes when the
        # store was prepared: compare their contents by kind, not their names
        shared = sorted((name.split("/")[1].rsplit("-", 1)[0], digest)
                        for name, digest in store.items() if name.startswith("derived/"))
        stores.append(({n: d for n, d in store.items() if not n.startswith("derived/")}, shared))
        assert (folder / "run-log.json").exists()
    patterns = ("*.html", "*.json", "*.ipynb", "*.png")
    first, second = (_digests(f, patterns) for f in runs)
    first.pop("run-log.json")
    second.pop("run-log.json")
    assert len(first) == 8  # index, glossary, data quality, manifest, 2 reports, 2 notebooks
    assert first == second
    assert stores[0] == stores[1] and len(stores[0][0]) >= 8 and stores[0][1]
    pngs = _pngs(runs[0])
    assert pngs and pngs == _pngs(runs[1])
    assert all(b"matplotlib" not in p for p in pngs)  # no Software chunk naming a version
    text = (runs[0] / "trust" / "01_assess_needs.html").read_text()
    assert not re.search(r"T_[0-9a-f]{5}", text)  # no random Styler ids
    assert not re.search(r"20\d\d-\d\d-\d\dT\d\d:\d\d", text)  # no wall-clock timestamps
