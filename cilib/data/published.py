"""Published benchmarks and example data sets, read into tidy long frames.

- :func:`performance_tables`: England's school performance tables (KS2, KS4), school, LA and
  England rows, with the department's status codes kept as reasons.
- :func:`ees_national`: the department's tidy open-data files (national figures by pupil
  characteristic).
- :func:`benchmark_gaps`: each school's disadvantaged gap beside its LA and England figures.
- :func:`nyc_school_explorer`: New York City's 2016 School Explorer, school level.
- :func:`load_example`: load a shipped mapping (``configs/examples/*.yml``) against its data.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from cilib.core.calendar import academic_year_label
from cilib.core.errors import DataError
from cilib.data.mapping import MappingResult, empty_quarantine, load_mapped, read_mapping_file
from cilib.data.readers import SOURCE_ROW, read_file

log = logging.getLogger(__name__)

#: RECTYPE meaning by key stage, from the department's meta files (meta/*_meta.csv).
RECTYPES: dict[str, dict[str, tuple[str, str]]] = {
    "KS4": {
        "1": ("school", "mainstream school"),
        "2": ("school", "special school"),
        "4": ("la", "local authority"),
        "5": ("england", "England, all schools"),
        "7": ("england", "England, state-funded schools"),
    },
    "KS2": {
        "1": ("school", "mainstream school"),
        "2": ("school", "special school"),
        "3": ("la", "local authority"),
        "4": ("england", "England, all schools"),
        "5": ("england", "England, state-funded schools"),
    },
}
#: RECTYPE of the England state-funded row, the department's usual national comparator.
ENGLAND_STATE_FUNDED = {"KS4": "7", "KS2": "5"}
#: Column-name tokens that name a pupil group, and the group they name.
GROUP_TOKENS: dict[str, str] = {
    "FSM6CLA1A": "disadvantaged",
    "NFSM6CLA1A": "other",
    "NOTFSM6CLA1A": "other",
    "B": "boys",
    "BOYS": "boys",
    "G": "girls",
    "GIRLS": "girls",
    "L": "low_prior",
    "LO": "low_prior",
    "M": "middle_prior",
    "AV": "middle_prior",
    "H": "high_prior",
    "HI": "high_prior",
    "EAL": "eal",
    "NMOB": "non_mobile",
    "MOBN": "non_mobile",
    "SEN": "sen",
    "SENSE4": "sen_ehcp",
}
#: Trailing tokens marking a figure from an earlier year, published again for comparison.
LAG_TOKENS = ("15", "16", "17", "18", "19")
#: Columns that describe the record rather than measure it.
ID_COLUMNS = {
    "RECTYPE",
    "ALPHAIND",
    "LEA",
    "ESTAB",
    "URN",
    "SCHNAME",
    "SCHNAME_AC",
    "ADDRESS1",
    "ADDRESS2",
    "ADDRESS3",
    "TOWN",
    "PCODE",
    "TELNUM",
    "CONTFLAG",
    "ICLOSE",
    "NFTYPE",
    "RELDENOM",
    "ADMPOL",
    "EGENDER",
    "FEEDER",
    "TABKS2",
    "TAB1618",
    "TAB15",
    "AGERANGE",
    "CONFEXAM",
    "URN_AC",
    "OPEN_AC",
    "PCON_CODE",
    "PCON_NAME",
}
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?%?$")
_CODE = re.compile(r"^[A-Za-z]{1,8}$")

PERF_COLUMNS = [
    "year",
    "key_stage",
    "level",
    "rectype",
    "rectype_label",
    "la",
    "urn",
    "school_name",
    "measure",
    "group",
    "value",
    "status",
    "percent",
]


def _file_year_stage(path: Path) -> tuple[str, str]:
    """Academic year and key stage from a performance-table file name."""
    name = path.name.lower()
    stage = "KS4" if "ks4" in name else "KS2" if "ks2" in name else None
    if stage is None:
        raise DataError(
            f"{path.name}: cannot tell the key stage; the name must contain ks2 or ks4."
        )
    m = re.match(r"^(\d{4})-(\d{4})", name)
    if m:
        start = int(m.group(1))
    else:
        m = re.match(r"^(\d{4})", name)
        if not m:
            raise DataError(f"{path.name}: cannot tell the year; the name must start with it.")
        start = int(m.group(1))  # KS2 files are named by the first calendar year: 2017 = 2017/18
    return academic_year_label(start), stage


def _parse_measure(column: str) -> tuple[str, str] | None:
    """Split a column name into (measure stem, group), or None for an earlier year's figure.

    Examples
    --------
    >>> _parse_measure("ATT8SCR_FSM6CLA1A"), _parse_measure("PTRWM_EXP_NotFSM6CLA1A")
    (('ATT8SCR', 'disadvantaged'), ('PTRWM_EXP', 'other'))
    >>> _parse_measure("READPROG_FSM6CLA1A_LOWER"), _parse_measure("PTRWM_EXP_17")
    (('READPROG_LOWER', 'disadvantaged'), None)
    """
    tokens = column.split("_")
    if len(tokens) > 1 and tokens[-1] in LAG_TOKENS:
        return None
    group = "all"
    keep = [tokens[0]]
    for t in tokens[1:]:
        g = GROUP_TOKENS.get(t.upper())
        if g and group == "all":
            group = g
        else:
            keep.append(t)
    return "_".join(keep), group


def _read_performance_file(path: Path) -> pd.DataFrame:
    year, stage = _file_year_stage(path)
    raw = read_file(path, sep=",")
    raw.columns = [c.upper() if c != SOURCE_ROW else c for c in raw.columns]
    dup = raw.drop(columns=SOURCE_ROW).duplicated()
    if dup.any():
        log.warning("%s: dropped %d exact duplicate row(s).", path.name, int(dup.sum()))
        raw = raw.loc[~dup]
    measures = []
    for col in raw.columns:
        if col in ID_COLUMNS or col == SOURCE_ROW or col.startswith("ADMPOL"):
            continue
        vals = set(raw[col].dropna())
        is_num = {v for v in vals if _NUMBER.match(v)}
        if is_num and all(_CODE.match(v) for v in vals - is_num):
            measures.append(col)
    rectype = raw["RECTYPE"].astype("str")
    unknown = set(rectype.dropna()) - set(RECTYPES[stage])
    if unknown:
        raise DataError(f"{path.name}: RECTYPE {sorted(unknown)} not known for {stage}.")
    ident = pd.DataFrame(
        {
            "year": year,
            "key_stage": stage,
            "level": rectype.map({k: v[0] for k, v in RECTYPES[stage].items()}),
            "rectype": rectype,
            "rectype_label": rectype.map({k: v[1] for k, v in RECTYPES[stage].items()}),
            "la": raw["LEA"],
            "urn": raw["URN"],
            "school_name": raw["SCHNAME"],
        }
    )
    # melt by hand (numpy): much faster than DataFrame.melt on hundreds of string columns
    cells = raw[measures].to_numpy(dtype=object, na_value=None)
    rows, cols = np.nonzero(pd.notna(cells))
    long = ident.iloc[rows].reset_index(drop=True)
    long["column"] = np.asarray(measures, dtype=object)[cols]
    long["raw"] = pd.array(cells[rows, cols], dtype="str")
    parsed = {c: _parse_measure(c) for c in measures}
    long = long.loc[long["column"].map({c: v is not None for c, v in parsed.items()})]
    long["measure"] = long["column"].map({c: v[0] for c, v in parsed.items() if v})
    long["group"] = long["column"].map({c: v[1] for c, v in parsed.items() if v})
    text = long["raw"].astype("str")
    is_num = text.str.match(_NUMBER)
    long["percent"] = text.str.endswith("%")
    long["value"] = pd.to_numeric(text.str.rstrip("%").where(is_num), errors="coerce").astype(
        "float64"
    )
    long["status"] = text.where(~is_num, "").astype("str")
    return long[PERF_COLUMNS]


def performance_tables(path: str | Path) -> pd.DataFrame:
    """Read England's school performance tables (KS2 or KS4) into one tidy long frame.

    Parameters
    ----------
    path
        One CSV file, or a folder: every ``*.csv`` in it and its subfolders whose name has
        ``ks2`` or ``ks4`` (meta files are skipped). Year and key stage come from the file
        name: ``2017-2018_850_ks4final.csv`` is KS4 2017/18; ``2017-850-ks2.csv`` is KS2
        2017/18 (KS2 files are named by the first calendar year).

    Returns
    -------
    pandas.DataFrame
        One row per record, measure and group: ``year``, ``key_stage``, ``level`` (``school``,
        ``la``, ``england``), ``rectype`` and ``rectype_label`` (KS4: 1 mainstream, 2 special,
        4 LA, 5 England all schools, 7 England state-funded; KS2: 1 mainstream, 2 special,
        3 LA, 4 England all schools, 5 England state-funded), ``la``, ``urn`` (missing on LA
        and England rows), ``school_name``, ``measure`` (the department's column stem, e.g.
        ``ATT8SCR``, ``P8MEA``, ``PTRWM_EXP``, ``TPUP``), ``group`` (``all``,
        ``disadvantaged``, ``other``, ``boys``, ``girls``, ``low_prior``, ``middle_prior``,
        ``high_prior``, ``eal``, ``non_mobile``), ``value`` (float; NaN where the file has a
        code), ``status`` (the code, e.g. ``SUPP``, ``NE``, ``NP``, ``NA``, ``LOWCOV``,
        ``NEW``, where the value is missing; empty string otherwise) and ``percent`` (True where
        the file wrote ``15%``; the value is then 15.0, in percentage points).

    Notes
    -----
    - Blank cells (the field does not apply to that record type, per the meta files) give no
      row. Text columns (addresses, progress descriptions) are not measures.
    - Columns that repeat an earlier year's figure (suffix ``_16``, ``_17``, ``_18``) are left
      out: that year's own file is the source. Three-year averages (``_3YR``) are kept.
    - Column sets change between years; a measure missing from a year is simply absent.
    - Exact duplicate rows are dropped with a logged warning. A school that converted to an
      academy can appear twice under two URNs (Surrey 2018/19: Chart Wood School, 146527 new
      with no results, 125457 closed predecessor with results): both rows are kept, by URN.
    - LA and England rows are the department's own totals. A pupil-weighted mean of the
      school rows does not reproduce them, because suppressed schools drop out.

    Raises
    ------
    DataError
        If the path is missing, holds no performance-table file, or a RECTYPE is unknown.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*.csv")
            if re.search(r"ks[24]", p.name.lower()) and "meta" not in p.name.lower()
        )
        if not files:
            raise DataError(f"No KS2/KS4 performance-table CSV files in {path}.")
    elif path.exists():
        files = [path]
    else:
        raise DataError(f"File not found: {path}.")
    parts = [_read_performance_file(f) for f in files]
    out = pd.concat(parts, ignore_index=True)
    return out.astype({"status": "str"})


