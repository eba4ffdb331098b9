"""Load and check the trust config (one YAML file per trust) and its period calendar.

The config names the trust, its schools, where its data lives, the calendar of periods, the
lenses to disaggregate by, the focus group, the suppression threshold and any column mappings
from a management-information-system export. Every key is checked on load, and a message names
the key at fault.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cilib.core import safe_yaml
from cilib.core.calendar import half_term_labels
from cilib.core.errors import ConfigError
from cilib.core.paths import check_unique, within
from cilib.core.schema import TABLES
from cilib.cycle.decision import DEFAULT_RULE
from cilib.data.mapping_spec import check_mapping_spec
from cilib.data.sample_identity import TRUST_ID, is_sample_school

log = logging.getLogger(__name__)

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
    "suppression_override",
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
#: The smallest suppression threshold allowed without ``suppression_override`` (DfE practice:
#: do not publish counts of fewer than five pupils).
MIN_SUPPRESSION = 5


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
    suppression_override: str | None = None
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
        labelled default key, which is public and therefore only fit for synthetic data:
        :func:`check_sample_key` (run by every prepare) warns about it, and refuses it for any
        data but the synthetic sample's.

        Raises
        ------
        ConfigError
            No key, a missing key file, or a key that is empty or only whitespace.
        """
        value = os.environ.get(self.key_env)
        if value is not None:
            if not value.strip():
                raise ConfigError(
                    f"The environment variable {self.key_env} is set but empty: set it to a long "
                    "random secret (or unset it and use pseudonymisation.key_file)."
                )
            return value.encode()
        if self.key_file is not None:
            if not self.key_file.exists():
                raise ConfigError(
                    f"pseudonymisation.key_file {self.key_file} does not exist. Create it with a "
                    "long random secret, outside the repository."
                )
            if self.key_file.is_dir():
                raise ConfigError(
                    f"pseudonymisation.key_file {self.key_file} is a folder; name the key file."
                )
            key = self.key_file.read_bytes().strip()
            if not key:
                raise ConfigError(
                    f"pseudonymisation.key_file {self.key_file} is empty: put a long random "
                    "secret in it."
                )
            return key
        if self.sample_key:
            return SAMPLE_KEY.encode()
        raise ConfigError(
            f"No pseudonymisation key: set the environment variable {self.key_env} or "
            "pseudonymisation.key_file in the config (a file outside the repository)."
        )

    def uses_sample_key(self) -> bool:
        """Return True if :meth:`pseudonym_key` would fall back to the public sample key."""
        return self.sample_key and os.environ.get(self.key_env) is None and self.key_file is None


def is_sample_data(schools: pd.DataFrame) -> bool:
    """Return True if ``schools`` is the synthetic sample's schools table.

    The test is on the schools table because every trust has one and a real trust's cannot
    match by accident: every row's ``school_id``, ``school_name`` and ``trust_id`` must be one
    of the schools in :mod:`cilib.data.sample_identity` (trust ``NLT``, "Northfield Primary
    Academy", …), and at least one row must be there. File hashes would be more exact but break
    whenever the generator runs with another seed or pandas version; the school names are fixed
    in code and are fictional, so they identify the generator's output whatever the seed.

    This guards against the accident the key is exposed to (a real trust's config started from
    the sample's, still saying ``sample_key: true``), not against someone who copies the sample's
    schools table beside real pupils on purpose.
    """
    need = {"school_id", "school_name", "trust_id"}
    if not len(schools) or not need <= set(schools.columns):
        return False
    rows = zip(
        schools["school_id"].astype(str),
        schools["school_name"].astype(str),
        schools["trust_id"].astype(str),
        strict=True,
    )
    return all(t == TRUST_ID and is_sample_school(sid, name) for sid, name, t in rows)


def check_sample_key(config: TrustConfig, schools: pd.DataFrame) -> None:
    """Warn when the public sample key is in use; refuse it unless the data is the sample.

    The warning goes to the ``cilib.data.config`` logger (printed on stderr when logging is not
    configured), once per prepare, i.e. on every ``cilib validate`` and ``cilib run``.

    Raises
    ------
    ConfigError
        The config relies on ``sample_key: true`` (no key in the environment or a key file) and
        its schools table is not the synthetic sample's (see :func:`is_sample_data`).
    """
    if not config.uses_sample_key():
        return
    if not is_sample_data(schools):
        raise ConfigError(
            f"{config.path.name}: pseudonymisation.sample_key is only for the synthetic sample, "
            "and these schools are not the sample's. Set the environment variable "
            f"{config.key_env} or pseudonymisation.key_file (a long random secret kept outside "
            "the repository) and remove sample_key."
        )
    log.warning(
        "%s uses the public sample pseudonymisation key (pseudonymisation.sample_key: true): "
        "fine for the synthetic sample, never for real pupil data.",
        config.path.name,
    )


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


