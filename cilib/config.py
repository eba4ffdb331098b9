"""Load and check the trust config (one YAML file per trust) and its period calendar.

The config names the trust, its schools, where its data lives, the calendar of periods, the
lenses to disaggregate by, the focus group, the suppression threshold and any column mappings
from a management-information-system export. Every key is checked on load, and a message names
the key at fault.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cilib.errors import ConfigError
from cilib.paths import check_unique, within
from cilib.schema import TABLES

#: Keys allowed at the top level of a trust config.
TOP_KEYS = {
    "name",
    "trust_id",
    "data",
    "calendar",
    "schools",
    "lenses",
    "focus_group",
    "suppression_threshold",
    "pseudonymisation",
    "mappings",
    "reports",
    "benchmarks",
    "decision_rule",
}
DATA_KEYS = {"directory", "plan", "roadmap", "store", "allow_outside", *TABLES}
CALENDAR_KEYS = {"academic_years", "periods_per_year", "period_prefix", "periods"}
FOCUS_KEYS = {"column", "value", "label", "comparison_label"}
PSEUDO_KEYS = {"key_env", "key_file", "sample_key"}
REPORT_KEYS = {"output", "notebooks", "jobs"}
#: Tables a trust must supply; the others are optional.
REQUIRED_TABLES = ("schools", "pupils")
#: Label of the default pseudonymisation key: only for the synthetic sample.
SAMPLE_KEY = "cilib-synthetic-sample-key-NOT-FOR-REAL-DATA"


@dataclass(frozen=True)
class FocusGroup:
    """The pupil group read through the lens of disadvantage, against all others by default."""

    column: str = "disadvantaged"
    value: Any = True
    label: str = "Disadvantaged pupils"
    comparison_label: str = "Other pupils"


@dataclass(frozen=True)
class TrustConfig:
    """A checked trust config. Paths are absolute."""

    path: Path
    name: str
    trust_id: str
    data_dir: Path
    tables: dict[str, Path]
    periods: list[str]
    schools: list[str] | None = None
    lenses: list[str] = field(default_factory=lambda: ["disadvantaged", "sen", "eal", "gender"])
    focus: FocusGroup = field(default_factory=FocusGroup)
    suppression_threshold: int = 5
    key_env: str = "CILIB_PSEUDONYM_KEY"
    key_file: Path | None = None
    sample_key: bool = False
    mappings: dict[str, dict] = field(default_factory=dict)
    plan: Path | None = None
    roadmap: Path | None = None
    report_output: Path = Path("reports")
    notebooks: list[str] | None = None
    jobs: int = 2
    benchmarks: dict = field(default_factory=dict)
    decision_rule: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict, repr=False)

    def period_index(self, label: str) -> int:
        """Return the position of ``label`` in the calendar, or raise a ConfigError."""
        try:
            return self.periods.index(label)
        except ValueError:
            raise ConfigError(
                f"Period {label!r} is not in the calendar of {self.path.name}. "
                f"Use one of {self.periods[0]!r} … {self.periods[-1]!r}."
            ) from None

    def periods_up_to(self, label: str) -> list[str]:
        """Return the calendar's periods from the first up to and including ``label``."""
        return self.periods[: self.period_index(label) + 1]

    def pseudonym_key(self) -> bytes:
        """Return the key for pseudonymising pupil ids.

        The key comes from the environment variable ``key_env`` or the file ``key_file`` (kept
        outside the repository). Only a config marked ``sample_key: true`` falls back to the
        labelled default key, which is public and therefore only fit for synthetic data.
        """
        value = os.environ.get(self.key_env)
        if value:
            return value.encode()
        if self.key_file is not None:
            if not self.key_file.exists():
                raise ConfigError(
                    f"pseudonymisation.key_file {self.key_file} does not exist. Create it with a "
                    "long random secret, outside the repository."
                )
            return self.key_file.read_bytes().strip()
        if self.sample_key:
            return SAMPLE_KEY.encode()
        raise ConfigError(
            f"No pseudonymisation key: set the environment variable {self.key_env} or "
            "pseudonymisation.key_file in the config (a file outside the repository)."
        )


def half_term_labels(years: list[str], per_year: int = 6, prefix: str = "HT") -> list[str]:
    """Return ordered period labels such as ``2024/25 HT1`` for each academic year.

    Examples
    --------
    >>> half_term_labels(["2024/25"], 2)
    ['2024/25 HT1', '2024/25 HT2']
    """
    return [f"{y} {prefix}{i}" for y in years for i in range(1, per_year + 1)]


def academic_year_of(period: str) -> str:
    """Return the academic year part of a period label (text before the first space).

    Examples
    --------
    >>> academic_year_of("2024/25 HT3")
    '2024/25'
    """
    return str(period).split(" ", 1)[0]


def _check_keys(section: dict, allowed: set[str], where: str, path: Path) -> None:
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise ConfigError(
            f"{path.name}: unknown key '{where}{unknown[0]}'. "
            f"Allowed keys here: {', '.join(sorted(allowed))}."
        )


def _mapping(value: Any, where: str, path: Path) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path.name}: {where} must be a mapping of keys to values.")
    return value


def _benchmarks(value: Any, path: Path) -> dict:
    """Check the ``benchmarks`` section; its ``performance_tables`` path is made absolute."""
    from cilib.benchmark import check_benchmarks

    section = check_benchmarks(value, path.name)
    if section:
        pt = Path(os.path.expanduser(section["performance_tables"]))
        pt = pt if pt.is_absolute() else (path.parent / pt).resolve()
        section["performance_tables"] = str(pt)
    return section