def benchmark_gaps(perf: pd.DataFrame, urns: list[str] | None = None) -> pd.DataFrame:
    """Each school's disadvantaged gap beside its LA and England figures, by year.

    The gap is disadvantaged minus other pupils (not disadvantaged) of the same record:
    ``gap = value[disadvantaged] - value[other]``, for KS4 Attainment 8 (``ATT8SCR``, points)
    and KS2 reading, writing and maths at the expected standard (``PTRWM_EXP``, percentage
    points). England is the state-funded row (KS4 RECTYPE 7, KS2 RECTYPE 5).

    Parameters
    ----------
    perf
        Output of :func:`performance_tables`.
    urns
        Schools to report (default: every school).

    Returns
    -------
    pandas.DataFrame
        ``urn``, ``school_name``, ``la``, ``year``, ``key_stage``, ``measure``,
        ``disadvantaged``, ``other``, ``gap``, ``status`` (codes of the school's two figures
        when either is missing, e.g. ``SUPP``), ``la_gap``, ``england_gap``.

    Examples
    --------
    >>> rows = [("school", "1", "850", "100", "ATT8SCR", g, v) for g, v in
    ...         [("disadvantaged", 35.0), ("other", 48.5)]]
    >>> rows += [("la", "4", "850", None, "ATT8SCR", g, v) for g, v in
    ...          [("disadvantaged", 36.0), ("other", 50.0)]]
    >>> rows += [("england", "7", None, None, "ATT8SCR", g, v) for g, v in
    ...          [("disadvantaged", 36.7), ("other", 50.1)]]
    >>> perf = pd.DataFrame(rows, columns=["level", "rectype", "la", "urn", "measure",
    ...                                    "group", "value"]).assign(
    ...     year="2017/18", key_stage="KS4", status="", school_name="A")
    >>> benchmark_gaps(perf)[["gap", "la_gap", "england_gap"]].round(1).values.tolist()
    [[-13.5, -14.0, -13.4]]
    """
    headline = {"KS4": "ATT8SCR", "KS2": "PTRWM_EXP"}
    p = perf.loc[
        (perf["measure"] == perf["key_stage"].map(headline))
        & perf["group"].isin(["disadvantaged", "other"])
    ]
    keys = ["year", "key_stage", "measure"]

    def gaps(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
        w = frame.groupby(by + ["group"], dropna=False)["value"].first().unstack("group")
        w = w.reindex(columns=["disadvantaged", "other"])
        w["gap"] = w["disadvantaged"] - w["other"]
        return w.reset_index()

    schools = p.loc[p["level"] == "school"]
    if urns is not None:
        schools = schools.loc[schools["urn"].isin([str(u) for u in urns])]
    by = ["urn", "school_name", "la"] + keys
    s = gaps(schools, by)
    st = (
        schools.loc[schools["status"] != ""]
        .groupby(by, dropna=False)["status"]
        .agg(lambda v: ",".join(sorted(set(v))))
        .rename("status")
        .reset_index()
    )
    s = s.merge(st, on=by, how="left")
    s["status"] = s["status"].fillna("").astype("str")
    la = gaps(p.loc[p["level"] == "la"], ["la"] + keys).rename(columns={"gap": "la_gap"})
    eng_rows = p.loc[
        (p["level"] == "england") & (p["rectype"] == p["key_stage"].map(ENGLAND_STATE_FUNDED))
    ]
    eng = gaps(eng_rows, keys).rename(columns={"gap": "england_gap"})
    out = s.merge(la[["la"] + keys + ["la_gap"]], on=["la"] + keys, how="left")
    out = out.merge(eng[keys + ["england_gap"]], on=keys, how="left")
    cols = [
        "urn",
        "school_name",
        "la",
        "year",
        "key_stage",
        "measure",
        "disadvantaged",
        "other",
        "gap",
        "status",
        "la_gap",
        "england_gap",
    ]
    return out[cols].sort_values(["urn", "key_stage", "year"]).reset_index(drop=True)


def ees_national(path: str | Path) -> pd.DataFrame:
    """Read the department's tidy open-data files (national figures by pupil characteristic).

    Parameters
    ----------
    path
        A CSV in the explore-education-statistics format (``year`` as ``201617``, a
        ``characteristic`` or ``characteristic_1`` column such as ``Gender_male``), or a
        folder of them.

    Returns
    -------
    pandas.DataFrame
        ``file``, ``year`` (``2016/17``), ``school_type``, ``characteristic_type`` (``Gender``,
        ``Ethnicity``, ``FSM``...; the part before the first ``_``, or ``Total``),
        ``characteristic`` (the rest, e.g. ``male``), ``characteristic_2`` (where the file
        splits further, e.g. by gender), ``measure`` (column name), ``value`` (float; thousands
        separators removed) and ``status`` (the department's symbol where the value is
        missing: ``x`` suppressed, ``.`` not applicable, ``:`` not available; empty otherwise).

    Raises
    ------
    DataError
        If the path is missing or a file lacks ``year`` and a characteristic column.
    """
    path = Path(path)
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    parts = []
    for f in files:
        raw = read_file(f)
        if "year" not in raw.columns:
            raise DataError(
                f"{f.name}: no year column; is it an explore-education-statistics file?"
            )
        char_col = "characteristic" if "characteristic" in raw.columns else "characteristic_1"
        if char_col not in raw.columns:
            raise DataError(f"{f.name}: no characteristic or characteristic_1 column.")
        id_cols = {
            "term",
            "year",
            "level",
            "country_code",
            "country_name",
            "country",
            "school_type",
            "characteristic",
            "characteristic_desc",
            "characteristic_1",
            "characteristic_2",
            "geographic_level",
            "time_period",
            "time_identifier",
            SOURCE_ROW,
        }
        measures = [c for c in raw.columns if c not in id_cols]
        y = raw["year"].astype("str")
        char = raw[char_col].astype("str")
        split = char.str.split("_", n=1, expand=True).reindex(columns=[0, 1])
        ident = pd.DataFrame(
            {
                "file": f.name,
                "year": y.str[:4] + "/" + y.str[4:6],
                "school_type": raw["school_type"].str.strip().str.capitalize()
                if "school_type" in raw.columns
                else pd.NA,
                "characteristic_type": split[0],
                "characteristic": split[1].fillna(split[0]),
                "characteristic_2": raw["characteristic_2"]
                if "characteristic_2" in raw.columns
                else "Total",
            }
        )
        long = pd.concat([ident, raw[measures]], axis=1).melt(
            id_vars=list(ident.columns), var_name="measure", value_name="raw"
        )
        text = long["raw"].astype("str").str.replace(",", "", regex=False).str.strip()
        num = pd.to_numeric(text.where(text.str.match(r"^-?\d+(\.\d+)?$")), errors="coerce")
        long["value"] = num.astype("float64")
        long["status"] = long["raw"].where(num.isna(), "").fillna("").astype("str")
        parts.append(long.drop(columns="raw"))
    if not parts:
        raise DataError(f"No CSV files in {path}.")
    return pd.concat(parts, ignore_index=True)


#: NYC School Explorer subgroup labels and the lens values they stand for.
NYC_GROUPS = {
    "All Students": "all",
    "American Indian or Alaska Native": "american_indian_alaska_native",
    "Black or African American": "black",
    "Hispanic or Latino": "hispanic",
    "Asian or Pacific Islander": "asian_pacific_islander",
    "White": "white",
    "Multiracial": "multiracial",
    "Limited English Proficient": "ell",
    "Economically Disadvantaged": "economically_disadvantaged",
}
NYC_SCHOOL_MEASURES = {
    "Economic Need Index": "economic_need_index",
    "Percent ELL": "percent_ell",
    "Percent Asian": "percent_asian",
    "Percent Black": "percent_black",
    "Percent Hispanic": "percent_hispanic",
    "Percent Black / Hispanic": "percent_black_hispanic",
    "Percent White": "percent_white",
    "Student Attendance Rate": "attendance_rate",
    "Percent of Students Chronically Absent": "percent_chronically_absent",
    "Average ELA Proficiency": "average_ela_proficiency",
    "Average Math Proficiency": "average_math_proficiency",
    "School Income Estimate": "school_income_estimate",
}


def nyc_school_explorer(path: str | Path) -> pd.DataFrame:
    """Read NYC's 2016 School Explorer into a tidy school-level frame.

    Parameters
    ----------
    path
        ``2016_School_Explorer.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per school, measure, grade and group: ``school_id`` (Location Code, e.g.
        ``01M015``), ``school_name``, ``district``, ``measure``, ``grade`` (3-8 for test
        results, missing for school measures), ``group`` (``all`` or a subgroup:
        ``economically_disadvantaged``, ``ell``, ``black``, ``hispanic``, ...), ``value``
        (float; percentages as percentage points, ``$31,141.72`` as 31141.72) and ``status``
        (the text where the value is missing, e.g. ``N/A``, or ``blank`` for an empty cell;
        empty string otherwise).

        Test measures: ``ela_tested`` / ``math_tested`` (students tested, all students) and
        ``ela_4s`` / ``math_4s`` (students scoring level 4, by group). The file gives no
        tested count per subgroup, so a subgroup's rate cannot be formed from it, and the
        minimum-n rule (see ``configs/examples/nyc-district.yml``) applies to the all-students
        count.
    """
    raw = read_file(path)
    for col in ("Location Code", "School Name", "District"):
        if col not in raw.columns:
            raise DataError(f"{Path(path).name}: no {col!r} column; is it the School Explorer?")
    ident = pd.DataFrame(
        {
            "school_id": raw["Location Code"],
            "school_name": raw["School Name"],
            "district": raw["District"],
        }
    )
    cols, meta = [], []
    for c in raw.columns:
        if c in NYC_SCHOOL_MEASURES:
            cols.append(c)
            meta.append((NYC_SCHOOL_MEASURES[c], pd.NA, "all"))
            continue
        m = re.match(r"^Grade (\d) (ELA|Math)( 4s)? - (.+)$", c)
        if m:
            grade, subject, fours, who = m.groups()
            who = "All Students" if who.lower().startswith("all students") else who
            kind = "4s" if fours else "tested"
            cols.append(c)
            meta.append((f"{subject.lower()}_{kind}", grade, NYC_GROUPS.get(who, who)))
    wide = pd.concat([ident, raw[cols]], axis=1)
    long = wide.melt(id_vars=list(ident.columns), var_name="column", value_name="raw")
    info = pd.DataFrame(meta, index=cols, columns=["measure", "grade", "group"])
    long = long.join(info, on="column")
    text = long["raw"].astype("str").str.replace(r"[$,%\s]", "", regex=True)
    num = pd.to_numeric(text.where(text.str.match(r"^-?\d+(\.\d+)?$")), errors="coerce")
    long["value"] = num.astype("float64")
    long["status"] = long["raw"].where(num.isna(), "").fillna("blank").astype("str")
    return (
        long[
            ["school_id", "school_name", "district", "measure", "grade", "group", "value", "status"]
        ]
        .astype({"grade": "str"})
        .reset_index(drop=True)
    )


def load_example(path: str | Path, *, data_dir: str | Path) -> dict[str, MappingResult]:
    """Load a shipped example mapping (``configs/examples/*.yml``) against its data folder.

    Parameters
    ----------
    path
        The mapping YAML file.
    data_dir
        The folder holding the files the mapping names.

    Returns
    -------
    dict of MappingResult
        One per table in ``mappings:``; if the file lists ``schools:`` rows by hand, a
        ``schools`` result holds them (nothing quarantined).
    """
    doc = read_mapping_file(path)
    out = load_mapped(doc["mappings"], data_dir=data_dir)
    if isinstance(doc.get("schools"), list) and "schools" not in out:
        frame = pd.DataFrame(doc["schools"]).astype("str")
        frame.insert(0, SOURCE_ROW, pd.array(np.arange(1, len(frame) + 1), dtype="Int64"))
        out = {
            "schools": MappingResult(
                "schools", frame, empty_quarantine(), len(frame), len(frame), 0
            ),
            **out,
        }
    return out