def check_benchmarks(section: object, config_name: str = "trust.yml") -> dict:
    """Check a config's ``benchmarks`` section and return a normalised copy.

    ``performance_tables`` (a path, text) is required once the section is given; ``urns`` is an
    optional mapping of school id to URN (digits). Paths are not resolved here.

    Raises
    ------
    ConfigError
        With a message that names the key at fault.

    Examples
    --------
    >>> check_benchmarks({"performance_tables": "dfe", "urns": {"S1": 100528}})
    {'performance_tables': 'dfe', 'urns': {'S1': '100528'}}
    """
    if section is None or section == {}:
        return {}
    if not isinstance(section, dict):
        raise ConfigError(
            f"{config_name}: benchmarks must be a mapping such as "
            "{performance_tables: <file or folder>, urns: {<school_id>: <urn>}}."
        )
    unknown = sorted(set(section) - {"performance_tables", "urns"})
    if unknown:
        raise ConfigError(
            f"{config_name}: unknown key 'benchmarks.{unknown[0]}'. "
            "Allowed keys here: performance_tables, urns."
        )
    pt = section.get("performance_tables")
    if not isinstance(pt, str) or not pt.strip():
        raise ConfigError(
            f"{config_name}: benchmarks.performance_tables must name the published KS2/KS4 "
            "performance-table file or folder (relative to the config)."
        )
    urns = section.get("urns") or {}
    if not isinstance(urns, dict):
        raise ConfigError(
            f"{config_name}: benchmarks.urns must be a mapping of school id to URN, "
            "e.g. {NLT05: 125249}."
        )
    out_urns = {}
    for sid, urn in urns.items():
        text = str(urn).strip()
        if isinstance(urn, bool) or not text.isdigit():
            raise ConfigError(
                f"{config_name}: benchmarks.urns.{sid} must be a URN (digits, e.g. 125249), "
                f"not {urn!r}."
            )
        out_urns[str(sid)] = text
    return {"performance_tables": pt, "urns": out_urns}


def _benchmarks(value: Any, path: Path) -> dict:
    """Check the ``benchmarks`` section; its ``performance_tables`` path is made absolute."""
    section = check_benchmarks(value, path.name)
    if section:
        pt = Path(os.path.expanduser(section["performance_tables"]))
        pt = pt if pt.is_absolute() else (path.parent / pt).resolve()
        section["performance_tables"] = str(pt)
    return section


def _text(section: dict, keys: tuple[str, ...] | set[str], where: str, path: Path) -> None:
    """Check that each of ``keys`` given in ``section`` is text (a name, a path or a label)."""
    for key in sorted(keys):
        value = section.get(key)
        if value is not None and not (isinstance(value, str) and value.strip()):
            raise ConfigError(f"{path.name}: {where}{key} must be text, not {value!r}.")