def load_config(path: str | Path) -> TrustConfig:
    """Read and check a trust config.

    Parameters
    ----------
    path
        The YAML file. Relative data paths are resolved against its folder.

    Returns
    -------
    TrustConfig

    Raises
    ------
    ConfigError
        If the file is missing, is not valid YAML, has an unknown key, or a value of the wrong kind.
    """
    path = Path(path).resolve()
    if not path.exists():
        raise ConfigError(f"Config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"{path.name} is not valid YAML{where}: {getattr(exc, 'problem', exc)}"
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path.name} must be a YAML mapping with keys such as name, data, calendar."
        )
    _check_keys(raw, TOP_KEYS, "", path)
    for key in ("name", "data"):
        if key not in raw:
            raise ConfigError(f"{path.name}: the key {key!r} is required.")

    data = _mapping(raw["data"], "data", path)
    _check_keys(data, DATA_KEYS, "data.", path)
    data_dir = (path.parent / str(data.get("directory", "."))).resolve()
    tables = {t: (data_dir / str(data[t])).resolve() for t in TABLES if data.get(t)}
    for t in REQUIRED_TABLES:
        if t not in tables:
            raise ConfigError(f"{path.name}: data.{t} is required (the file with the {t} table).")

    cal = _mapping(raw.get("calendar"), "calendar", path)
    _check_keys(cal, CALENDAR_KEYS, "calendar.", path)
    if cal.get("periods"):
        periods = [str(p) for p in cal["periods"]]
    else:
        years = cal.get("academic_years")
        if not years or not isinstance(years, list):
            raise ConfigError(
                f"{path.name}: calendar.academic_years must list the academic years, "
                "e.g. ['2024/25'], "
                "or calendar.periods must list the period labels in order."
            )
        per_year = cal.get("periods_per_year", 6)
        if not isinstance(per_year, int) or per_year < 1:
            raise ConfigError(
                f"{path.name}: calendar.periods_per_year must be a positive whole number."
            )
        periods = half_term_labels(
            [str(y) for y in years], per_year, str(cal.get("period_prefix", "HT"))
        )
    if len(set(periods)) != len(periods):
        raise ConfigError(f"{path.name}: calendar has a period label twice.")
    check_unique(periods, "period label", slash="-", error=ConfigError)

    focus_raw = _mapping(raw.get("focus_group"), "focus_group", path)
    _check_keys(focus_raw, FOCUS_KEYS, "focus_group.", path)
    focus = FocusGroup(**focus_raw)

    threshold = raw.get("suppression_threshold", 5)
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
        raise ConfigError(
            f"{path.name}: suppression_threshold must be a whole number of pupils (e.g. 5)."
        )

    pseudo = _mapping(raw.get("pseudonymisation"), "pseudonymisation", path)
    _check_keys(pseudo, PSEUDO_KEYS, "pseudonymisation.", path)
    key_file = pseudo.get("key_file")
    if key_file:
        key_file = Path(os.path.expanduser(str(key_file)))
        if not key_file.is_absolute():
            key_file = (path.parent / key_file).resolve()

    reports = _mapping(raw.get("reports"), "reports", path)
    _check_keys(reports, REPORT_KEYS, "reports.", path)
    jobs = reports.get("jobs", 2)
    if not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"{path.name}: reports.jobs must be a positive whole number.")

    schools = raw.get("schools")
    if schools is not None:
        if not isinstance(schools, list) or not schools:
            raise ConfigError(
                f"{path.name}: schools must be a list of school ids, e.g. [NLT01, NLT02]."
            )
        schools = [str(s) for s in schools]

    lenses = raw.get("lenses", ["disadvantaged", "sen", "eal", "gender"])
    if not isinstance(lenses, list):
        raise ConfigError(
            f"{path.name}: lenses must be a list of pupil characteristics, e.g. [sen, eal]."
        )

    mappings = _mapping(raw.get("mappings"), "mappings", path)
    for table in mappings:
        if table not in TABLES:
            raise ConfigError(
                f"{path.name}: mappings.{table} is not a table. Tables: {', '.join(TABLES)}."
            )

    def _opt(key: str) -> Path | None:
        return (data_dir / str(data[key])).resolve() if data.get(key) else None

    outside = data.get("allow_outside") is True  # data paths stay in the trust folder unless set
    for key, p in {"directory": data_dir, **tables, "plan": _opt("plan"),
                   "roadmap": _opt("roadmap")}.items():
        within(path.parent, p or path.parent, f"data.{key}", allow=outside, error=ConfigError)

    return TrustConfig(
        path=path,
        name=str(raw["name"]),
        trust_id=str(raw.get("trust_id", raw["name"])),
        data_dir=data_dir,
        tables=tables,
        periods=periods,
        schools=schools,
        lenses=[str(x) for x in lenses],
        focus=focus,
        suppression_threshold=threshold,
        key_env=str(pseudo.get("key_env", "CILIB_PSEUDONYM_KEY")),
        key_file=key_file,
        sample_key=bool(pseudo.get("sample_key", False)),
        mappings=mappings,
        plan=_opt("plan"),
        roadmap=_opt("roadmap"),
        report_output=Path(str(reports.get("output", "reports"))),
        notebooks=[str(n) for n in reports["notebooks"]] if reports.get("notebooks") else None,
        jobs=jobs,
        benchmarks=_benchmarks(raw.get("benchmarks"), path),
        decision_rule=_mapping(raw.get("decision_rule"), "decision_rule", path),
        raw=raw,
    )
