"""Loading's fast paths give exactly what the careful paths give, value for value.

The fast paths (Arrow reading a clean file straight from its bytes, plain numbers read with
Arrow's cast, each distinct id hashed once, columns left unstripped when stripping would change
nothing) are switched off here by making them decline, so
that the careful paths (line by line, pandas' string methods, a lookup of every id) run on the
same input; frames, type failures, quarantines, rows read and warnings must be identical.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import shutil
import textwrap

import numpy as np
import pandas as pd
import pytest

from cilib.data import fast_csv, load, readers
from cilib.data.config import load_config
from cilib.data.load import load_table, parse_numbers, pseudonymise
from cilib.data.readers import read_file
from tests.conftest import SAMPLE_CONFIG, TINY_CONFIG, TINY_FILES, write_config

#: Values that a number column may hold: plain numbers, thousands and decimal commas, signs,
#: zeros, long digit strings pandas reads differently in whole-number and decimal columns,
#: spelled-out floats, other digits, blanks and words.
TRICKY = [
    "12.5", "-3", "+7", "007", "0", "-0", "-0.0", "+0", "-000", "0.000001", "123456789.123456",
    "1234567890", "999999999", "12345678901234567", "9007199254740993", "99999999999999999999",
    "-9223372036854775809", "18446744073709551616", "1,234", "1,234,567", "1,234.5", "12,5",
    "3,4", "1.234,5", "1.234", "-0,000", "1.000.000", " 5 ", "5.", ".5", "-.0", "+.5", "-.5",
    "+5.", "00.5", ".0", "1.", "1e5", "1E-3", "0.00000000001", "123456789012.5", "1234567890123456",
    "inf", "-inf", "nan", "NaN", "1_000", "\u0661\u0662", "\uff11\uff12", "\u20135", "5\n", "",
    "abs", "n/a", None,
]


def _same_series(a: pd.Series, b: pd.Series) -> None:
    pd.testing.assert_series_equal(a, b, check_exact=True)
    if a.dtype == "float64":  # -0.0 == 0.0, so compare the sign bits too
        assert np.array_equal(np.signbit(a.to_numpy()), np.signbit(b.to_numpy()))


def _same_frame(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    for c in a.columns:
        _same_series(a[c], b[c])
    assert a.attrs == b.attrs


def _careful(monkeypatch) -> None:
    """Make every fast path decline, so the careful paths run."""
    monkeypatch.setattr(readers, "quote_free_body", lambda *a, **k: None)
    monkeypatch.setattr(load, "plain_numbers", lambda *a, **k: None)
    monkeypatch.setattr(load, "map_distinct", lambda *a, **k: None)
    monkeypatch.setattr(load, "stripped", lambda *a, **k: False)


def _both(monkeypatch, fn):
    """Return ``fn()`` with the fast paths, then with the careful ones."""
    fast = fn()
    with monkeypatch.context() as m:
        _careful(m)
        slow = fn()
    return fast, slow


def _numbers_both(monkeypatch, values: list, decimal):
    s = pd.Series(values, dtype="str")
    return _both(monkeypatch, lambda: parse_numbers(s, decimal))


@pytest.mark.parametrize("decimal", [None, ".", ","])
def test_tricky_numbers_read_the_same(monkeypatch, decimal):
    """Each tricky value, alone and beside whole numbers, decimals and blanks, reads the same."""
    rng = random.Random(14)
    columns = [[v] for v in TRICKY]
    columns += [[v, *ctx] for v in TRICKY for ctx in (["1"], ["2.5"], [None], ["-4", "8"])]
    short = ["12.5", "-3", "+7", "-0", "+0", "0.000001", "-.0", "+.5", "5.", "1e5", "nan", "12,5"]
    columns += [[v, w] for v in short for w in short]
    columns += [rng.sample(TRICKY, rng.randint(2, 8)) for _ in range(60)]
    for values in columns:
        (num, amb), (num_c, amb_c) = _numbers_both(monkeypatch, values, decimal)
        try:
            _same_series(num, num_c)
            _same_series(amb, amb_c)
        except AssertionError as exc:
            raise AssertionError(f"{values!r} with decimal={decimal!r}: {exc}") from exc


def test_plain_numbers_are_read_fast_and_exactly(monkeypatch):
    """Plain numbers take a fast path and equal Python's correctly rounded float(), as pandas'."""
    rng = random.Random(7)
    values = []
    for _ in range(3000):
        whole = str(rng.randint(1, 10 ** rng.randint(1, 9) - 1))
        frac = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 6)))
        values.append(rng.choice(["", "-", "+"]) + whole + ("." + frac if frac else ""))
    short = [v for v in values if len(v) <= 15]
    for column in (short, values):  # all short: one cast; some long: matched one by one
        s = pd.Series(column, dtype="str")
        fast = fast_csv.plain_numbers(s, None)
        assert fast is not None and fast[1].all()  # every value was vouched for
        want = [float(v) for v in column]
        (num, amb), (num_c, _) = _both(monkeypatch, lambda s=s: parse_numbers(s))
        assert num.tolist() == want and num_c.tolist() == want and not amb.any()


def test_columns_pandas_reads_by_context_go_the_careful_way():
    """A negative zero or a 16-digit number sends the whole column to the careful path."""
    for values in (["-0", "1"], ["1", "12345678901234567"], ["2.5", "-0,000"]):
        assert fast_csv.plain_numbers(pd.Series(values, dtype="str"), None) is None
    assert fast_csv.plain_numbers(pd.Series([1.5, 2.0]), None) is None  # not Arrow strings


_FILES = {
    "clean": "a,b,c\n1,x,2.5\n2,y,3\n",
    "padded, blank and separator-only lines": "a,b,c\n 1 , x ,\t2.5\n\n,,\n2,,3\n  ,  ,  \n",
    "CR LF and a byte-order mark": "\ufeffa;b;c\r\n1;x;2,5\r\n\r\n2;y;3\r\n",
    "lone CR": "a,b,c\r1,x,2\r2,y,3\r",
    "title rows above the header": "Export of 3 Dec\n\na,b,c\n1,x,2\n2,y,3\n",
    "quotes": 'a,b,c\n1,"x, y",2\n2,y,3\n',
    "stray quote": 'a,b,c\n1,x"y,2\n2,y,3\n',
    "short and long lines": "a,b,c\n1,x\n2,y,3,4\n3,z,5,\n",
    "non-ASCII": "a,b,c\n1,Zoë,2\n2,Ana María ,3\n",
    "no-break space": "a,b,c\n1,\u00a0x,2\n2,y,3\n",
    "curly quote, dash, ideographic comma": "a,b,c\n1,O\u2019Brien \u2013 x,2\n2,y\u3001,3\n",
    "ideographic space inside": "a,b,c\n1,x\u3000y,2\n2,y,3\n",
    "file separator control": "a,b,c\n1,\x1cx,2\n2,y,3\n",
    "tabs": "a\tb\tc\n1\tx\t2\n2\t y\t3\n",
    "header only": "a,b,c\n",
    "no final newline": "a,b,c\n1,x,2\n2,y,3",
    "trailing blank column": "a,b,c,\n1,x,2,\n2,y,3,\n",
    "duplicate identical column": "a,b,a\n1,x,1\n2,y,2\n",
}


@pytest.mark.parametrize("name", list(_FILES))
def test_files_read_the_same_fast_and_careful(tmp_path, monkeypatch, caplog, name):
    """A file read from its bytes by Arrow equals the line-by-line reading, warnings included."""
    path = tmp_path / "t.csv"
    path.write_bytes(_FILES[name].encode("utf-8"))
    logs = []
    for careful in (False, True):
        caplog.clear()
        with monkeypatch.context() as m, caplog.at_level(logging.INFO):
            if careful:
                _careful(m)
            frame = read_file(path)
        logs.append([(r.levelname, r.getMessage()) for r in caplog.records])
        if not careful:
            fast = frame
    _same_frame(fast, frame)
    assert logs[0] == logs[1]


def test_long_file_with_header_far_down_reads_the_same(tmp_path, monkeypatch):
    """The header found below many blank and title lines, in a file longer than the head read."""
    body = "".join(f"P{i},S{i % 3},{i % 7}.5\n" for i in range(5000))
    text = "Title\n" + "\n" * 300 + "note,,\n" * 60 + "pupil_id,school_id,score\n" + body
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    fast, slow = _both(monkeypatch, lambda: read_file(path, expected=["pupil_id", "score"]))
    _same_frame(fast, slow)
    assert len(fast) == 5000


def _loaded_same(monkeypatch, cfg_path, names) -> None:
    cfg = load_config(cfg_path)
    for name in names:
        fast, slow = _both(monkeypatch, lambda n=name: load_table(n, cfg))
        _same_frame(fast.frame, slow.frame)
        _same_frame(fast.type_failures, slow.type_failures)
        _same_frame(fast.mapping_quarantine, slow.mapping_quarantine)
        assert fast.rows_read == slow.rows_read


def _sample_names() -> list[str]:
    return [n for n in load_config(SAMPLE_CONFIG).tables if n not in ("plan", "roadmap")]


def test_sample_tables_load_the_same_fast_and_careful(tmp_path, monkeypatch):
    """The sample trust's tables, cut to their first 3,000 lines, load identically both ways."""
    skip = shutil.ignore_patterns("store")
    shutil.copytree(SAMPLE_CONFIG.parent, tmp_path / "trust", ignore=skip)
    for name in _sample_names():
        path = tmp_path / "trust" / f"{name}.csv"
        lines = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(b"".join(lines[:3001]))
    _loaded_same(monkeypatch, tmp_path / "trust" / "trust.yml", _sample_names())