def _whole(value: Any, where: str, path: Path) -> int:
    """Check a whole number of at least 1 (not true or false)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{path.name}: {where} must be a positive whole number, not {value!r}.")
    return value


def _bool(value: Any, where: str, path: Path) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{path.name}: {where} must be true or false, not {value!r}.")
    return value


def _focus(section: dict, path: Path) -> FocusGroup:
    """Check the ``focus_group`` section's kinds of value.

    Its column and value are checked against the data by :func:`check_against_pupils`.
    """
    for key in ("column", "label", "comparison_label"):
        if key in section and not (isinstance(section[key], str) and section[key].strip()):
            raise ConfigError(f"{path.name}: focus_group.{key} must be non-empty text.")
    if "value" in section and not isinstance(section["value"], (str, bool, int, float)):
        raise ConfigError(
            f"{path.name}: focus_group.value must be one value of the focus column (e.g. true), "
            f"not {section['value']!r}."
        )
    return FocusGroup(**section)


def _suppression(raw: dict, path: Path) -> tuple[int, str | None]:
    """Check ``suppression_threshold`` and ``suppression_override``.

    A threshold below :data:`MIN_SUPPRESSION` (5) risks identifying pupils in small groups, so it
    needs ``suppression_override``: text saying why (e.g. who agreed it), which the reports'
    metadata records.
    """
    threshold = raw.get("suppression_threshold", MIN_SUPPRESSION)
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
        raise ConfigError(
            f"{path.name}: suppression_threshold must be a whole number of pupils (e.g. 5)."
        )
    override = raw.get("suppression_override")
    if override is not None and not (isinstance(override, str) and override.strip()):
        raise ConfigError(
            f"{path.name}: suppression_override must be text saying why a threshold below "
            f"{MIN_SUPPRESSION} is safe, and who agreed it."
        )
    if threshold < MIN_SUPPRESSION and override is None:
        raise ConfigError(
            f"{path.name}: suppression_threshold {threshold} is below {MIN_SUPPRESSION}, which "
            "risks identifying pupils in small groups. Use 5 or more, or add "
            'suppression_override: "<why this is safe, who agreed it>".'
        )
    return threshold, override.strip() if override else None


def check_decision_rule(value: Any, source: str) -> dict:
    """Check a ``decision_rule`` section against :data:`cilib.cycle.DEFAULT_RULE`.

    Every key must be one of ``DEFAULT_RULE``'s; ``stop_if_harmful`` and
    ``effect_overrides_signal`` are true or false; ``small_effect`` is a number above 0;
    ``equivalence_level`` a number strictly between 0 and 1; ``stop_after_reviews`` and
    ``periods_per_year`` whole numbers of at least 1.

    Returns
    -------
    dict
        The section as given (the default applies to the keys left out).
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: decision_rule must be a mapping of keys to values.")
    for key, v in value.items():
        if key not in DEFAULT_RULE:
            raise ConfigError(
                f"{source}: unknown key 'decision_rule.{key}'. Allowed keys here: "
                f"{', '.join(DEFAULT_RULE)}."
            )
        default = DEFAULT_RULE[key]
        where = f"{source}: decision_rule.{key}"
        if isinstance(default, bool):
            if not isinstance(v, bool):
                raise ConfigError(f"{where} must be true or false, not {v!r}.")
        elif isinstance(default, int):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"{where} must be a whole number of at least 1, not {v!r}.")
        else:
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise ConfigError(f"{where} must be a number, not {v!r}.")
            if key == "equivalence_level" and not 0 < v < 1:
                raise ConfigError(f"{where} must lie between 0 and 1 (e.g. 0.9), not {v!r}.")
            if v <= 0:
                raise ConfigError(f"{where} must be above 0, not {v!r}.")
    return dict(value)


