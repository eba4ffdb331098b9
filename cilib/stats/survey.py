"""Survey scales: reliability (Cronbach's alpha) and response rates against the roll.

Data follow :mod:`cilib.core.schema`: ``survey_responses`` is long (``respondent_id``, ``period``,
``item_id``, ``response``, ``school_id`` ...) and ``survey_items`` has ``item_id``, ``scale``,
``reverse_coded``, ``min``, ``max``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as st

from cilib.core.errors import DataError
from cilib.stats.checks import as_list, need_columns, numeric

#: Percentage-point difference between a group's share of respondents and its share of the roll
#: above which :func:`response_rates` flags the group.
COMPOSITION_PP = 10.0
#: Conventional minimum alpha for a scale used to compare groups.
ALPHA_MIN = 0.7


def cronbach_alpha(wide: pd.DataFrame | np.ndarray) -> float:
    """Cronbach's alpha of a respondents × items matrix with no missing values.

    Formula: ``alpha = k/(k - 1) · (1 - Σ var(item) / var(total))`` with sample variances
    (n - 1 denominator) and ``total`` the row sum. NaN when fewer than 2 items or 2 respondents,
    or the total has no variance.

    Examples
    --------
    >>> round(cronbach_alpha(np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 4]])), 4)
    0.9485
    """
    x = np.asarray(wide, dtype=float)
    if x.ndim != 2:
        raise DataError("cronbach_alpha needs a 2-D respondents x items matrix")
    n, k = x.shape
    if k < 2 or n < 2:
        return float("nan")
    if np.isnan(x).any():
        raise DataError("cronbach_alpha needs complete rows; drop respondents with missing items")
    total_var = x.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return float("nan")
    return float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / total_var))


def _scored(responses: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Responses joined to their items, with reverse-coded items flipped (min + max - x)."""
    need_columns(responses, ["respondent_id", "item_id", "response"], "responses")
    need_columns(items, ["item_id", "scale", "reverse_coded", "min", "max"], "items")
    if items["item_id"].duplicated().any():
        dup = items.loc[items["item_id"].duplicated(), "item_id"].iloc[0]
        raise DataError(f"items lists item_id {dup!r} more than once; keep one row per item")
    unknown = set(responses["item_id"].dropna()) - set(items["item_id"])
    if unknown:
        raise DataError(
            f"responses use item_id(s) not in items: {sorted(map(str, unknown))[:5]}; add them "
            "to survey_items"
        )
    it = items[["item_id", "scale", "reverse_coded", "min", "max"]].copy()
    it["reverse_coded"] = it["reverse_coded"].fillna(False).astype(bool)
    r = responses.merge(it, on="item_id", how="left", validate="many_to_one")
    x = numeric(r["response"], "response")
    lo, hi = numeric(r["min"], "min"), numeric(r["max"], "max")
    out_of_range = (x < lo) | (x > hi)
    if out_of_range.any():
        bad = r.loc[out_of_range].iloc[0]
        raise DataError(
            f"response {bad['response']!r} to item {bad['item_id']!r} is outside its range "
            f"{bad['min']}-{bad['max']}; clean or quarantine it first"
        )
    r["score"] = x.where(~r["reverse_coded"], lo + hi - x)
    return r


def scale_reliability(
    responses: pd.DataFrame,
    items: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    case: Sequence[str] = ("respondent_id", "period"),
) -> pd.DataFrame:
    """Cronbach's alpha per survey scale, with n and k.

    Reverse-coded items are flipped first (``reverse = min + max - x`` with the item's min and
    max). A case is one respondent in one period (``case``; columns missing from ``responses``
    are ignored). ``k`` is the number of items of the scale in ``items``; ``n`` counts cases with
    a response to every one of them (complete cases, the only ones alpha uses);
    ``n_incomplete`` counts the cases left out. ``alpha = k/(k - 1) · (1 - Σ var(item) /
    var(total))``; ``reliable`` is ``alpha >= 0.7``. ``by`` splits the result (e.g. by
    ``school_id`` or ``respondent_type``).

    Examples
    --------
    >>> items = pd.DataFrame({"item_id": ["a", "b", "c"], "scale": "s",
    ...                       "reverse_coded": [False, False, True], "min": 1.0, "max": 5.0})
    >>> resp = pd.DataFrame({"respondent_id": [r for r in "1234" for _ in range(3)],
    ...                      "item_id": list("abc") * 4,
    ...                      "response": [1, 2, 4, 2, 3, 3, 3, 3, 2, 4, 5, 2]})
    >>> scale_reliability(resp, items)[["scale", "n", "k", "alpha"]].round(4)
      scale  n  k   alpha
    0     s  4  3  0.9485
    """
    r = _scored(responses, items)
    by = as_list(by)
    need_columns(r, by, "responses")
    case_cols = [c for c in case if c in r.columns] or ["respondent_id"]
    keys = by + case_cols
    if r.duplicated(keys + ["item_id"]).any():
        raise DataError(
            f"more than one response per {keys + ['item_id']}; pass case= with the columns that "
            "identify one completed questionnaire"
        )
    rows = []
    scale_items = items.groupby("scale", sort=True)["item_id"].apply(list)
    for scale, item_ids in scale_items.items():
        sub = r[r["scale"] == scale]
        groups = sub.groupby(by, dropna=False, sort=True) if by else [((), sub)]
        for key, g in groups:
            key = key if isinstance(key, tuple) else (key,)
            wide = g.pivot_table(
                index=case_cols, columns="item_id", values="score", aggfunc="first"
            ).reindex(columns=item_ids)
            complete = wide.dropna()
            rows.append(
                {
                    **dict(zip(by, key, strict=True)),
                    "scale": scale,
                    "n": len(complete),
                    "n_incomplete": len(wide) - len(complete),
                    "k": len(item_ids),
                    "alpha": cronbach_alpha(complete.to_numpy()),
                }
            )
    out = pd.DataFrame(rows)
    out["reliable"] = out["alpha"] >= ALPHA_MIN
    return out


