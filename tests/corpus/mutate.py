"""Small helpers that damage a copy of the small trust, one way each.

Every helper takes the trust folder (``<case root>/trust``) and changes files there in place.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import yaml

Rows = list[list[str]]


def read_csv(trust: Path, name: str) -> tuple[list[str], Rows]:
    """Return the header and rows of a CSV in the trust folder."""
    with open(trust / name, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def csv_text(header: list[str], rows: Rows, sep: str = ",", newline: str = "\n") -> str:
    """Return CSV text (quoting only where needed)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator=newline)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def write_csv(trust: Path, name: str, header: list[str], rows: Rows, **kw) -> None:
    """Write a CSV into the trust folder (UTF-8, ``\\n``)."""
    (trust / name).write_bytes(csv_text(header, rows, **kw).encode("utf-8"))


def edit_rows(name: str, fn: Callable[[list[str], Rows], tuple[list[str], Rows] | None]):
    """Return a mutation applying ``fn(header, rows)`` (in place, or returning new ones)."""

    def mutate(trust: Path) -> None:
        header, rows = read_csv(trust, name)
        res = fn(header, rows)
        if res is not None:
            header, rows = res
        write_csv(trust, name, header, rows)

    return mutate


def set_cells(name: str, column: str, values: dict[int, str]):
    """Return a mutation setting ``column`` of data row i (0-based) to ``values[i]``."""

    def fn(header: list[str], rows: Rows) -> None:
        j = header.index(column)
        for i, v in values.items():
            rows[i][j] = v

    return edit_rows(name, fn)


def edit_lines(name: str, fn: Callable[[list[str]], list[str]], encoding: str = "utf-8"):
    """Return a mutation applying ``fn`` to the file's lines (without their ``\\n``)."""

    def mutate(trust: Path) -> None:
        text = (trust / name).read_text(encoding=encoding)
        lines = text.split("\n")
        (trust / name).write_text("\n".join(fn(lines)), encoding=encoding)

    return mutate


def write_bytes(name: str, data: bytes):
    """Return a mutation that replaces a file's bytes."""

    def mutate(trust: Path) -> None:
        (trust / name).write_bytes(data)

    return mutate


def reencode(name: str, encoding: str):
    """Return a mutation that re-encodes a UTF-8 file (``utf-16`` writes a byte-order mark)."""

    def mutate(trust: Path) -> None:
        text = (trust / name).read_text(encoding="utf-8")
        (trust / name).write_bytes(text.encode(encoding))

    return mutate


def config_text(fn: Callable[[str], str], name: str = "trust.yml"):
    """Return a mutation applying ``fn`` to the text of the config (or another YAML file)."""

    def mutate(trust: Path) -> None:
        p = trust / name
        p.write_text(fn(p.read_text(encoding="utf-8")), encoding="utf-8")

    return mutate


def replace(old: str, new: str, name: str = "trust.yml", count: int = 1):
    """Return a mutation replacing text in a file; fails loudly if ``old`` is absent."""

    def fn(text: str) -> str:
        if old not in text:
            raise AssertionError(f"corpus set-up: {old!r} not in {name}")
        return text.replace(old, new, count)

    return config_text(fn, name)


def append(extra: str, name: str = "trust.yml"):
    """Return a mutation appending YAML text to the config."""
    return config_text(lambda t: t.rstrip("\n") + "\n" + extra.rstrip("\n") + "\n", name)


def set_key(path: str, value, name: str = "trust.yml"):
    """Return a mutation setting a dotted key of the config (comments are lost)."""

    def fn(text: str) -> str:
        raw = yaml.safe_load(text)
        node = raw
        parts = path.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        if value is _DELETE:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
        return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)

    return config_text(fn, name)


_DELETE = object()


def delete_key(path: str, name: str = "trust.yml"):
    """Return a mutation removing a dotted key of the config."""
    return set_key(path, _DELETE, name)


def calendar_periods(labels: list[str]):
    """Return a mutation giving the config an explicit period list and no plan.

    The plan names periods of the full calendar, so it is dropped: a plan error must not stand
    in for the period check under test.
    """

    def fn(text: str) -> str:
        raw = yaml.safe_load(text)
        raw["calendar"] = {"periods": list(labels)}
        raw["data"].pop("plan", None)
        return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)

    return config_text(fn)


def rename_school(old: str, new: str):
    """Return a mutation renaming a school id in every data file and in the config."""

    def mutate(trust: Path) -> None:
        for p in sorted(trust.glob("*.csv")):
            header, rows = read_csv(trust, p.name)
            if "school_id" not in header:
                continue
            j = header.index("school_id")
            for r in rows:
                if r[j] == old:
                    r[j] = new
            write_csv(trust, p.name, header, rows)
        text = (trust / "trust.yml").read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
        raw["schools"] = [new if s == old else s for s in raw["schools"]]
        (trust / "trust.yml").write_text(
            yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )

    return mutate


def chain(*fns):
    """Return a mutation applying several mutations in order."""

    def mutate(trust: Path) -> None:
        for f in fns:
            f(trust)

    return mutate


def first_rows(rows: Rows, header: list[str], where: dict[str, str], n: int) -> list[int]:
    """Return the indices of the first ``n`` rows whose columns equal ``where``."""
    idx = {c: header.index(c) for c in where}
    out = [i for i, r in enumerate(rows) if all(r[idx[c]] == v for c, v in where.items())]
    return out[:n]


def regex_sub(pattern: str, repl: str, name: str = "trust.yml"):
    """Return a mutation applying a multi-line regex substitution to a text file."""

    def fn(text: str) -> str:
        new, n = re.subn(pattern, repl, text, flags=re.MULTILINE)
        if not n:
            raise AssertionError(f"corpus set-up: /{pattern}/ not found in {name}")
        return new

    return config_text(fn, name)