def check_against_pupils(config: TrustConfig, pupils: pd.DataFrame) -> None:
    """Check the focus group and the lenses against the loaded pupils table.

    Run at prepare time (``cilib validate``), so a misspelt column or value stops the run with a
    message naming the key, rather than failing inside a notebook.

    Raises
    ------
    ConfigError
        ``focus_group.column`` or a lens is not a column of pupils, or ``focus_group.value``
        never occurs in the focus column.
    """
    cols = [c for c in pupils.columns if not str(c).startswith("_")]
    name = config.path.name
    for lens in config.lenses:
        if lens not in pupils.columns:
            raise ConfigError(
                f"{name}: lenses names {lens!r}, which is not a column of pupils. Columns: "
                f"{', '.join(cols)} (map another column to it in mappings.pupils)."
            )
    col, value = config.focus.column, config.focus.value
    if col not in pupils.columns:
        raise ConfigError(
            f"{name}: focus_group.column {col!r} is not a column of pupils. Columns: "
            f"{', '.join(cols)} (a further column of your export must also be listed in lenses)."
        )
    values = pupils[col].dropna()
    try:
        found = bool((values == value).any())
    except (TypeError, ValueError):
        found = False
    if len(values) and not found:
        seen = ", ".join(repr(v) for v in sorted(values.astype(str).unique())[:8])
        raise ConfigError(
            f"{name}: focus_group.value {value!r} never occurs in pupils.{col} (values there: "
            f"{seen}). Write it as it appears in the data (e.g. true, not 'yes')."
        )


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
    if path.is_dir():
        raise ConfigError(
            f"--config {path} is a folder: give the trust config file inside it, e.g. "
            f"{path / 'trust.yml'}."
        )
    raw = safe_yaml.load_file(path, "config file")
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path.name} must be a YAML mapping with keys such as name, data, calendar."
        )
    _check_keys(raw, TOP_KEYS, "", path)
    for key in ("name", "data"):
        if key not in raw:
            raise ConfigError(f"{path.name}: the key {key!r} is required.")
    _text(raw, ("name", "trust_id"), "", path)

    data = _mapping(raw["data"], "data", path)
    _check_keys(data, DATA_KEYS, "data.", path)
    _text(data, DATA_KEYS - {"allow_outside"}, "data.", path)
    if "allow_outside" in data:
        _bool(data["allow_outside"], "data.allow_outside", path)
    data_dir = (path.parent / str(data.get("directory", "."))).resolve()
    tables = {t: (data_dir / str(data[t])).resolve() for t in TABLES if data.get(t)}
    for t in REQUIRED_TABLES:
        if t not in tables:
            raise ConfigError(f"{path.name}: data.{t} is required (the file with the {t} table).")

    cal = _mapping(raw.get("calendar"), "calendar", path)
    _check_keys(cal, CALENDAR_KEYS, "calendar.", path)
    _text(cal, ("period_prefix",), "calendar.", path)
    if cal.get("periods") is not None and not isinstance(cal["periods"], list):
        raise ConfigError(
            f"{path.name}: calendar.periods must list the period labels in order, e.g. "
            "['Autumn 2024', 'Spring 2025']."
        )
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
        per_year = _whole(cal.get("periods_per_year", 6), "calendar.periods_per_year", path)
        periods = half_term_labels(
            [str(y) for y in years], per_year, str(cal.get("period_prefix", "HT"))
        )
    if len(set(periods)) != len(periods):
        raise ConfigError(f"{path.name}: calendar has a period label twice.")
    check_unique(periods, "period label", slash="-", error=ConfigError)

    focus_raw = _mapping(raw.get("focus_group"), "focus_group", path)
    _check_keys(focus_raw, FOCUS_KEYS, "focus_group.", path)
    focus = _focus(focus_raw, path)

    threshold, override = _suppression(raw, path)

    pseudo = _mapping(raw.get("pseudonymisation"), "pseudonymisation", path)
    _check_keys(pseudo, PSEUDO_KEYS, "pseudonymisation.", path)
    _text(pseudo, ("key_env", "key_file"), "pseudonymisation.", path)
    key_file = pseudo.get("key_file")
    if key_file:
        key_file = Path(os.path.expanduser(str(key_file)))
        if not key_file.is_absolute():
            key_file = (path.parent / key_file).resolve()

    reports = _mapping(raw.get("reports"), "reports", path)
    _check_keys(reports, REPORT_KEYS, "reports.", path)
    _text(reports, ("output",), "reports.", path)
    jobs = _whole(reports.get("jobs", 2), "reports.jobs", path)
    notebooks = reports.get("notebooks")
    if notebooks is not None and not (
        isinstance(notebooks, list) and all(isinstance(n, str) and n.strip() for n in notebooks)
    ):
        raise ConfigError(
            f"{path.name}: reports.notebooks must list notebook names, e.g. [01_assess_needs]."
        )

    schools = raw.get("schools")
    if schools is not None:
        if not isinstance(schools, list) or not schools:
            raise ConfigError(
                f"{path.name}: schools must be a list of school ids, e.g. [NLT01, NLT02]."
            )
        schools = [str(s) for s in schools]

    lenses = raw.get("lenses", ["disadvantaged", "sen", "eal", "gender"])
    if not isinstance(lenses, list) or not all(isinstance(x, str) and x.strip() for x in lenses):
        raise ConfigError(
            f"{path.name}: lenses must be a list of pupil characteristics, e.g. [sen, eal]."
        )
    if len(set(lenses)) != len(lenses):
        raise ConfigError(f"{path.name}: lenses names a characteristic twice.")

    mappings = _mapping(raw.get("mappings"), "mappings", path)
    for table in mappings:
        if table not in TABLES:
            raise ConfigError(
                f"{path.name}: mappings.{table} is not a table. Tables: {', '.join(TABLES)}."
            )
        mappings[table] = check_mapping_spec(mappings[table], f"mappings.{table}", path.name)

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
        suppression_override=override,
        key_env=str(pseudo.get("key_env", "CILIB_PSEUDONYM_KEY")),
        key_file=key_file,
        sample_key=_bool(pseudo.get("sample_key", False), "pseudonymisation.sample_key", path),
        mappings=mappings,
        plan=_opt("plan"),
        roadmap=_opt("roadmap"),
        report_output=Path(str(reports.get("output", "reports"))),
        notebooks=[str(n) for n in reports["notebooks"]] if reports.get("notebooks") else None,
        jobs=jobs,
        benchmarks=_benchmarks(raw.get("benchmarks"), path),
        decision_rule=check_decision_rule(raw.get("decision_rule"), path.name),
        raw=raw,
    )
