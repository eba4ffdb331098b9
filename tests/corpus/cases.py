"""The corpus: malformed inputs, configs, plans and command lines with their expected outcomes.

Each :class:`Case` names the fault of issue 11 it probes (1-10, as numbered there; 0 for a
control that must keep working), how it damages a copy of the small trust, the command it runs
and what must happen (:mod:`tests.corpus.expect`). Rule names are those of the common brief:
``unparseable_line``, ``mixed_encoding``, ``ambiguous_number``, ``invalid_id``,
and the existing validation and mapping rules.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tests.corpus import mutate as m
from tests.corpus.builder import CaseRun
from tests.corpus.expect import Accounted, Exit2

VALIDATE = ("validate", "--config", "{config}")
#: The one notebook the few ``run`` cases execute, for one school.
RUN_ONE = ("--notebooks", "01_assess_needs", "--schools", "NLT01", "--jobs", "1", "--quiet")
HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_SCRIPT = "<script>alert('x')</script>"
DOTDOT = r"(?<!\.)\.\.(?!\.)"


@dataclass(frozen=True)
class Case:
    """One corpus input and its expected outcome."""

    name: str
    fault: int
    what: str
    expect: Exit2 | Accounted | tuple
    mutate: Callable[[Path], None] | None = None
    argv: tuple[str, ...] = VALIDATE
    forbidden: tuple[str, ...] = ()
    slow: bool = False
    subprocess: bool = False
    before_run: tuple[tuple[str, ...], ...] = ()
    after_setup: Callable[[Path], None] | None = None
    call: Callable[[Path], int] | None = None
    env: dict[str, str] | None = field(default=None)

    @property
    def expectations(self) -> tuple:
        """The acceptable outcomes (any one of them)."""
        return self.expect if isinstance(self.expect, tuple) else (self.expect,)


# --------------------------------------------------------------------------- helpers


def clean(run: CaseRun, table: str) -> pd.DataFrame:
    """Return a clean table from the store the case wrote."""
    return pd.read_parquet(run.store() / f"{table}.parquet")


def sidecar(trust: Path, data: dict) -> None:
    """Save facts about the undamaged input beside the trust folder, for a case's check."""
    (trust.parent / "expected.json").write_text(json.dumps(data), encoding="utf-8")


def read_sidecar(run: CaseRun) -> dict:
    """Read what :func:`sidecar` saved."""
    return json.loads((run.root / "expected.json").read_text(encoding="utf-8"))


def _with_sidecar(fn: Callable[[Path], dict]) -> Callable[[Path], None]:
    def mutate(trust: Path) -> None:
        sidecar(trust, fn(trust))

    return mutate


# --------------------------------------------------------------------------- fault 4: numbers


def _decimal_comma_systems(trust: Path) -> dict:
    header, rows = m.read_csv(trust, "systems.csv")
    j = header.index("value")
    values = sorted(float(r[j]) for r in rows)
    for r in rows:
        r[j] = r[j].replace(".", ",")
    m.write_csv(trust, "systems.csv", header, rows, sep=";")
    return {"values": values, "commas": sum("," in r[j] for r in rows)}


def _check_systems_values(run: CaseRun) -> list[str]:
    want = read_sidecar(run)["values"]
    got = sorted(clean(run, "systems")["value"].round(6).tolist())
    if got != [round(v, 6) for v in want]:
        wrong = [(w, g) for w, g in zip(want, got, strict=False) if abs(w - g) > 1e-9][:3]
        return [f"systems values changed by reading: (written, stored) e.g. {wrong}"]
    return []


def _check_decimal_warning(run: CaseRun) -> list[str]:
    out = _check_systems_values(run)
    if "decimal" not in run.stderr.lower():
        out.append("no warning that decimal commas were detected")
    return out


def _year_group_commas(trust: Path) -> dict:
    header, rows = m.read_csv(trust, "pupils.csv")
    s, y = header.index("school_id"), header.index("year_group")
    n = 0
    for r in rows:
        if r[s] == "NLT01" and r[y] == "1":
            r[y] = "1,0"
            n += 1
    m.write_csv(trust, "pupils.csv", header, rows, sep=";")
    return {"changed": n}


def _check_no_year_ten_in_primary(run: CaseRun) -> list[str]:
    p = clean(run, "pupils")
    bad = p[(p["school_id"] == "NLT01") & (p["year_group"] == 10)]
    return [f"{len(bad)} primary pupils read as year 10 from '1,0'"] if len(bad) else []


def _score_comma(trust: Path) -> dict:
    header, rows = m.read_csv(trust, "assessments.csv")
    j = header.index("score")
    picked = [i for i, r in enumerate(rows) if r[j] not in ("", "75", "75.0")][:5]
    for i in picked:
        rows[i][j] = "7,5"
    m.write_csv(trust, "assessments.csv", header, rows)
    return {"seventy_fives": sum(1 for r in rows if r[j] in ("75", "75.0"))}


def _check_no_75(run: CaseRun) -> list[str]:
    n = int((clean(run, "assessments")["score"] == 75.0).sum())
    want = read_sidecar(run)["seventy_fives"]
    return [f"'7,5' read as 75 ({n} scores of 75, {want} in the file)"] if n > want else []


