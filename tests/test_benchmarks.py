"""Published benchmarks: config checks, and the report section against the department's CSVs."""

from __future__ import annotations

import re
import shutil
import textwrap

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.figure import Figure

from cilib.core.errors import ConfigError
from cilib.data.benchmarks import FILE, NOT_FOUND, prepare_benchmarks, read_benchmarks
from cilib.data.config import check_benchmarks, load_config
from cilib.data.store import Store, write_meta
from cilib.report.sections.benchmarks import benchmark_section
from tests.conftest import REAL, SAMPLE_CONFIG

PERF = REAL / "dfe-performance-tables"
#: Three sample schools mapped to real URNs present in all three years of the files:
#: two Hampshire (850) junior schools at KS2 (Anton Junior has SUPP in 2016/17) and one
#: Surrey (936) secondary at KS4.
URNS = {"NLT01": "115851", "NLT02": "115854", "NLT06": "125249"}


def _trust(tmp_path, benchmarks: str):
    """Copy the sample trust into tmp_path with a benchmarks section; return its config."""
    trust = tmp_path / "trust"
    shutil.copytree(SAMPLE_CONFIG.parent, trust, ignore=shutil.ignore_patterns("store"))
    text = (trust / "trust.yml").read_text() + textwrap.dedent(benchmarks)
    (trust / "trust.yml").write_text(text)
    return load_config(trust / "trust.yml")


@pytest.fixture(scope="module")
def bench_store(tmp_path_factory):
    """A store folder holding the trust's meta and the benchmarks.parquet prepare writes."""
    tmp = tmp_path_factory.mktemp("bench")
    urns = "".join(f"\n    {k}: {v}" for k, v in URNS.items())
    cfg = _trust(tmp, f"benchmarks:\n  performance_tables: {PERF}\n  urns:{urns}\n")
    bench = prepare_benchmarks(cfg)
    folder = tmp / "store"
    folder.mkdir()
    bench.to_parquet(folder / FILE, index=False)
    schools = pd.read_csv(SAMPLE_CONFIG.parent / "schools.csv", dtype="str")
    meta = {
        "trust_name": cfg.name,
        "period": "2025/26 HT6",
        "periods": cfg.periods,
        "schools": schools[["school_id", "school_name"]].to_dict("records"),
    }
    write_meta(folder, meta)
    return Store(folder)


def _raw(path, urn=None, rectype=None, la=None) -> pd.Series:
    """One row of a department CSV, read with plain pandas (every cell as text)."""
    raw = pd.read_csv(path, dtype="str")
    raw.columns = [c.upper() for c in raw.columns]
    mask = pd.Series(True, index=raw.index)
    if urn:
        mask &= raw["URN"] == urn
    if rectype:
        mask &= raw["RECTYPE"] == rectype
    if la:
        mask &= raw["LEA"] == la
    rows = raw.loc[mask]
    assert len(rows) == 1
    return rows.iloc[0]


def _num(text: str) -> float:
    return float(text.rstrip("%"))


def _html_rows(items) -> list[list[str]]:
    """Cells of every table row in the section's HTML tables."""
    html = "".join(i.data for i in items if hasattr(i, "data"))
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, flags=re.S)
        if cells:
            rows.append([c.strip() for c in cells])
    return rows


def test_section_figures_match_department_csv(bench_store):
    """KS2 and KS4 gaps, LA and England gaps equal the CSV values computed by hand."""
    items = benchmark_section(bench_store, None)
    rows = {(r[0], r[1]): r[2:] for r in _html_rows(items)}
    # KS2 2017/18, Anstey Junior (URN 115851), Hampshire: PTRWM_EXP, England state-funded = 5
    f = PERF / "ks2" / "2017-850-ks2.csv"
    s, la, en = _raw(f, urn="115851"), _raw(f, rectype="3", la="850"), _raw(f, rectype="5")
    dis, oth = _num(s["PTRWM_EXP_FSM6CLA1A"]), _num(s["PTRWM_EXP_NOTFSM6CLA1A"])
    la_gap = _num(la["PTRWM_EXP_FSM6CLA1A"]) - _num(la["PTRWM_EXP_NOTFSM6CLA1A"])
    en_gap = _num(en["PTRWM_EXP_FSM6CLA1A"]) - _num(en["PTRWM_EXP_NOTFSM6CLA1A"])
    assert rows[("Northfield Primary Academy", "2017/18")] == [
        f"{dis:.1f}",
        f"{oth:.1f}",
        f"{dis - oth:+.1f}",
        f"{la_gap:+.1f}",
        f"{en_gap:+.1f}",
    ]
    # KS4 2018/19, Broadwater School (URN 125249), Surrey: ATT8SCR, England state-funded = 7
    f = PERF / "ks4" / "2018-2019_936_ks4final.csv"
    s, la, en = _raw(f, urn="125249"), _raw(f, rectype="4", la="936"), _raw(f, rectype="7")
    dis, oth = _num(s["ATT8SCR_FSM6CLA1A"]), _num(s["ATT8SCR_NFSM6CLA1A"])
    la_gap = _num(la["ATT8SCR_FSM6CLA1A"]) - _num(la["ATT8SCR_NFSM6CLA1A"])
    en_gap = _num(en["ATT8SCR_FSM6CLA1A"]) - _num(en["ATT8SCR_NFSM6CLA1A"])
    assert rows[("Northfield Academy", "2018/19")] == [
        f"{dis:.1f}",
        f"{oth:.1f}",
        f"{dis - oth:+.1f}",
        f"{la_gap:+.1f}",
        f"{en_gap:+.1f}",
    ]
    b = read_benchmarks(bench_store).set_index(["school_id", "year"])
    assert b.loc[("NLT06", "2018/19"), "gap"] == pytest.approx(dis - oth)
    assert b.loc[("NLT06", "2018/19"), "england_gap"] == pytest.approx(en_gap)
    # every school with a URN has each of the three years
    found = b.loc[b["status"] != NOT_FOUND].reset_index()
    assert found.groupby("school_id")["year"].nunique().to_dict() == {k: 3 for k in URNS}
    assert sum(isinstance(i, Figure) for i in items) == 2  # one chart per key stage
    for i in items:
        if isinstance(i, Figure):
            plt.close(i)


