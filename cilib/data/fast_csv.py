"""Fast paths for clean exports, with Arrow: reading, numbers, and values mapped once each.

:func:`cilib.data.readers.read_file` reads a text file line by line so that it can set aside
broken lines, find the header, and repair short rows. Most exports need none of that: no quotes,
every line with the header's number of fields. For those, :func:`quote_free_body` parses the
data lines (given as lines, or straight from the file's bytes, see :func:`clean_bytes_start`)
with Arrow's CSV reader and applies the same cell rules (stripped, blank is missing, lines of
separators only dropped), many times faster. :func:`plain_numbers` reads numbers written plainly
(``-12.5``) with Arrow's cast, and :func:`map_distinct` maps each distinct value of a column
once. Each fast path takes only inputs it can vouch for, giving exactly what the careful path
gives; anything else returns None (or leaves the value to the caller) and goes the careful way.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

__all__ = [
    "clean_bytes_start",
    "map_distinct",
    "plain_numbers",
    "quote_free_body",
    "stripped",
    "text_head",
]

#: Whitespace that Python's str.strip() removes but Arrow's trim may not, in UTF-8 (a character's
#: bytes appear in valid UTF-8 only where the character is): files holding any of them take the
#: line-by-line path. The first four are ASCII.
_ODD_SPACE = tuple(
    chr(c).encode("utf-8")
    for c in [*range(0x1C, 0x20), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029,
              0x202F, 0x205F, 0x3000]
)
#: Numbers written plainly: sign, at most 9 digits, at most 6 decimals. At most 15 significant
#: digits, so Arrow's cast and pandas' parser both give the correctly rounded double.
_PLAIN_NUMBER = r"^[+-]?[0-9]{1,9}(\.[0-9]{1,6})?$"
_PLAIN_WHOLE = r"^[+-]?[0-9]{1,9}$"
#: Text pandas reads differently as part of a whole-number column than of a decimal one
#: (a negative zero, or 16 digits and more): its column goes the careful way.
_CONTEXT_NUMBER = re.compile(r"^[^1-9]*-[^1-9]*0[^1-9]*$|[0-9](?:[.,]?[0-9]){15}")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_BINARY_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF", b"\x1f\x8b")
_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3's default "str" dtype


def clean_bytes_start(data: bytes) -> int | None:
    r"""Return where a file's text starts, if Arrow may read it straight from its bytes.

    That is a UTF-8 file (a byte-order mark is skipped: the result is then 3, else 0) with no
    NUL byte in its first 64 KiB, not UTF-16 nor the signature of a binary file, whose lines end
    in LF or CR LF (no lone CR). Returns None otherwise: the careful reader decides.

    Examples
    --------
    >>> clean_bytes_start(b"a,b\r\n1,2\r\n"), clean_bytes_start(b"a,b\r1,2\r")
    (0, None)
    """
    if data[:2] in _UTF16_BOMS or data.startswith(_BINARY_MAGIC) or b"\x00" in data[:65536]:
        return None
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    return start


def text_head(
    data: bytes, start: int, *, lines: int = 200, nonblank: int = 100
) -> tuple[list[str], list[int], bool]:
    r"""Return the first physical lines of a clean file's text and where each line starts.

    At least ``lines`` lines and ``nonblank`` non-blank lines, or the whole file (the flag
    says which). ``data`` must have passed :func:`clean_bytes_start` (which gave ``start``). The
    offsets have one more entry than the lines: where the line after the last one starts.

    Examples
    --------
    >>> text_head(b"a,b\r\n\r\n1,2\r\n", 0)
    (['a,b', '', '1,2'], [0, 5, 7, 12], True)
    """
    size = 1 << 16
    while True:
        end = data.rfind(b"\n", start, start + size) + 1
        whole = start + size >= len(data) or end == 0
        if whole:
            end = len(data)
        text = data[start:end].decode("utf-8")
        got = text.split("\n")
        if got and got[-1] == "":
            got.pop()
        got = [ln[:-1] if ln.endswith("\r") else ln for ln in got]
        if whole or (len(got) >= lines and sum(1 for ln in got if ln.strip()) >= nonblank):
            break
        size *= 4
    offsets = [start]
    for _ in got:
        offsets.append(data.find(b"\n", offsets[-1]) + 1 or len(data))
    return got, offsets, whole


def _edges_clean(arr: pa.ChunkedArray) -> bool:
    """Whether no present string is empty or starts or ends with a byte that may be whitespace.

    Looks only at each string's first and last byte (any control character, space, DEL or
    non-ASCII byte counts as possible whitespace), so it costs far less than trimming.
    """
    wide = pa.types.is_large_string(arr.type)
    for chunk in arr.chunks:
        if len(chunk) == chunk.null_count:
            continue
        _, off_buf, data_buf = chunk.buffers()
        offsets = np.frombuffer(off_buf, dtype=np.int64 if wide else np.int32)
        offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1]
        starts, ends = offsets[:-1], offsets[1:]
        if chunk.null_count:
            valid = chunk.is_valid().to_numpy(zero_copy_only=False)
            starts, ends = starts[valid], ends[valid]
        if (ends <= starts).any():
            return False
        data = np.frombuffer(data_buf, dtype=np.uint8)
        for edge in (data[starts], data[ends - 1]):
            if ((edge <= 32) | (edge >= 127)).any():
                return False
    return True


def stripped(values: pd.Series) -> bool:
    """Whether stripping a ``str`` column would change nothing and no value of it is blank.

    True only when no present value is empty or starts or ends with a control character, a
    space or a non-ASCII character (False does not mean a value would change).

    Examples
    --------
    >>> stripped(pd.Series(["a", None, "b c"], dtype="str")), stripped(pd.Series(["a "]))
    (True, False)
    """
    arr = _arrow(values)
    return arr is not None and _edges_clean(arr)


def _has_odd_space(data: bytes, start: int, ascii_only: bool) -> bool:
    """Whether the UTF-8 ``data`` from ``start`` holds a character of :data:`_ODD_SPACE`.

    Single bytes are found with ``bytes.find``; a multi-byte character only where its first byte
    occurs (looked for first, then compared with numpy at each place it occurs).
    """
    if any(data.find(c, start) >= 0 for c in _ODD_SPACE[:4]):
        return True
    if ascii_only:
        return False
    body = np.frombuffer(data, dtype=np.uint8)
    for lead in {c[0] for c in _ODD_SPACE[4:]}:
        if data.find(bytes([lead]), start) < 0:
            continue
        at = np.flatnonzero(body[start:] == lead) + start
        for c in _ODD_SPACE[4:]:
            if c[0] != lead:
                continue
            hit = np.ones(len(at), dtype=bool)
            for k in range(1, len(c)):  # valid UTF-8: a lead byte has its continuation bytes
                hit &= body[at + k] == c[k]
            if hit.any():
                return True
    return False


def quote_free_body(
    lines: list[str] | bytes, delimiter: str, width: int, start: int = 0
) -> pd.DataFrame | None:
    r"""Parse the data lines with Arrow's CSV reader when none needs the careful path.

    ``lines`` are the data lines after the header, or the bytes of a file
    :func:`clean_bytes_start` accepts, the data lines starting at byte ``start``. They qualify
    when no line holds a quote, every non-empty line has exactly ``width`` fields and no cell
    holds unusual whitespace. Then the result is what the line-by-line loop gives: cells
    stripped, blank cells missing, lines of separators only dropped, and rows numbered 1, 2, ...
    (empty lines are not counted). Returns None otherwise.

    Examples
    --------
    >>> quote_free_body(["1, a ,", ",,", "2,b,c"], ",", 3).values.tolist()
    [['1', 'a', nan], ['2', 'b', 'c']]
    >>> quote_free_body(b"x,y,z\r\n1, a ,\r\n,,\r\n2,b,c\r\n", ",", 3, start=7).values.tolist()
    [['1', 'a', nan], ['2', 'b', 'c']]
    """
    if isinstance(lines, bytes):
        data = lines
    else:
        data, start = "\n".join(lines).encode("utf-8"), 0
    if data.find(b'"', start) >= 0:
        return None
    ascii_only = data.isascii()
    if _has_odd_space(data, start, ascii_only):
        return None
    opts = pacsv.ParseOptions(delimiter=delimiter, quote_char=False, ignore_empty_lines=True)
    names = [f"c{j}" for j in range(width)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data)[start:]),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=opts,
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.large_string() for c in names},
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except pa.ArrowInvalid:  # a short or long line, or anything else unusual
        return None
    trim = pc.ascii_trim_whitespace if ascii_only else pc.utf8_trim_whitespace
    cols = []
    for c in names:
        col = table.column(c)
        if _edges_clean(col):
            cols.append(col)  # nothing to strip, and blank cells are already missing
            continue
        trimmed = trim(col)
        cols.append(pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, col.type), trimmed))
    if width and all(col.null_count for col in cols):
        blank = pc.is_null(cols[0])
        for col in cols[1:]:
            blank = pc.and_(blank, pc.is_null(col))
        if pc.any(blank).as_py():
            keep = pc.invert(blank)
            cols = [pc.filter(col, keep) for col in cols]
    return pd.DataFrame(
        {j: _to_str(col) for j, col in enumerate(cols)}, columns=range(width), copy=False
    )


def _to_str(col: pa.ChunkedArray | pa.Array) -> pd.Series:
    """Wrap an Arrow string column as a pandas ``str`` Series, with no Python objects made."""
    return pd.Series(pd.array(col, dtype=_STR), copy=False)


def _arrow(values: pd.Series) -> pa.ChunkedArray | None:
    """Return the Arrow strings behind a ``str`` Series, or None if it is not stored that way."""
    if values.dtype != _STR:
        return None
    data = values.array.__arrow_array__()
    if isinstance(data, pa.Array):
        data = pa.chunked_array([data])
    return data if pa.types.is_large_string(data.type) or pa.types.is_string(data.type) else None


def _cast_short_numbers(
    arr: pa.ChunkedArray, decimal: str | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """Cast a whole column when every value is a plain number of at most 15 characters.

    That is when Arrow's cast reads every value, none has more than 15 characters (so at most
    15 digits), an exponent (``e``) or, with ``decimal=","``, a point, and none is infinite
    or not a number. Returns the floats and the mask of present values, or None.
    """
    if arr.null_count == len(arr) or pc.max(pc.binary_length(arr)).as_py() > 15:
        return None
    for mark in ("e", "E", ".") if decimal == "," else ("e", "E"):
        if pc.any(pc.match_substring(arr, mark)).as_py():
            return None
    try:
        num = pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    floats = np.array(num.to_numpy(zero_copy_only=False), dtype="float64")  # writable
    valid = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    if not np.isfinite(floats[valid]).all():
        return None
    return floats, valid


def plain_numbers(values: pd.Series, decimal: str | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Read the plainly written numbers of a column with Arrow's cast.

    Returns the floats (NaN where not read) and a mask of the values read: those written
    ``[+-]digits[.digits]`` with at most 9 digits before the point and 6 after, or, when every
    value of the column is written so, with at most 15 characters (only whole numbers when
    ``decimal`` is ``","``, where ``1.234`` means 1234). Such values mean the same
    under every reading of the module :func:`cilib.data.load.parse_numbers` documents, and
    give the same double as pandas' parser. The caller reads the rest the careful way. Returns
    None when the column is not Arrow strings, or when the careful path must read the whole
    column because pandas reads some value of it one way in a column of whole numbers and
    another way in a column with decimals (a negative zero; 16 digits or more).

    Examples
    --------
    >>> num, ok = plain_numbers(pd.Series(["12.5", "-3", "1,234", None], dtype="str"), None)
    >>> num.tolist()[:2], ok.tolist()
    ([12.5, -3.0], [True, True, False, False])
    """
    arr = _arrow(values)
    if arr is None:
        return None
    whole = _cast_short_numbers(arr, decimal)
    if whole is not None:  # every value is a short plain number: no need to match each one
        floats, mask = whole
    else:
        pattern = _PLAIN_WHOLE if decimal == "," else _PLAIN_NUMBER
        ok = pc.fill_null(pc.match_substring_regex(arr, pattern), False)
        num = pc.cast(pc.if_else(ok, arr, pa.scalar(None, arr.type)), pa.float64())
        floats = np.array(num.to_numpy(zero_copy_only=False), dtype="float64")  # writable
        mask = ok.to_numpy(zero_copy_only=False)
    if np.signbit(floats[mask & (floats == 0)]).any():
        return None
    n_rest = len(mask) - int(mask.sum()) - arr.null_count
    if n_rest:
        rest = pc.filter(arr, pc.and_(pc.invert(ok), pc.is_valid(arr)))
        if any(_CONTEXT_NUMBER.search(v) for v in rest.to_pylist()):
            return None
    return floats, mask


def map_distinct(values: pd.Series, fn: Callable[[str], str]) -> pd.Series | None:
    """Apply ``fn`` once per distinct value of a ``str`` column; missing stays missing.

    Returns a ``str`` Series on the same index, or None if the column is not Arrow strings.

    Examples
    --------
    >>> map_distinct(pd.Series(["a", None, "a"], dtype="str"), str.upper).tolist()
    ['A', nan, 'A']
    """
    arr = _arrow(values)
    if arr is None:
        return None
    enc = pc.dictionary_encode(arr).combine_chunks()
    mapped = pa.array([fn(v) for v in enc.dictionary.to_pylist()], type=pa.large_string())
    out = mapped.take(enc.indices)
    return pd.Series(pd.array(out, dtype=_STR), index=values.index, name=values.name, copy=False)