# --------------------------------------------------------------------------- fault 5: lines


def _stray_quote(trust: Path) -> None:
    """A quote opening the assessment field on one line and closing 20 lines further on."""
    header, rows = m.read_csv(trust, "assessments.csv")
    a, g = header.index("assessment"), header.index("grade")
    text = m.csv_text(header, rows).split("\n")
    i = 200  # physical line index (0 is the header)
    fields = text[i].split(",")
    fields[a] = '"' + fields[a]
    text[i] = ",".join(fields)
    fields = text[i + 20].split(",")
    fields[g] = fields[g] + '"'
    text[i + 20] = ",".join(fields)
    (trust / "assessments.csv").write_text("\n".join(text), encoding="utf-8")


def _unclosed_quote(trust: Path) -> None:
    """A quote opening a field 13 lines before the end, never closed."""
    text = (trust / "attendance.csv").read_text(encoding="utf-8").rstrip("\n").split("\n")
    fields = text[-13].split(",")
    fields[1] = '"' + fields[1]
    text[-13] = ",".join(fields)
    (trust / "attendance.csv").write_text("\n".join(text) + "\n", encoding="utf-8")


def _excel(trust: Path, sheets: dict[str, str | None]) -> None:
    """Write pupils.xlsx: sheet name -> school whose pupils it holds (None: an empty sheet)."""
    import openpyxl

    header, rows = m.read_csv(trust, "pupils.csv")
    s = header.index("school_id")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, school in sheets.items():
        ws = wb.create_sheet(name)
        if school is None:
            continue
        ws.append(header)
        for r in rows:
            if r[s] == school:
                ws.append(r)
    wb.save(trust / "pupils.xlsx")
    (trust / "pupils.csv").unlink()


def _excel_mutation(sheets: dict[str, str | None], sheet_option: str | None = None):
    def mutate(trust: Path) -> None:
        _excel(trust, sheets)
        m.replace("pupils: pupils.csv", "pupils: pupils.xlsx")(trust)
        if sheet_option:
            m.append(f"mappings:\n  pupils:\n    sheet: {sheet_option}\n")(trust)

    return mutate


def _crlf_and_blank_lines(trust: Path) -> None:
    lines = (trust / "attendance.csv").read_text(encoding="utf-8").rstrip("\n").split("\n")
    out = []
    for i, ln in enumerate(lines):
        out.append(ln)
        if i and i % 50 == 0:
            out.append("")
    (trust / "attendance.csv").write_bytes(("\r\n".join(out) + "\r\n\r\n").encode("utf-8"))


# --------------------------------------------------------------------------- fault 7: encodings


def _one_cp1252_byte(trust: Path) -> dict:
    header, rows = m.read_csv(trust, "assessments.csv")
    a = header.index("assessment")
    rows[10][a] = "HT2 Évaluation"  # stays UTF-8
    text = m.csv_text(header, rows).encode("utf-8").split(b"\n")
    line = 31  # physical line 31 is data row 30
    text[line] = text[line].replace(b"checkpoint", b"checkpoint \x96 retake")
    assert b"\x96" in text[line], "corpus set-up: no 'checkpoint' on the chosen line"
    (trust / "assessments.csv").write_bytes(b"\n".join(text))
    return {"utf8_text": "HT2 Évaluation"}


def _check_utf8_kept(run: CaseRun) -> list[str]:
    want = read_sidecar(run)["utf8_text"]
    got = set(clean(run, "assessments")["assessment"].dropna())
    if want not in got:
        wrong = sorted(v for v in got if "valuation" in v)[:2]
        return [f"the UTF-8 text {want!r} was decoded wrongly: {wrong}"]
    return []


def _cp1252_school_names(trust: Path) -> None:
    header, rows = m.read_csv(trust, "schools.csv")
    rows[0][header.index("school_name")] = "Northfield Primary Académie"
    (trust / "schools.csv").write_bytes(m.csv_text(header, rows).encode("cp1252"))


def _check_cp1252_name(run: CaseRun) -> list[str]:
    names = set(clean(run, "schools")["school_name"])
    return [] if "Northfield Primary Académie" in names else [f"cp1252 name misread: {names}"]


# --------------------------------------------------------------------------- fault 7: dates

HALF_TERM_STARTS = {
    "2025/26 HT1": "2025-09-01",
    "2025/26 HT2": "2025-11-03",
    "2025/26 HT3": "2026-01-05",
    "2025/26 HT4": "2026-02-23",
    "2025/26 HT5": "2026-04-13",
    "2025/26 HT6": "2026-06-01",
}


