"""Check a mapping's keys and kinds of value before any file is read.

A mapping (see :mod:`cilib.data.mapping`) sits in the trust config under ``mappings: <table>:``
or in a separate mapping file. :func:`check_mapping_spec` checks it whole, down to the options
of each step, so a misspelt key stops the run with a message naming it (e.g.
``mappings.pupils.derive.school_id.tempalte``) instead of being ignored or failing later.
"""

from __future__ import annotations

from typing import Any

from cilib.core.errors import ConfigError

#: Options of :func:`cilib.data.readers.read_file` a mapping may give (beside the steps or
#: under ``read:``).
READ_KEYS = ("sheet", "header_row", "encoding", "sep", "expected")
#: Keys of a mapping: its steps, in the order they run, with notes and the read options.
STEPS = (
    "file",
    "read",
    "join",
    "melt",
    "columns",
    "constants",
    "values",
    "booleans",
    "dates",
    "derive",
    "numbers",
    "required",
    "keep",
    "notes",
    # read options given beside the steps (cilib.data.load passes them to read_file)
    *READ_KEYS,
    # how numbers are written: "." or "," as the decimal mark (cilib.data.load reads numbers)
    "decimal",
)
MELT_KEYS = ("columns", "variable", "value")
#: ``on`` is the older spelling of ``keys``; YAML 1.1 reads a bare ``on:`` as True.
JOIN_KEYS = ("file", "keys", "on", True, "columns", "read")
DATE_KEYS = ("dayfirst",)
NUMBER_KEYS = ("min", "max")
#: Keys of one ``derive`` entry: its operation and ``from`` (the column it reads).
DERIVE_KEYS = (
    "template",
    "any_of",
    "all_of",
    "map",
    "scale",
    "rescale",
    "coalesce",
    "calendar",
    "from",
)


def _keys(section: dict, allowed: tuple, where: str, source: str) -> None:
    unknown = [k for k in section if k not in allowed]
    if unknown:
        names = ", ".join("on" if k is True else str(k) for k in allowed if k is not True)
        raise ConfigError(
            f"{source}: unknown key '{where}.{unknown[0]}'. Allowed keys here: {names}."
        )


def _kind(value: Any, kind: type | tuple, what: str, where: str, source: str) -> None:
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"{source}: {where} must be {what}, not {value!r}.")


def _dict(value: Any, where: str, source: str) -> dict:
    if value is None:
        return {}
    _kind(value, dict, "a mapping of keys to values", where, source)
    return value


def _names(value: Any, where: str, source: str) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: {where} must be a list of column names, not {value!r}.")


def _number(value: Any, where: str, source: str) -> None:
    if value is not None:
        _kind(value, (int, float), "a number", where, source)


def _read(section: dict, where: str, source: str) -> None:
    if "header_row" in section and section["header_row"] is not None:
        _kind(
            section["header_row"],
            int,
            "a row number (0 is the first row)",
            f"{where}.header_row",
            source,
        )
    for key in ("encoding", "sep"):
        if key in section and section[key] is not None:
            _kind(section[key], str, "text", f"{where}.{key}", source)
    if "expected" in section:
        _names(section["expected"], f"{where}.expected", source)


def check_mapping_spec(spec: Any, where: str, source: str) -> dict:
    """Check one table's mapping whole: its steps, and the options inside each step.

    Parameters
    ----------
    spec
        The mapping (a dict of steps), as read from YAML.
    where
        Its place, for messages, e.g. ``"mappings.pupils"``.
    source
        The file it came from, for messages (e.g. ``"trust.yml"``).

    Returns
    -------
    dict
        ``spec`` (an empty dict for None).

    Raises
    ------
    ConfigError
        An unknown key anywhere in the mapping (named in full, e.g.
        ``mappings.pupils.numbers.score.maximum``), or a value of the wrong kind.

    Examples
    --------
    >>> check_mapping_spec({"numbers": {"score": {"min": 0, "max": 100}}}, "mappings.x", "t.yml")
    {'numbers': {'score': {'min': 0, 'max': 100}}}
    """
    spec = _dict(spec, where, source)
    _keys(spec, STEPS, where, source)
    _read(spec, where, source)
    _read(
        _keys_checked(spec.get("read"), READ_KEYS, f"{where}.read", source), f"{where}.read", source
    )
    if "file" in spec and spec["file"] is not None:
        files = spec["file"] if isinstance(spec["file"], list) else [spec["file"]]
        if not all(isinstance(f, str) for f in files):
            raise ConfigError(f"{source}: {where}.file must name a file (or a list of files).")
    if spec.get("decimal") is not None and spec["decimal"] not in (".", ","):
        raise ConfigError(f"{source}: {where}.decimal must be '.' or ',', not {spec['decimal']!r}.")
    melt = _keys_checked(spec.get("melt"), MELT_KEYS, f"{where}.melt", source)
    _names(melt.get("columns"), f"{where}.melt.columns", source)
    joins = spec.get("join") or []
    if not isinstance(joins, list):
        raise ConfigError(f"{source}: {where}.join must be a list of {{file, keys}} entries.")
    for i, j in enumerate(joins):
        j = _keys_checked(j, JOIN_KEYS, f"{where}.join[{i}]", source)
        if not isinstance(j.get("file"), str):
            raise ConfigError(f"{source}: {where}.join[{i}].file must name the file to join.")
        _keys_checked(j.get("read"), READ_KEYS, f"{where}.join[{i}].read", source)
    for step in ("columns", "constants"):
        _dict(spec.get(step), f"{where}.{step}", source)
    for col, codes in _dict(spec.get("values"), f"{where}.values", source).items():
        _dict(codes, f"{where}.values.{col}", source)
    for step in ("booleans", "required", "keep"):
        _names(spec.get(step), f"{where}.{step}", source)
    for col, opts in _dict(spec.get("dates"), f"{where}.dates", source).items():
        opts = _keys_checked(opts, DATE_KEYS, f"{where}.dates.{col}", source)
        if "dayfirst" in opts:
            _kind(opts["dayfirst"], bool, "true or false", f"{where}.dates.{col}.dayfirst", source)
    for col, rng in _dict(spec.get("numbers"), f"{where}.numbers", source).items():
        rng = _keys_checked(rng, NUMBER_KEYS, f"{where}.numbers.{col}", source)
        for key in NUMBER_KEYS:
            _number(rng.get(key), f"{where}.numbers.{col}.{key}", source)
    for col, op in _dict(spec.get("derive"), f"{where}.derive", source).items():
        op = _keys_checked(op, DERIVE_KEYS, f"{where}.derive.{col}", source)
        if not any(k in op for k in DERIVE_KEYS if k != "from"):
            raise ConfigError(
                f"{source}: {where}.derive.{col} needs one of "
                f"{', '.join(k for k in DERIVE_KEYS if k != 'from')}."
            )
    return spec


def _keys_checked(value: Any, allowed: tuple, where: str, source: str) -> dict:
    section = _dict(value, where, source)
    _keys(section, allowed, where, source)
    return section
