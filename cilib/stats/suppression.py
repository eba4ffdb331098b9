"""Small-number suppression of summary tables: primary, complementary, folding, and display.

Method (statistical disclosure control as in the ONS and DfE guidance on tables of counts):

* **Primary**: a cell with pupils and fewer than ``threshold`` of them shows no figures.
* **Complementary**: wherever a table shows a total and its parts (pupil groups adding up to
  "All pupils", or school rows adding up to a trust row), the hidden parts together form a group
  whose count and figures can be worked out by subtraction. That group must itself be safe to
  publish: at least two hidden cells (so no single one is pinned down), at least ``threshold``
  pupils, and, for a rate or a bounded value, not at the end of its range (a hidden group at 0%
  tells every hidden pupil's outcome). While a group is unsafe the smallest visible part is
  hidden too. Both directions of a school × group table are checked until nothing changes.
* **Folding** (:func:`fold_small_groups`): a category with fewer than ``threshold`` pupils across
  the whole table is folded, with pupils whose value is not recorded, into "Other or not
  recorded"; when even that group is too small, its pupils are left out of the table (a handful
  of pupils) rather than hiding a large group, and a footnote says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
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
#: Label of the group that small categories are folded into, with pupils not recorded.
FOLD_LABEL = "Other or not recorded"
#: Label of the group of pupils whose value is not recorded (when nothing else is folded in).
NOT_RECORDED = "Not recorded"


def _blocks(out: pd.DataFrame, keys: list[str]) -> list[np.ndarray]:
    if not keys:
        return [np.arange(len(out))]
    return [np.asarray(v) for v in out.groupby(keys, dropna=False, sort=False).indices.values()]


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
    value_col: str | None = None,
    bounds: tuple[float, float] | None = None,
    across: str | None = None,
    across_total: Any = None,
) -> pd.DataFrame:
    """Primary and complementary suppression of a summary table.

    Primary: a row with any count in ``count_cols`` above 0 and below ``threshold`` is suppressed.

    Complementary (only when ``total_row`` is given): the rows of each block (``by`` columns, and
    ``across`` when given; the whole table if neither) whose ``group_col`` is not ``total_row`` are
    parts that add up to the total row. When the total is visible, the hidden parts together can
    be worked out by subtraction (their count, and their sum or numerator from ``total × n``), so
    they must be safe as a group: at least two hidden parts, together at least ``threshold``
    pupils, and, when ``value_col`` (the mean or rate of each row) and ``bounds`` (its possible
    range, e.g. ``(0, 1)`` for a rate) are given, a combined value strictly inside the range (a
    combined 0% would tell every hidden pupil's outcome). When the total is hidden, at least one
    part must be hidden too (else the total is their sum). While a block is unsafe, its smallest
    visible part with pupils is suppressed too.

    With ``across`` (e.g. ``"school_id"``) and ``across_total`` (the label of the trust row in
    that column), the rows are also blocks the other way: each group's school rows add up to its
    trust row, and the same rule applies within ``by + [group_col]``. Both directions are
    repeated until nothing changes.

    Suppressed rows get ``suppressed=True`` and NaN in ``value_cols`` (default: every numeric
    column except the counts, ``by`` and ``across``); counts stay visible, as in DfE tables,
    unless ``hide_counts=True``. Display the gaps with :data:`SUPPRESSED_SYMBOL` and
    :data:`SUPPRESSION_FOOTNOTE`. The input is not changed.

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
    extra = [c for c in (group_col, across, value_col) if c]
    need_columns(table, counts + by + extra, "table")
    if total_row is not None and group_col is None:
        raise DataError("total_row needs group_col= (the column that holds the total's label)")
    if across is not None and across_total is None:
        raise DataError("across= needs across_total= (the label of the total row, e.g. the trust)")
    if bounds is not None and value_col is None:
        raise DataError("bounds= needs value_col= (the column holding each row's mean or rate)")
    out = table.copy()
    if value_cols is None:
        skip = set(counts) | set(by) | {group_col, across, "suppressed"}
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
    has_pupils = (cnt > 0).all(axis=1).to_numpy()
    sup = np.array(has_pupils & (cnt < threshold).any(axis=1).to_numpy(), dtype=bool)
    if "suppressed" in out.columns:
        sup |= out["suppressed"].fillna(False).astype(bool).to_numpy()
    margins = []
    if total_row is not None:
        is_total = (out[group_col] == total_row).fillna(False).to_numpy(bool)
        margins.append((_blocks(out, by + ([across] if across else [])), is_total))
    if across is not None:
        is_total = (out[across] == across_total).fillna(False).to_numpy(bool)
        margins.append((_blocks(out, by + ([group_col] if group_col else [])), is_total))
    if margins:
        sup = _complementary(out, sup, margins, counts, has_pupils, threshold, value_col, bounds)
    out["suppressed"] = sup
    for c in values:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64").mask(sup)
    if hide_counts:
        for c in counts:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64").mask(sup)
    return out


def _complementary(out, sup, margins, counts, has_pupils, threshold, value_col, bounds):
    """Hide the smallest visible part of every unsafe block until every block is safe."""
    sup = sup.copy()
    cnt = out[counts].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy(float)
    size = cnt.min(axis=1)
    val = None
    if value_col is not None:
        val = pd.to_numeric(out[value_col], errors="coerce").to_numpy(float)
    changed = True
    while changed:
        changed = False
        for blocks, is_total in margins:
            for idx in blocks:
                tot = idx[is_total[idx]]
                parts = idx[~is_total[idx] & has_pupils[idx]]
                if len(tot) != 1 or len(parts) == 0:
                    continue
                hidden, visible = parts[sup[parts]], parts[~sup[parts]]
                if not len(visible):
                    continue
                if sup[tot[0]]:
                    unsafe = len(hidden) == 0
                else:
                    unsafe = _unsafe(hidden, cnt, val, bounds, threshold)
                if unsafe:
                    pick = _complement(visible, size, val, hidden, cnt, bounds)
                    sup[pick] = True
                    changed = True
    return sup


def _unsafe(hidden, cnt, val, bounds, threshold) -> bool:
    """Return True when the hidden parts of a block, worked out together, would disclose."""
    if len(hidden) == 0:
        return False
    if len(hidden) == 1:
        return True
    n_union = cnt[hidden].sum(axis=0)
    if ((n_union > 0) & (n_union < threshold)).any():
        return True
    if val is not None and bounds is not None:
        w = cnt[hidden, 0]
        v = val[hidden]
        ok = np.isfinite(v)
        if ok.any() and w[ok].sum() > 0:
            mean = float(np.sum(w[ok] * v[ok]) / w[ok].sum())
            tol = 1e-9 * max(1.0, abs(bounds[1] - bounds[0]))
            if mean <= bounds[0] + tol or mean >= bounds[1] - tol:
                return True
    return False


def _complement(visible, size, val, hidden, cnt, bounds) -> int:
    """Return the visible part to hide next: the smallest, preferring one off the edge value."""
    order = visible[np.argsort(size[visible], kind="stable")]
    if val is not None and bounds is not None and len(hidden):
        w = cnt[hidden, 0]
        v = val[hidden]
        ok = np.isfinite(v)
        if ok.any() and w[ok].sum() > 0:
            mean = float(np.sum(w[ok] * v[ok]) / w[ok].sum())
            tol = 1e-9 * max(1.0, abs(bounds[1] - bounds[0]))
            for i in order:
                if np.isfinite(val[i]) and abs(val[i] - mean) > tol:
                    return int(i)
    return int(order[0])


@dataclass
class Folded:
    """Result of :func:`fold_small_groups`: the rows to tabulate and the footnotes to show.

    Attributes
    ----------
    rows : DataFrame
        The input rows with small categories relabelled, and any left-out pupils dropped.
    notes : list of str
        One plain-English footnote per lens where something was folded or left out.
    left_out : int
        Number of rows left out (not for display: it may be a small number).
    """

    rows: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    left_out: int = 0


def fold_small_groups(
    rows: pd.DataFrame,
    columns: str | Sequence[str],
    threshold: int = 5,
    *,
    by: str | Sequence[str] | None = None,
    pupil: str | None = None,
    labels: dict[str, str] | None = None,
) -> Folded:
    """Fold tiny categories so that they do not force a large group to be hidden.

    For each column in ``columns`` (a lens such as gender), on pupil-level ``rows``: a recorded
    category is *small* when, in some ``by`` block where it occurs, it has fewer than
    ``threshold`` pupils (distinct ``pupil`` ids, or rows). When at least two categories are not
    small, the small ones and the pupils with no recorded value are combined into
    :data:`FOLD_LABEL` ("Other or not recorded"); otherwise only the not-recorded pupils are
    (as :data:`NOT_RECORDED`). If that combined group has at least ``threshold`` pupils in every
    block it is shown as a group of its own; if not, its pupils are left out of the whole table
    (every lens), because a total that includes them would let them be worked out by subtraction
    from the shown groups, and the alternative is hiding a large group. Each fold or leaving-out
    adds a footnote (with no small number in it).

    Returns
    -------
    Folded
        ``rows`` (a new frame), ``notes`` and ``left_out``.

    Examples
    --------
    >>> rows = pd.DataFrame({"gender": ["female"] * 20 + ["male"] * 20 + ["other"] * 2})
    >>> f = fold_small_groups(rows, "gender", 5)
    >>> len(f.rows), f.left_out
    (40, 2)
    >>> f.notes[0][:64]
    "gender: fewer than 5 pupils for whom this is 'other' or not reco"
    """
    cols = as_list(columns)
    by = as_list(by)
    need_columns(rows, cols + by + ([pupil] if pupil else []), "rows")
    labels = labels or {}
    out = rows.copy()
    drop = np.zeros(len(out), dtype=bool)
    notes = []
    for col in cols:
        name = labels.get(col, col)
        s = out[col]
        size = _level_sizes(out, col, by, pupil)
        small = [lv for lv, k in size.items() if k < threshold]
        big = [lv for lv in size.index if lv not in small]
        fold_levels = small if len(big) >= 2 else []
        mask = (s.isna().to_numpy() | s.isin(fold_levels).to_numpy()) & ~drop
        if not mask.any():  # nothing to fold, or its pupils are already left out
            continue
        label = FOLD_LABEL if fold_levels else NOT_RECORDED
        what = " or ".join([repr(str(v)) for v in fold_levels] + ["not recorded"])
        combined = _group_min(out.loc[mask], by, pupil)
        if combined >= threshold:
            out[col] = s.astype("object").where(~mask, label)
            if fold_levels:
                notes.append(
                    f"{name}: pupils for whom this is {what} are shown together as "
                    f"'{label}' (each on its own has fewer than {threshold} pupils)."
                )
        else:
            drop |= mask
            notes.append(
                f"{name}: fewer than {threshold} pupils for whom this is {what} are left out of "
                "this table, so that no large group has to be hidden to protect them."
            )
    if drop.any():
        out = out.loc[~drop]
    return Folded(out, notes, int(drop.sum()))


def _level_sizes(rows: pd.DataFrame, col: str, by: list[str], pupil: str | None) -> pd.Series:
    """Smallest number of pupils of each recorded level of ``col`` over the ``by`` blocks."""
    d = rows.loc[rows[col].notna()]
    if not len(d):
        return pd.Series(dtype=float)
    keys = by + [col]
    g = d.groupby(keys, dropna=False, sort=False, observed=True)
    k = g[pupil].nunique() if pupil else g.size()
    return k.groupby(level=col, sort=False, observed=True).min()


def _group_min(rows: pd.DataFrame, by: list[str], pupil: str | None) -> float:
    """Smallest number of pupils over the ``by`` blocks where ``rows`` has any (0 if none)."""
    if not len(rows):
        return 0.0
    if not by:
        return float(rows[pupil].nunique() if pupil else len(rows))
    g = rows.groupby(by, dropna=False, sort=False, observed=True)
    return float((g[pupil].nunique() if pupil else g.size()).min())


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