def _mixed_dates(trust: Path) -> dict:
    """Attendance with a week date instead of a period: day first, with some month-first rows.

    Twenty HT2 rows are dated 10 November written month first (``11/10/2025``), which read day
    first is 11 October, in HT1; three HT1 rows are written ``09/15/2025``, impossible day
    first: evidence that the file mixes the two orders.
    """
    header, rows = m.read_csv(trust, "attendance.csv")
    p = header.index("period")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r[p]] = counts.get(r[p], 0) + 1
    dates = {
        "2025/26 HT1": "15/09/2025",
        "2025/26 HT2": "10/11/2025",
        "2025/26 HT3": "12/01/2026",
        "2025/26 HT4": "02/03/2026",
        "2025/26 HT5": "20/04/2026",
        "2025/26 HT6": "08/06/2026",
    }
    ht2 = ht1 = 0
    out = []
    for r in rows:
        d = dates.get(r[p], "01/01/2020")
        if r[p] == "2025/26 HT2" and ht2 < 20:
            d, ht2 = "11/10/2025", ht2 + 1
        elif r[p] == "2025/26 HT1" and ht1 < 3:
            d, ht1 = "09/15/2025", ht1 + 1
        out.append([v for k, v in enumerate(r) if k != p] + [d])
    new_header = [h for k, h in enumerate(header) if k != p] + ["week_start"]
    m.write_csv(trust, "attendance.csv", new_header, out)
    starts = "\n".join(f'          "{k}": {v}' for k, v in HALF_TERM_STARTS.items())
    m.append(
        "mappings:\n  attendance:\n    dates:\n      week_start: {dayfirst: true}\n"
        "    derive:\n      period:\n        from: week_start\n        calendar:\n"
        f"{starts}\n"
    )(trust)
    return {"per_period": counts}


def _one_bad_date(trust: Path) -> dict:
    """The mixed-dates file without its month-first rows, and one impossible date."""
    facts = _mixed_dates(trust)
    header, rows = m.read_csv(trust, "attendance.csv")
    w = header.index("week_start")
    for r in rows:
        if r[w] == "11/10/2025":
            r[w] = "10/11/2025"
        elif r[w] == "09/15/2025":
            r[w] = "15/09/2025"
    rows[7][w] = "31/02/2026"
    m.write_csv(trust, "attendance.csv", header, rows)
    return facts


def _check_no_row_moved(run: CaseRun) -> list[str]:
    want = read_sidecar(run)["per_period"]
    got = clean(run, "attendance")["period"].value_counts().to_dict()
    moved = {p: (n, want.get(p, 0)) for p, n in got.items() if n > want.get(p, 0)}
    return [f"rows moved to another half-term (clean, written): {moved}"] if moved else []


# --------------------------------------------------------------------------- fault 7: parents


def _check_children_kept(run: CaseRun) -> list[str]:
    out = []
    pupils = clean(run, "pupils")
    if not (pupils["school_id"] == "NLT06").any():
        out.append("no NLT06 pupils left in the clean data")
    for t in ("pupils", "assessments", "attendance", "systems"):
        qfile = run.store() / "quarantine" / f"{t}.csv"
        if qfile.exists():
            q = pd.read_csv(qfile, dtype=str, keep_default_na=False)
            hit = q[q["column"].str.contains("school_id") & q["rule"].str.contains("reference")]
            if len(hit):
                out.append(f"{len(hit)} {t} rows quarantined because their school was set aside")
    return out


# --------------------------------------------------------------------------- fault 3: ids


def _roster_join(trust: Path) -> None:
    """Attendance without school_id, joined on pupil_id to a roster missing five pupils."""
    header, rows = m.read_csv(trust, "pupils.csv")
    pid, sid = header.index("pupil_id"), header.index("school_id")
    roster = {}
    for r in rows:
        roster.setdefault(r[pid], r[sid])
    pupils = sorted(roster)
    for gone in pupils[5:10]:
        del roster[gone]
    m.write_csv(trust, "roster.csv", ["UPN", "school_id"], [[k, v] for k, v in roster.items()])
    header, rows = m.read_csv(trust, "attendance.csv")
    s = header.index("school_id")
    m.write_csv(
        trust,
        "attendance.csv",
        [h if h != "pupil_id" else "UPN" for k, h in enumerate(header) if k != s],
        [[v for k, v in enumerate(r) if k != s] for r in rows],
    )
    m.append(
        "mappings:\n  attendance:\n    join:\n      - file: roster.csv\n        keys: [UPN]\n"
        "    columns: {UPN: pupil_id}\n"
    )(trust)


# --------------------------------------------------------------------------- fault 9: store


def _drop_parquet(trust: Path) -> None:
    for p in trust.glob("store/*/attendance.parquet"):
        p.unlink()


def _truncate_parquet(trust: Path) -> None:
    for p in trust.glob("store/*/attendance.parquet"):
        p.write_bytes(p.read_bytes()[:200])


def _open_store(root: Path) -> int:
    """Open the written store as a notebook does; it must refuse a damaged one."""
    from cilib.data.prepare import open_store

    folders = sorted((root / "trust").glob("store/*/meta.json"))
    open_store(folders[0].parent)
    return 0


# --------------------------------------------------------------------------- misc inputs

#: A PNG header and binary noise with NUL bytes.
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8


def _xlsx_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


#: Nine levels of nine aliases ("billion laughs"): 9**9 strings once expanded.
ALIAS_BOMB = [
    '&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    *(f"&{b} [{','.join(['*' + a] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)),
]