@pytest.mark.slow
def test_whole_sample_loads_the_same_fast_and_careful(monkeypatch):
    """Every table of the sample trust, whole (with all its dirty rows), loads identically."""
    _loaded_same(monkeypatch, SAMPLE_CONFIG, _sample_names())


_MESSY_ATTENDANCE = """\
    Attendance export,,,,,
    pupil_id,school_id,academic_year,period,possible_sessions,attended_sessions
    A1 , S1,2024/25,2024/25 HT1, 70 ,60
    A2,S1,2024/25,2024/25 HT1,70,-0

    ,,,,,
    NA,S1,2024/25,2024/25 HT1,70,69
    A3,S2,2024/25,2024/25 HT1,"1,234",70
    A4,S2,2024/25,2024/25 HT1,70.0,12,5
    A4,S2,2024/25,2024/25 HT2,7e1,abs
    A1,S1,2024/25,2024/25 HT2,70,
    A2,null,2024/25,2024/25 HT2,069,1,5
    """


@pytest.mark.parametrize("variant", ["comma", "clean numbers", "semicolon", "crlf"])
def test_messy_tables_load_the_same_fast_and_careful(tiny_trust, monkeypatch, variant):
    """Padded cells, title rows, null-word ids, odd numbers: both ways give the same tables."""
    folder = tiny_trust.parent
    att = textwrap.dedent(_MESSY_ATTENDANCE)
    pupils = textwrap.dedent(TINY_FILES["pupils.csv"]).replace("A3,", " A3 ,")
    if variant == "clean numbers":  # no quotes, so Arrow reads it from its bytes
        att = att.replace('"1,234"', "1234").replace("12,5", "12").replace("1,5", "15")
    if variant == "semicolon":  # a decimal-comma export
        att = att.replace(",", ";").replace('"1;234"', "1234").replace("12;5", "12,5")
        att = att.replace("1;5", "1,5")
        pupils = pupils.replace(",", ";")
    if variant == "crlf":
        att = att.replace("\n", "\r\n")
    (folder / "attendance.csv").write_text(att, encoding="utf-8-sig", newline="")
    (folder / "pupils.csv").write_text(pupils, encoding="utf-8", newline="")
    cfg = write_config(folder, TINY_CONFIG)
    _loaded_same(monkeypatch, cfg, ["schools", "pupils", "attendance"])


