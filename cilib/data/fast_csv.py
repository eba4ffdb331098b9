"""Fast reading of clean CSV exports: Arrow's C parser where no line needs the careful path.

:func:`cilib.data.readers.read_file` reads a text file line by line so that it can set aside
broken lines, find the header, and repair short rows. Most exports need none of that: no quotes,
every line with the header's number of fields. For those, :func:`quote_free_body` parses the
data lines with Arrow's CSV reader and applies the same cell rules (stripped, blank is missing,
lines of separators only dropped), many times faster; any file it cannot vouch for returns None
and goes the careful way.
"""

from __future__ import annotations

import io
import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

__all__ = ["quote_free_body"]

# whitespace that Python's str.strip() removes but Arrow's trim may not: such files take the
# line-by-line path
_ODD_SPACE = re.compile("[\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


def quote_free_body(lines: list[str], delimiter: str, width: int) -> pd.DataFrame | None:
    """Parse the data lines with Arrow's CSV reader when none needs the careful path.

    That is when no line holds a quote, every non-empty line has exactly ``width`` fields and
    no cell holds unusual whitespace. Then the result is what the line-by-line loop gives:
    cells stripped, blank cells missing, lines of separators only dropped, and rows numbered
    1, 2, ... (empty lines are not counted). Returns None otherwise.

    Examples
    --------
    >>> quote_free_body(["1, a ,", ",,", "2,b,c"], ",", 3).values.tolist()
    [['1', 'a', nan], ['2', 'b', 'c']]
    """
    text = "\n".join(lines)
    if '"' in text:
        return None
    if text.isascii():
        if any(c in text for c in "\x1c\x1d\x1e\x1f"):
            return None
    elif _ODD_SPACE.search(text):
        return None
    opts = pacsv.ParseOptions(delimiter=delimiter, quote_char=False, ignore_empty_lines=True)
    names = [f"c{j}" for j in range(width)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=opts,
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in names}, strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid:  # a short or long line, or anything else unusual
        return None
    cols = []
    for c in names:
        col = pc.utf8_trim_whitespace(table.column(c))
        cols.append(pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col))
    blank = pc.is_null(cols[0])
    for col in cols[1:]:
        blank = pc.and_(blank, pc.is_null(col))
    keep = pc.invert(blank)
    frame = pd.DataFrame(
        {j: pc.filter(col, keep).to_pandas() for j, col in enumerate(cols)}, columns=range(width)
    )
    return frame.astype("str") if width else frame