def _alias_bomb(key: str):
    """Return a mutation making the config's ``key`` (name or lenses) a list holding the bomb."""

    def mutate(trust: Path) -> None:
        text = (trust / "trust.yml").read_text(encoding="utf-8")
        bomb = "".join(f"  - {ln}\n" for ln in ALIAS_BOMB)
        if key == "name":
            old = "name: Northfield Learning Trust (synthetic sample)\n"
        else:
            old = "lenses: [disadvantaged, sen, eal, gender, prior_attainment]\n"
        assert old in text, f"corpus set-up: {old!r} not in trust.yml"
        (trust / "trust.yml").write_text(text.replace(old, f"{key}:\n{bomb}"), encoding="utf-8")

    return mutate


def _non_sample_schools(trust: Path) -> None:
    header, rows = m.read_csv(trust, "schools.csv")
    n = header.index("school_name")
    rows[0][n] = "Oakwood Primary School"
    rows[1][n] = "Hillcrest Academy"
    m.write_csv(trust, "schools.csv", header, rows)
    m.replace("  key_file: ../corpus.key   # outside the trust folder", "  sample_key: true")(trust)


def _nul_ids(trust: Path) -> None:
    header, rows = m.read_csv(trust, "pupils.csv")
    j = header.index("pupil_id")
    for i, word in zip(range(20, 26), ["NA", "N/A", "null", "None", "NaN", "-"], strict=True):
        rows[i][j] = word
    m.write_csv(trust, "pupils.csv", header, rows)