def response_rates(
    responses: pd.DataFrame,
    roll: pd.DataFrame,
    by: str | Sequence[str],
    *,
    count: str | None = None,
    respondent: str = "respondent_id",
    within: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Response rate per group against the roll, with a flag when respondents are unrepresentative.

    ``responses`` is long (one row per item answered) or one row per respondent; each distinct
    ``respondent`` counts once, in the group given by its ``by`` values. ``roll`` is either one
    row per person on roll with the ``by`` columns, or one row per group with the roll size in the
    column ``count``. ``within`` (e.g. ``"school_id"``) computes shares inside each block.

    Columns: ``n_respondents``, ``n_roll``, ``response_rate`` = respondents / roll,
    ``share_respondents`` and ``share_roll`` (each group's share of all respondents and of the
    roll, within the block), ``difference_pp`` = (share_respondents - share_roll) × 100, and
    ``flag`` = ``|difference_pp| > 10`` (the rule used for the warning: a group over- or
    under-represented by more than 10 percentage points). For information, ``chi2_p`` is the
    p-value of a chi-square goodness-of-fit test of respondents' group counts against the roll's
    proportions (same value on every row of a block); it is not used for the flag because it
    flags trivial differences in large surveys and misses large ones in small surveys.

    Examples
    --------
    >>> resp = pd.DataFrame({"respondent_id": ["a", "b", "c", "d", "e"],
    ...                      "dis": [True, False, False, False, False]})
    >>> roll = pd.DataFrame({"dis": [True, False], "n": [10, 10]})
    >>> response_rates(resp, roll, "dis", count="n")[["dis", "response_rate", "difference_pp",
    ...                                               "flag"]]
         dis  response_rate  difference_pp  flag
    0  False            0.4           30.0  True
    1   True            0.1          -30.0  True
    """
    by = as_list(by)
    within = as_list(within)
    keys = within + [b for b in by if b not in within]
    need_columns(responses, [respondent, *keys], "responses")
    need_columns(roll, keys + ([count] if count else []), "roll")
    people = responses.drop_duplicates([*within, respondent])
    if people.duplicated([*within, respondent]).any():
        raise DataError("a respondent appears in more than one group; check the by columns")
    resp = people.groupby(keys, dropna=False, sort=True).size().rename("n_respondents")
    if count:
        n_roll = roll.groupby(keys, dropna=False, sort=True)[count].sum().rename("n_roll")
    else:
        n_roll = roll.groupby(keys, dropna=False, sort=True).size().rename("n_roll")
    out = pd.concat([resp, n_roll], axis=1).fillna(0).reset_index()
    out["n_respondents"] = out["n_respondents"].astype("int64")
    out["n_roll"] = out["n_roll"].astype("float64")
    extra = out[(out["n_roll"] == 0) & (out["n_respondents"] > 0)]
    if len(extra):
        raise DataError(
            f"respondents in group(s) with nobody on roll: {extra[keys].to_dict('records')[:3]}; "
            "check that responses and roll use the same group codes"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["response_rate"] = out["n_respondents"] / out["n_roll"]
    blocks = out.groupby(within, dropna=False, sort=False) if within else [((), out)]
    parts = []
    for _, b in blocks:
        b = b.copy()
        b["share_respondents"] = b["n_respondents"] / b["n_respondents"].sum()
        b["share_roll"] = b["n_roll"] / b["n_roll"].sum()
        b["difference_pp"] = 100 * (b["share_respondents"] - b["share_roll"])
        ok = b["share_roll"] > 0
        if ok.sum() >= 2 and b["n_respondents"].sum() > 0:
            exp = b.loc[ok, "share_roll"] * b.loc[ok, "n_respondents"].sum()
            b["chi2_p"] = float(st.chisquare(b.loc[ok, "n_respondents"], exp).pvalue)
        else:
            b["chi2_p"] = np.nan
        parts.append(b)
    out = pd.concat(parts, ignore_index=True)
    out["flag"] = out["difference_pp"].abs() > COMPOSITION_PP
    return out