def test_supp_is_shown_as_the_reason_never_zero(bench_store):
    """Anton Junior 2016/17: the department wrote SUPP, and the section shows SUPP."""
    s = _raw(PERF / "ks2" / "2016-850-ks2.csv", urn="115854")
    assert s["PTRWM_EXP_FSM6CLA1A"] == "SUPP"
    items = benchmark_section(bench_store, "NLT02")
    rows = _html_rows(items)
    row = [r for r in rows if r[1] == "2016/17"][0]
    assert row[2] == "SUPP" and row[4].startswith("SUPP")
    b = read_benchmarks(bench_store).set_index(["school_id", "year"]).loc[("NLT02", "2016/17")]
    assert pd.isna(b["gap"]) and b["disadvantaged_status"] == "SUPP"
    text = "".join(i.data for i in items if hasattr(i, "data"))
    assert "SUPP = suppressed" in text and "own totals" in text
    for i in items:
        if isinstance(i, Figure):
            plt.close(i)


def test_schools_without_published_figures_are_named(bench_store):
    """Sample URNs from the schools table (9901xx) are not in the files: a note names them."""
    items = benchmark_section(bench_store, None)
    text = "".join(i.data for i in items if hasattr(i, "data"))
    assert "No published figures found for" in text and "URN 990103" in text
    assert "<h2>Published benchmarks: how do our schools" in text
    one = benchmark_section(bench_store, "NLT03")
    assert "URN 990103" in "".join(i.data for i in one if hasattr(i, "data"))
    for i in items + one:
        if isinstance(i, Figure):
            plt.close(i)


def test_no_benchmarks_file_gives_one_line_and_no_heading(tmp_path):
    """Without benchmarks.parquet the section is one line saying why, with no empty heading."""
    write_meta(tmp_path, {"trust_name": "T", "schools": []})
    items = benchmark_section(Store(tmp_path), None)
    assert len(items) == 1
    text = items[0].data
    assert "<h2" not in text and "not shown" in text and "names no published data" in text
    assert prepare_benchmarks(load_config(SAMPLE_CONFIG)) is None


def test_config_section_is_checked(tmp_path):
    """Bad benchmarks sections stop with a message naming the key."""
    with pytest.raises(ConfigError, match="unknown key 'benchmarks.files'"):
        check_benchmarks({"performance_tables": "x", "files": 1})
    with pytest.raises(ConfigError, match="benchmarks.performance_tables must name"):
        check_benchmarks({"urns": {"A": 1}})
    with pytest.raises(ConfigError, match="benchmarks.urns.NLT01 must be a URN"):
        check_benchmarks({"performance_tables": "x", "urns": {"NLT01": "abc"}})
    with pytest.raises(ConfigError, match="benchmarks.urns must be a mapping"):
        check_benchmarks({"performance_tables": "x", "urns": ["1"]})
    with pytest.raises(ConfigError, match="benchmarks must be a mapping"):
        _trust(tmp_path / "a", "benchmarks: [1, 2]\n")
    cfg = _trust(tmp_path / "b", "benchmarks:\n  performance_tables: ../dfe\n")
    assert cfg.benchmarks["performance_tables"] == str((tmp_path / "b" / "dfe").resolve())
    with pytest.raises(ConfigError, match="benchmarks.performance_tables .* does not exist"):
        prepare_benchmarks(cfg)
    cfg = _trust(tmp_path / "c", f"benchmarks:\n  performance_tables: {PERF}\n  urns: {{X9: 1}}\n")
    with pytest.raises(ConfigError, match="benchmarks.urns names school 'X9'"):
        prepare_benchmarks(cfg)