CASES: list[Case] = [
    # ------------------------------------------------------------------ controls
    Case("control_small_trust", 0, "the small trust as built", Accounted()),
    Case(
        "control_crlf_blank_lines",
        0,
        "attendance with CRLF line ends and blank lines between rows",
        Accounted(),
        mutate=_crlf_and_blank_lines,
    ),
    Case(
        "control_tab_separated",
        0,
        "pupils saved tab-separated under a .csv name",
        Accounted(),
        mutate=lambda t: m.write_csv(t, "pupils.csv", *m.read_csv(t, "pupils.csv"), sep="\t"),
    ),
    Case(
        "control_cp1252_file",
        7,
        "a whole schools file in Windows-1252 (an accented school name)",
        Accounted(check=_check_cp1252_name),
        mutate=_cp1252_school_names,
    ),
    # ------------------------------------------------------------------ fault 1: paths
    Case(
        "period_dotdot",
        1,
        "calendar period '..' and validate --period ..",
        Exit2(("period", DOTDOT)),
        mutate=m.calendar_periods([*HALF_TERM_STARTS, ".."]),
        argv=(*VALIDATE, "--period", ".."),
    ),
    Case(
        "period_dot",
        1,
        "calendar period '.' and validate --period .",
        Exit2(("period",)),
        mutate=m.calendar_periods([*HALF_TERM_STARTS, "."]),
        argv=(*VALIDATE, "--period", "."),
    ),
    Case(
        "period_dotdot_unused",
        1,
        "calendar lists '..' though the run is for another period",
        Exit2(("period", DOTDOT)),
        mutate=m.calendar_periods([*HALF_TERM_STARTS, ".."]),
        argv=(*VALIDATE, "--period", "2025/26 HT6"),
    ),
    Case(
        "period_backslash",
        1,
        r"period label '..\..\evil' (a path on Windows)",
        Exit2(("period",)),
        mutate=m.calendar_periods([*HALF_TERM_STARTS, "..\\..\\evil"]),
        argv=(*VALIDATE, "--period", "..\\..\\evil"),
    ),
    Case(
        "period_slug_clash",
        1,
        "two period labels that give the same folder name ('2025/26 HT1', '2025-26 HT1')",
        Exit2(("period",)),
        mutate=m.calendar_periods([*HALF_TERM_STARTS, "2025-26 HT1"]),
    ),
    Case(
        "school_id_dotdot",
        1,
        "a school with id '../../pwned' in schools.csv and the config",
        Exit2(("school",)),
        mutate=m.rename_school("NLT06", "../../pwned"),
    ),
    Case(
        "school_id_trust",
        1,
        "a school with id 'trust' (the trust report's folder)",
        Exit2(("school", "trust")),
        mutate=m.rename_school("NLT06", "trust"),
    ),
    Case(
        "school_id_dot",
        1,
        "a school with id '.'",
        Exit2(("school",)),
        mutate=m.rename_school("NLT06", "."),
    ),
    Case(
        "school_id_slash",
        1,
        "a school with id 'NLT/06'",
        Exit2(("school",)),
        mutate=m.rename_school("NLT06", "NLT/06"),
    ),
    Case(
        "run_period_dotdot",
        1,
        "cilib run --period '..' (deleted the parent of the reports folder)",
        Exit2(("period",)),
        mutate=m.calendar_periods([*HALF_TERM_STARTS, ".."]),
        argv=("run", "--config", "{config}", "--period", "..", *RUN_ONE),
        slow=True,
    ),
    Case(
        "run_school_dotdot",
        1,
        "cilib run for a school '../../pwned' (wrote HTML outside the reports folder)",
        Exit2(("school",)),
        mutate=m.rename_school("NLT06", "../../pwned"),
        argv=(
            "run",
            "--config",
            "{config}",
            "--period",
            "2025/26 HT6",
            "--notebooks",
            "01_assess_needs",
            "--schools",
            "../../pwned",
            "--jobs",
            "1",
            "--quiet",
        ),
        slow=True,
    ),
    # ------------------------------------------------------------------ fault 2: hostile values
    Case(
        "hostile_gender",
        2,
        f"a pupil's gender is {HOSTILE_IMG}",
        Accounted(rules={"pupils": ("allowed_values",)}),
        mutate=m.set_cells("pupils.csv", "gender", {5: HOSTILE_IMG}),
        forbidden=(HOSTILE_IMG, "onerror"),
    ),
    Case(
        "hostile_sen",
        2,
        f"a pupil's SEN code is {HOSTILE_SCRIPT}",
        Accounted(rules={"pupils": ("allowed_values",)}),
        mutate=m.set_cells("pupils.csv", "sen", {7: HOSTILE_SCRIPT}),
        forbidden=("<script",),
    ),
    Case(
        "hostile_period",
        2,
        'an attendance period is 2025/26 HT1"><svg onload=alert(1)>',
        Accounted(rules={"attendance": ("calendar_period",)}),
        mutate=m.set_cells("attendance.csv", "period", {3: '2025/26 HT1"><svg onload=alert(1)>'}),
        forbidden=("<svg", "onload"),
    ),
    # ------------------------------------------------------------------ fault 3: raw ids
    Case(
        "join_unmatched_ids",
        3,
        "attendance joined on UPN to a roster that lacks five pupils",
        Accounted(rules={"attendance": ("join_unmatched",)}),
        mutate=_roster_join,
    ),
    Case(
        "mapping_unknown_code_record",
        3,
        "a gender code mapping with one unknown code (the quarantine record holds the row)",
        Accounted(rules={"pupils": ("unknown_code",)}),
        mutate=m.chain(
            m.set_cells("pupils.csv", "gender", {3: "X"}),
            m.append(
                "mappings:\n  pupils:\n    values:\n      gender: {female: female, male: male,"
                " other: other}\n"
            ),
        ),
    ),
    Case(
        "mapping_required_record",
        3,
        "a mapping's required step finds a blank ethnicity",
        Accounted(rules={"pupils": ("missing_value",)}),
        mutate=m.chain(
            m.set_cells("pupils.csv", "ethnicity", {4: ""}),
            m.append("mappings:\n  pupils:\n    required: [ethnicity]\n"),
        ),
    ),
    Case(
        "duplicate_column_message",
        3,
        "pupils.csv has pupil_id twice with different contents",
        Exit2(("pupil_id",)),
        mutate=m.edit_rows(
            "pupils.csv",
            lambda h, rows: (h + ["pupil_id"], [r + [r[0][::-1]] for r in rows]),
        ),
    ),
    # ------------------------------------------------------------------ fault 4: numbers
    Case(
        "decimal_comma_detected",
        4,
        "systems.csv ';'-separated with decimal commas (3,4), no option",
        Accounted(check=_check_decimal_warning),
        mutate=_with_sidecar(_decimal_comma_systems),
    ),
    Case(
        "decimal_comma_declared",
        4,
        "systems.csv with decimal commas and mappings.systems.decimal: ','",
        Accounted(check=_check_systems_values),
        mutate=m.chain(
            _with_sidecar(_decimal_comma_systems),
            m.append('mappings:\n  systems:\n    decimal: ","\n'),
        ),
    ),
    Case(
        "year_group_one_comma_zero",
        4,
        "pupils.csv ';'-separated with year_group '1,0'",
        Accounted(check=_check_no_year_ten_in_primary),
        mutate=_with_sidecar(_year_group_commas),
    ),
    Case(
        "score_seven_comma_five",
        4,
        "assessments.csv (',') with scores written \"7,5\"",
        Accounted(rules={"assessments": ("ambiguous_number|type",)}, check=_check_no_75),
        mutate=_with_sidecar(_score_comma),
    ),
    Case(
        "systems_thousands_ambiguous",
        4,
        'systems.csv (",") with a value written "1,234"',
        Accounted(rules={"systems": ("ambiguous_number",)}),
        mutate=m.set_cells("systems.csv", "value", {2: "1,234"}),
    ),
    # ------------------------------------------------------------------ fault 5: lost rows
    Case(
        "excel_two_sheets_no_sheet",
        5,
        "pupils.xlsx with NLT01 and NLT06 pupils on two sheets, no sheet option",
        Exit2(("sheet", "NLT01", "NLT06")),
        mutate=_excel_mutation({"NLT01": "NLT01", "NLT06": "NLT06"}),
    ),
    Case(
        "excel_sheet_chosen",
        5,
        "the same workbook with mappings.pupils.sheet: NLT06",
        Accounted(),
        mutate=_excel_mutation({"NLT01": "NLT01", "NLT06": "NLT06"}, sheet_option="NLT06"),
    ),
    Case(
        "excel_empty_second_sheet",
        5,
        "pupils.xlsx with the data and an empty Notes sheet (not an error)",
        Accounted(),
        mutate=_excel_mutation({"Pupils": "NLT01", "Notes": None}),
    ),
    Case(
        "stray_quote",
        5,
        "a stray quote opens a field that closes 20 lines later",
        Accounted(rules={"assessments": ("unparseable_line",)}),
        mutate=_stray_quote,
    ),
    Case(
        "unclosed_quote",
        5,
        "a quote opened 13 lines before the end and never closed",
        Accounted(rules={"attendance": ("unparseable_line",)}),
        mutate=_unclosed_quote,
    ),
    Case(
        "extra_field",
        5,
        "an unquoted comma in ethnicity gives one line a twelfth field",
        Accounted(rules={"pupils": ("unparseable_line",)}),
        mutate=m.edit_lines("pupils.csv", lambda ls: ls[:5] + [ls[5] + ",extra"] + ls[6:]),
    ),
    Case(
        "short_line",
        5,
        "one attendance line cut short (four fields of six): padded with blanks, as published "
        "files leave trailing cells out, then set aside for its missing sessions",
        Accounted(rules={"attendance": ("not_null",)}),
        mutate=m.edit_lines(
            "attendance.csv", lambda ls: ls[:9] + [",".join(ls[9].split(",")[:4])] + ls[10:]
        ),
    ),
    Case(
        "header_only",
        5,
        "attendance.csv holds only its header",
        Accounted(),
        mutate=m.edit_lines("attendance.csv", lambda ls: ls[:1] + [""]),
    ),
    # ------------------------------------------------------------------ fault 6: safeguards
    Case(
        "duplicate_key_threshold",
        6,
        "suppression_threshold: 10 then suppression_threshold: 1",
        Exit2(("suppression_threshold", "twice|duplicate|more than once|repeated")),
        mutate=m.replace(
            "suppression_threshold: 5",
            "suppression_threshold: 10\nsuppression_threshold: 1",
        ),
    ),
    Case(
        "duplicate_key_nested",
        6,
        "data.pupils given twice",
        Exit2(("pupils", "twice|duplicate|more than once|repeated")),
        mutate=m.replace("  pupils: pupils.csv", "  pupils: pupils.csv\n  pupils: schools.csv"),
    ),
    Case(
        "duplicate_key_plan",
        6,
        "plan.yml has the key vision twice",
        Exit2(("vision", "twice|duplicate|more than once|repeated")),
        mutate=m.replace("vision: >", "vision: A first vision\nvision: >", name="plan.yml"),
    ),
    Case(
        "threshold_one",
        6,
        "suppression_threshold: 1",
        Exit2(("suppression_threshold",)),
        mutate=m.replace("suppression_threshold: 5", "suppression_threshold: 1"),
    ),
    Case(
        "threshold_three",
        6,
        "suppression_threshold: 3",
        Exit2(("suppression_threshold",)),
        mutate=m.replace("suppression_threshold: 5", "suppression_threshold: 3"),
    ),
    Case(
        "key_file_empty",
        6,
        "pseudonymisation.key_file is an empty file",
        Exit2(("key",)),
        mutate=lambda t: (t.parent / "corpus.key").write_text(""),
    ),
    Case(
        "key_file_blank",
        6,
        "pseudonymisation.key_file holds only spaces and a newline",
        Exit2(("key",)),
        mutate=lambda t: (t.parent / "corpus.key").write_text("   \n"),
    ),
    Case(
        "key_env_empty",
        6,
        "key_env names a variable that is set but empty, and no key file",
        Exit2(("key",)),
        mutate=m.replace(
            "  key_file: ../corpus.key   # outside the trust folder", "  key_env: CORPUS_EMPTY_KEY"
        ),
        env={"CORPUS_EMPTY_KEY": ""},
    ),
    Case(
        "sample_key_real_data",
        6,
        "sample_key: true with schools that are not the sample's",
        Exit2(("sample",)),
        mutate=_non_sample_schools,
    ),
    # ------------------------------------------------------------------ fault 7: misdiagnoses
    Case(
        "school_bad_cell",
        7,
        "NLT06's pupils_on_roll is '8x7' (its pupils must stay clean)",
        Accounted(rules={"schools": ("type",)}, check=_check_children_kept),
        mutate=m.set_cells("schools.csv", "pupils_on_roll", {1: "8x7"}),
    ),
    Case(
        "school_bad_phase",
        7,
        "NLT06's phase is 'secondry' (its pupils must stay clean)",
        Accounted(rules={"schools": ("allowed_values",)}, check=_check_children_kept),
        mutate=m.set_cells("schools.csv", "phase", {1: "secondry"}),
    ),
    Case(
        "utf16_file",
        7,
        "pupils.csv saved as UTF-16 with a byte-order mark",
        Accounted(),
        mutate=m.reencode("pupils.csv", "utf-16"),
    ),
    Case(
        "utf8_bom_file",
        7,
        "attendance.csv saved as UTF-8 with a byte-order mark",
        Accounted(),
        mutate=m.reencode("attendance.csv", "utf-8-sig"),
    ),
    Case(
        "binary_renamed_csv",
        7,
        "attendance.csv is a PNG",
        Exit2(("binary",)),
        mutate=m.write_bytes("attendance.csv", BINARY),
    ),
    Case(
        "xlsx_renamed_csv",
        7,
        "attendance.csv is a workbook (zip) renamed",
        Exit2(("binary|workbook|excel|zip",)),
        mutate=m.write_bytes("attendance.csv", _xlsx_bytes()),
    ),
    Case(
        "one_cp1252_byte",
        7,
        "one Windows-1252 byte on one line of a UTF-8 file with accents elsewhere",
        Accounted(rules={"assessments": ("mixed_encoding",)}, check=_check_utf8_kept),
        mutate=_with_sidecar(_one_cp1252_byte),
    ),
    Case(
        "null_word_pupil_ids",
        7,
        "pupil ids NA, N/A, null, None, NaN and '-'",
        Accounted(rules={"pupils": ("invalid_id",)}),
        mutate=_nul_ids,
    ),
    Case(
        "blank_and_null_child_ids",
        7,
        "attendance rows with pupil id blank, 'NULL' and 'none'",
        Accounted(rules={"attendance": ("invalid_id",)}),
        mutate=m.set_cells("attendance.csv", "pupil_id", {2: "", 4: "NULL", 6: "none"}),
    ),
    Case(
        "mixed_date_orders",
        7,
        "week dates day first with some month-first rows, period derived from the date",
        (
            Exit2(("date",)),
            Accounted(rules={"attendance": ("bad_date",)}, check=_check_no_row_moved),
        ),
        mutate=_with_sidecar(_mixed_dates),
    ),
    Case(
        "mapping_calendar_empty",
        8,
        "a mapping derives period from a date with an empty calendar:",
        Exit2(("calendar",)),
        mutate=m.append(
            "mappings:\n  attendance:\n    derive:\n      period:\n        from: period\n"
            "        calendar:\n"
        ),
    ),
    Case(
        "bad_date_derived_period",
        7,
        "one unreadable week date ('31/02/2026') in a file whose period is derived from it",
        Accounted(rules={"attendance": ("bad_date",)}),
        mutate=_with_sidecar(_one_bad_date),
    ),
    Case(
        "empty_file",
        7,
        "pupils.csv is empty (0 bytes)",
        Exit2(("empty",)),
        mutate=m.write_bytes("pupils.csv", b""),
    ),
    Case(
        "whitespace_file",
        7,
        "attendance.csv holds only blank lines",
        Exit2(("empty",)),
        mutate=m.write_bytes("attendance.csv", b"\n \r\n\t\n"),
    ),
    Case(
        "wrong_separator_option",
        7,
        "mappings.pupils.sep is ';' but the file is comma-separated",
        Exit2(("pupil_id|column|separator",)),
        mutate=m.append('mappings:\n  pupils:\n    sep: ";"\n'),
    ),
    Case(
        "missing_data_file",
        7,
        "data.attendance names a file that does not exist",
        Exit2(("nowhere\\.csv",)),
        mutate=m.replace("attendance: attendance.csv", "attendance: nowhere.csv"),
    ),
    Case(
        "data_file_is_folder",
        7,
        "data.attendance names a folder",
        Exit2(("folder|directory",)),
        mutate=m.chain(
            lambda t: (t / "att").mkdir(),
            m.replace("attendance: attendance.csv", "attendance: att"),
        ),
    ),
    # ------------------------------------------------------------------ fault 8: tracebacks
    Case(
        "alias_bomb_lenses",
        8,
        "lenses: a nine-level YAML alias bomb (run in a child with a memory cap)",
        Exit2(("alias",)),
        mutate=_alias_bomb("lenses"),
        subprocess=True,
    ),
    Case(
        "alias_bomb_name",
        8,
        "name: a nine-level YAML alias bomb (run in a child with a memory cap)",
        Exit2(("alias",)),
        mutate=_alias_bomb("name"),
        subprocess=True,
    ),
    Case(
        "config_cp1252",
        8,
        "trust.yml saved as Windows-1252 (an accented trust name)",
        Exit2(("utf-8|encoding",)),
        mutate=lambda t: (t / "trust.yml").write_bytes(
            (t / "trust.yml")
            .read_text(encoding="utf-8")
            .replace("Northfield Learning Trust", "Northfield Église Trust")
            .encode("cp1252")
        ),
    ),
    Case(
        "config_is_folder",
        8,
        "--config points at the trust folder",
        Exit2(("folder|directory",)),
        argv=("validate", "--config", "{trust}"),
    ),
    Case(
        "config_missing",
        8,
        "--config names no file",
        Exit2(("not found|does not exist",)),
        argv=("validate", "--config", "{trust}/nope.yml"),
    ),
    Case(
        "config_binary",
        8,
        "trust.yml is binary",
        Exit2(("binary|utf-8|yaml",)),
        mutate=m.write_bytes("trust.yml", BINARY),
    ),
    Case(
        "config_empty",
        8,
        "trust.yml is empty",
        Exit2(("empty|mapping",)),
        mutate=m.write_bytes("trust.yml", b""),
    ),
    Case(
        "config_bad_yaml",
        8,
        "trust.yml with an unclosed bracket",
        Exit2(("yaml",)),
        mutate=m.replace("schools: [NLT01, NLT06]", "schools: [NLT01, NLT06"),
    ),
    Case(
        "config_python_tag",
        8,
        "a YAML tag that would run a command (!!python/object/apply:os.system)",
        Exit2(("yaml|tag",)),
        mutate=m.replace(
            "name: Northfield Learning Trust (synthetic sample)",
            "name: !!python/object/apply:os.system ['touch ../sentinel/pwned']",
        ),
    ),
    Case(
        "focus_column_unknown",
        8,
        "focus_group.column names no pupil column",
        Exit2(("pupil_premium_flag",)),
        mutate=m.replace("  column: disadvantaged", "  column: pupil_premium_flag"),
    ),
    Case(
        "focus_value_unknown",
        8,
        "focus_group.value is not a value of its column",
        Exit2(("focus", "senn")),
        mutate=m.chain(
            m.replace("  column: disadvantaged", "  column: sen"),
            m.replace("  value: true", "  value: senn"),
        ),
    ),
    Case(
        "focus_value_wrong_kind",
        8,
        "focus_group.value 'maybe' for the yes/no column disadvantaged",
        Exit2(("focus", "maybe")),
        mutate=m.replace("  value: true", "  value: maybe"),
    ),
    Case(
        "lens_unknown",
        8,
        "lenses lists shoe_size, not a pupil column",
        Exit2(("shoe_size",)),
        mutate=m.replace("lenses: [disadvantaged,", "lenses: [shoe_size, disadvantaged,"),
    ),
    Case(
        "decision_rule_typo",
        8,
        "decision_rule: {smal_effect: 0.1}",
        Exit2(("smal_effect",)),
        mutate=m.append("decision_rule:\n  smal_effect: 0.1\n"),
    ),
    Case(
        "decision_rule_bad_value",
        8,
        "decision_rule: {small_effect: big}",
        Exit2(("small_effect",)),
        mutate=m.append("decision_rule:\n  small_effect: big\n"),
    ),
    Case(
        "benchmarks_typo",
        8,
        "benchmarks: {performance_table: dfe}",
        Exit2(("performance_table",)),
        mutate=m.append("benchmarks:\n  performance_table: dfe\n"),
    ),
    Case(
        "benchmarks_missing_path",
        8,
        "benchmarks.performance_tables names no file",
        Exit2(("performance_tables|not found|does not exist",)),
        mutate=m.append("benchmarks:\n  performance_tables: no_such_folder\n"),
    ),
    Case(
        "mappings_table_typo",
        8,
        "mappings: {pupil: ...}",
        Exit2(("pupil",)),
        mutate=m.append("mappings:\n  pupil:\n    columns: {UPN: pupil_id}\n"),
    ),
    Case(
        "mappings_step_typo",
        8,
        "mappings.pupils.colums (a misspelt step)",
        Exit2(("colums",)),
        mutate=m.append("mappings:\n  pupils:\n    colums: {UPN: pupil_id}\n"),
    ),
    Case(
        "top_key_typo",
        8,
        "lense: instead of lenses:",
        Exit2(("lense",)),
        mutate=m.replace("lenses: [", "lense: ["),
    ),
    Case(
        "calendar_label_twice",
        8,
        "calendar.periods lists a label twice",
        Exit2(("period|calendar",)),
        mutate=m.calendar_periods([*HALF_TERM_STARTS, "2025/26 HT6"]),
    ),
    Case(
        "period_not_in_calendar",
        8,
        "--period 2031/32 HT1",
        Exit2(("2031/32 HT1",)),
        argv=(*VALIDATE, "--period", "2031/32 HT1"),
    ),
    Case(
        "periods_per_year_text",
        8,
        "calendar.periods_per_year: six",
        Exit2(("periods_per_year",)),
        mutate=m.replace("periods_per_year: 6", "periods_per_year: six"),
    ),
    Case(
        "plan_typed_baseline",
        8,
        "plan.yml types a baseline instead of a baseline_period",
        Exit2(("baseline",)),
        mutate=m.replace(
            '    baseline_period: "2023/24 HT6"', "    baseline: 12.5", name="plan.yml"
        ),
    ),
    Case(
        "plan_missing",
        8,
        "data.plan names a file that does not exist",
        Exit2(("plan",)),
        mutate=m.replace("plan: plan.yml", "plan: no_plan.yml"),
    ),
    Case(
        "run_jobs_zero",
        8,
        "cilib run --jobs 0",
        Exit2(("jobs",)),
        argv=("run", "--config", "{config}", "--period", "2025/26 HT6", "--jobs", "0"),
    ),
    Case(
        "validate_no_config",
        8,
        "cilib validate without --config",
        Exit2(("config",)),
        argv=("validate",),
    ),
    # ------------------------------------------------------------------ fault 9: the store
    Case(
        "store_table_missing",
        9,
        "a written store loses attendance.parquet (as a kill mid-write would leave it)",
        Exit2(("attendance|incomplete|missing",)),
        before_run=(VALIDATE,),
        after_setup=_drop_parquet,
        call=_open_store,
    ),
    Case(
        "store_table_truncated",
        9,
        "a written store's attendance.parquet is cut short",
        Exit2(("attendance|hash|changed|corrupt",)),
        before_run=(VALIDATE,),
        after_setup=_truncate_parquet,
        call=_open_store,
    ),
]

#: Case names are unique (they are the pytest ids).
assert len({c.name for c in CASES}) == len(CASES)
