"""Small-number suppression of summary tables: primary, secondary, and display."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cilib.core.errors import DataError
from cilib.stats.checks import as_list, need_columns

#: Symbol shown in place of a suppressed figure (the DfE convention uses 'x' or 'c').
SUPPRESSED_SYMBOL = "x"
#: Footnote to print under any table that may contain suppressed figures.
SUPPRESSION_FOOTNOTE = (
    "x = suppressed: fewer than {threshold} pupils, or a figure from which a suppressed figure "
    "could be worked out."
)


def suppress(
    table: pd.DataFrame,
    threshold: int = 5,
    *,
    count_cols: str | Sequence[str] = "n",
    value_cols: str | Sequence[str] | None = None,
    group_col: str | None = None,
    total_row: Any = None,
    by: str | Sequence[str] | None = None,
    hide_counts: bool = False,
) -> pd.DataFrame:
    """Primary and secondary suppression of a summary table.

    Primary: a row with any count in ``count_cols`` above 0 and below ``threshold`` is suppressed.
    Secondary (only when ``total_row`` is given): the rows of each block (``by`` columns; the
    whole table if ``None``) whose ``group_col`` is not ``total_row`` are subgroups that add up to
    the total row. If the total is visible and exactly one subgroup with pupils is suppressed, its
    value could be worked back from the total and the others, so the smallest visible subgroup
    with pupils is suppressed too. Repeated until nothing changes. Suppressed rows get
    ``suppressed=True`` and NaN in ``value_cols`` (default: every numeric column except the counts
    and ``by``); counts stay visible, as in DfE tables, unless ``hide_counts=True``. Display the
    gaps with :data:`SUPPRESSED_SYMBOL` and :data:`SUPPRESSION_FOOTNOTE`.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["all", "other", "disadvantaged"], "n": [40, 36, 4],
    ...                   "mean": [50.0, 51.0, 41.0]})
    >>> suppress(t, 5, group_col="group", total_row="all")[["group", "mean", "suppressed"]]
               group  mean  suppressed
    0            all  50.0       False
    1          other   NaN        True
    2  disadvantaged   NaN        True
    """
    counts = as_list(count_cols)
    by = as_list(by)
    need_columns(table, counts + by + ([group_col] if group_col else []), "table")
    if total_row is not None and group_col is None:
        raise DataError("total_row needs group_col= (the column that holds the total's label)")
    out = table.copy()
    if value_cols is None:
        skip = set(counts) | set(by) | {group_col, "suppressed"}
        values = [
            c
            for c in out.columns
            if c not in skip
            and pd.api.types.is_numeric_dtype(out[c])
            and not pd.api.types.is_bool_dtype(out[c])
        ]
    else:
        values = as_list(value_cols)
        need_columns(out, values, "table")
    cnt = out[counts].apply(pd.to_numeric, errors="coerce")
    size = cnt.min(axis=1)
    has_pupils = (cnt > 0).all(axis=1)
    sup = np.array((has_pupils & (cnt < threshold).any(axis=1)).to_numpy(), dtype=bool)
    if "suppressed" in out.columns:
        sup |= out["suppressed"].fillna(False).astype(bool).to_numpy()
    if total_row is not None:
        blocks = (
            out.groupby(by, dropna=False, sort=False).indices if by else {(): np.arange(len(out))}
        )
        is_total = (out[group_col] == total_row).fillna(False).to_numpy()
        hp = has_pupils.to_numpy()
        sz = size.to_numpy(float)
        changed = True
        while changed:
            changed = False
            for idx in blocks.values():
                idx = np.asarray(idx)
                tot = idx[is_total[idx]]
                subs = idx[~is_total[idx] & hp[idx]]
                if len(tot) == 0 or sup[tot].any():
                    continue
                hidden = subs[sup[subs]]
                visible = subs[~sup[subs]]
                if len(hidden) == 1 and len(visible) > 0:
                    sup[visible[np.argmin(sz[visible])]] = True
                    changed = True
    out["suppressed"] = sup
    for c in values:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64").mask(sup)
    if hide_counts:
        for c in counts:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64").mask(sup)
    return out


def format_suppressed(table: pd.DataFrame, *, symbol: str = SUPPRESSED_SYMBOL, digits: int = 1):
    """Return a display copy with suppressed figures shown as ``symbol`` (default ``"x"``).

    Numeric columns are rounded to ``digits`` and turned into text; in rows with
    ``suppressed=True`` every missing numeric figure becomes ``symbol``.

    Examples
    --------
    >>> t = pd.DataFrame({"n": [3], "mean": [float("nan")], "suppressed": [True]})
    >>> format_suppressed(t)["mean"].tolist()
    ['x']
    """
    out = table.copy()
    sup = out["suppressed"].fillna(False).astype(bool) if "suppressed" in out else False
    for c in out.columns:
        if c == "suppressed" or not pd.api.types.is_numeric_dtype(out[c]):
            continue
        if pd.api.types.is_bool_dtype(out[c]):
            continue
        txt = out[c].round(digits).astype(str)
        out[c] = txt.where(~(out[c].isna() & sup), symbol).where(out[c].notna() | sup, "")
    return out