def test_mapped_table_loads_the_same_fast_and_careful(tiny_trust, monkeypatch):
    """With a mapping (renames, recodes, a template id, declared decimal comma) too."""
    folder = tiny_trust.parent
    raw = pd.read_csv(folder / "attendance.csv", dtype=str)
    raw = raw.rename(columns={"pupil_id": "UPN", "possible_sessions": "Possible"})
    raw["Possible"] = ["70", "70,0", "69,5", "-0"]
    raw.to_csv(folder / "attendance.csv", index=False, sep=";")
    cfg = write_config(
        folder,
        TINY_CONFIG
        + textwrap.dedent("""\
        mappings:
          attendance:
            decimal: ","
            columns: {UPN: pupil_id, Possible: possible_sessions}
        """),
    )
    _loaded_same(monkeypatch, cfg, ["attendance"])


@pytest.mark.parametrize("key", [b"k", b"x" * 64, b"y" * 65, bytes(range(200))])
def test_pseudonym_is_hmac_sha256(key):
    """Pseudonyms are HMAC-SHA256 (the standard library's) for short, block-sized and long keys."""
    ids = pd.Series(["P001", "P002", None, "P001", "Zoë"], dtype="str")
    want = ["p_" + hmac.new(key, i.encode(), hashlib.sha256).hexdigest()[:16] for i in ids[:2]]
    got = pseudonymise(ids, key)
    assert got[:2].tolist() == want and pd.isna(got[2]) and got[3] == got[0]
    assert got[4] == "p_" + hmac.new(key, "Zoë".encode(), hashlib.sha256).hexdigest()[:16]


def test_pseudonyms_the_same_fast_and_careful(monkeypatch):
    """Hashing each distinct id once gives the same Series as looking up every id."""
    ids = pd.Series(["A", None, "B", "A", ""], dtype="str", index=[5, 6, 7, 8, 9], name="pupil_id")
    fast, slow = _both(monkeypatch, lambda: pseudonymise(ids, b"key"))
    _same_series(fast, slow)
