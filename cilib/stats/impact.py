"""Did an intervention make a difference, and for whom? Effects with the threats to validity.

:func:`estimate_impact` compares a treated group with a comparison group on an outcome, for everyone
and for a focus group (by default disadvantaged pupils), estimates the change in the gap, converts
Hedges' g to months of additional progress, and reports beside the result the checks a reader needs
before believing it: attrition (overall and differential), baseline imbalance, small n, regression
to the mean and missing data by group.

Formulas:

* unadjusted difference of means (or of gains ``outcome - baseline``): Welch's interval
  (Welch–Satterthwaite df), from :func:`cilib.stats.intervals.welch_interval`.
* adjusted difference (``adjust=True``): ANCOVA, ordinary least squares of
  ``outcome ~ 1 + treated + baseline`` (numpy least squares), classical SE, t interval with
  ``n - 3`` df.
* Hedges' g: the difference divided by the pooled SD of the *outcome* (as in EEF trial reports;
  the SD of gains is smaller and would inflate g), times ``J = 1 - 3 / (4(n1 + n2) - 9)``;
  its interval is the model's interval of the difference on the same scale,
  ``J·ci_low/sd`` to ``J·ci_high/sd`` (EEF practice), so g and the difference agree.
* change in the gap (difference in differences):
  ``(treated focus - treated other) - (comparison focus - comparison other)`` of the mean gains
  (or outcomes), ``se = sqrt(Σ s²/n)`` over the four cells, t interval with Satterthwaite df;
  with ``adjust=True`` the ``treated × focus`` coefficient of
  ``outcome ~ 1 + treated + focus + treated·focus + baseline``.
* months of progress: the EEF Teaching and Learning Toolkit table, :func:`months_progress`.
* with ``cluster=`` (strategies given to whole schools): every row's SE is the CR2 cluster-robust
  SE of the same least-squares model (``y ~ 1 + treated``, ``+ baseline``, or the interaction
  model), with Satterthwaite df and a t interval (:mod:`cilib.stats.cluster_robust`); no interval
  when an arm has fewer than ``MIN_CLUSTERS`` schools or the df is below ``MIN_DF``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as st

from cilib.core.errors import DataError
from cilib.stats.checks import need_columns, numeric
from cilib.stats.cluster_robust import clustered_difference, too_few_clusters_check
from cilib.stats.intervals import hedges_g, welch_interval

#: Printable caveat for any report that shows months of progress.
MONTHS_NOTE = (
    "Months of additional progress use the Education Endowment Foundation's Teaching and "
    "Learning Toolkit conversion, which differs slightly from the one used in individual EEF "
    "trial reports."
)

#: Upper bound of |g| (rounded to 2 decimals) for each number of months, from the EEF Teaching
#: and Learning Toolkit guide (Education Endowment Foundation, "Teaching and Learning Toolkit:
#: Guide to the Toolkit", months' progress table).
_MONTHS_UPPER = (
    (0.01, 0),
    (0.09, 1),
    (0.18, 2),
    (0.26, 3),
    (0.35, 4),
    (0.44, 5),
    (0.52, 6),
    (0.61, 7),
    (0.69, 8),
    (0.78, 9),
    (0.87, 10),
    (0.95, 11),
)

#: Thresholds of the validity checks (rules of thumb; change them to match local guidance).
ATTRITION_MAX = 0.20  # overall share of rows with no outcome
DIFFERENTIAL_ATTRITION_MAX = 0.05  # treated minus comparison attrition, absolute
IMBALANCE_MAX = 0.10  # |standardised baseline difference|
SMALL_N = 30  # pupils per arm
MISSING_GAP_MAX = 0.05  # missing-data rate, focus minus others, absolute
MIN_CLUSTERS = 2  # clusters (schools) per arm, below which no clustered interval is given
MIN_DF = 4.0  # Satterthwaite df below which the CR2 interval is not trusted (Tipton 2015)
NAIVE = "pupils independent"
CR2 = "CR2, Satterthwaite df"


def months_progress(g: Any) -> Any:
    """Convert Hedges' g to months of additional progress (EEF Toolkit table).

    ``g`` is rounded to 2 decimals as printed (``f"{g:.2f}"``), then ``|g| <= 0.01 -> 0``;
    ``0.02-0.09 -> 1``; ``0.10-0.18 -> 2``; ``0.19-0.26 -> 3``; ``0.27-0.35 -> 4``;
    ``0.36-0.44 -> 5``; ``0.45-0.52 -> 6``; ``0.53-0.61 -> 7``; ``0.62-0.69 -> 8``;
    ``0.70-0.78 -> 9``; ``0.79-0.87 -> 10``; ``0.88-0.95 -> 11``; ``>= 0.96 -> 12``. Negative g
    gives the same number of months with a minus sign. Source: Education Endowment Foundation,
    Teaching and Learning Toolkit guide. This is the Toolkit's conversion, which differs slightly
    from the one used in individual trial reports (see :data:`MONTHS_NOTE`). NaN stays NaN.

    Parameters
    ----------
    g : float or array-like
        Effect size(s).

    Returns
    -------
    float or numpy array
        Months (whole numbers as floats, so that NaN can be carried).

    Examples
    --------
    >>> months_progress(0.18), months_progress(0.19), months_progress(-0.5)
    (2.0, 3.0, -6.0)
    """
    arr = np.asarray(g, dtype=float)
    # round exactly as a report prints g (``f"{g:.2f}"``), so the months always match the shown g
    # (numpy's round differs at some ties: 0.355 prints as 0.35 but np.round gives 0.36)
    r = np.vectorize(lambda v: float(f"{abs(v):.2f}") if np.isfinite(v) else v, otypes=[float])(
        arr
    )
    months = np.full(r.shape, 12.0)
    for upper, m in reversed(_MONTHS_UPPER):
        months = np.where(r <= upper + 1e-9, float(m), months)
    out = np.where(np.isnan(arr), np.nan, np.sign(arr) * months)
    out = np.where(out == 0, 0.0, out)  # no negative zero
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class ImpactResult:
    """Result of :func:`impact`: the effects table, the checks table and notes for the reader."""

    effects: pd.DataFrame
    checks: pd.DataFrame
    method: str
    notes: tuple[str, ...] = field(default=(MONTHS_NOTE,))

    def __getitem__(self, key: str) -> Any:
        """Allow ``result["effects"]`` as well as ``result.effects``."""
        return getattr(self, key)

    @property
    def flagged(self) -> pd.DataFrame:
        """Checks that need the reader's attention."""
        return self.checks[self.checks["flag"]]


def _ols(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Least squares coefficients, classical SEs and residual df."""
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    df = len(y) - x.shape[1]
    if df <= 0:
        return beta, np.full_like(beta, np.nan), df
    sigma2 = resid @ resid / df
    cov = sigma2 * np.linalg.pinv(x.T @ x)
    return beta, np.sqrt(np.diag(cov)), df


def _pooled_sd(a: np.ndarray, b: np.ndarray) -> float:
    n1, n2 = len(a), len(b)
    if n1 + n2 <= 2:
        return np.nan
    ss = np.sum((a - a.mean()) ** 2) if n1 else 0.0
    ss += np.sum((b - b.mean()) ** 2) if n2 else 0.0
    return float(np.sqrt(ss / (n1 + n2 - 2)))


def _g_from_diff(
    diff: float, low: float, high: float, sd: float, n1: int, n2: int
) -> tuple[float, ...]:
    """Hedges' g and its interval from the model's difference and interval (EEF practice).

    ``g = J·diff/sd`` and the interval is the difference's own interval on the same scale,
    ``J·low/sd`` to ``J·high/sd``, so that g and the difference always tell the same story (the
    interval accounts for the model: ANCOVA's adjustment, Welch's unequal variances).
    """
    if not (sd > 0) or n1 < 1 or n2 < 1:
        return (np.nan, np.nan, np.nan)
    j = 1 - 3 / (4 * (n1 + n2) - 9)
    return j * diff / sd, j * low / sd, j * high / sd


def _unclustered(df: float) -> dict[str, Any]:
    """Design columns of a row whose SE treats pupils as independent."""
    return {
        "df": float(df),
        "se_method": NAIVE,
        "clusters_treated": np.nan,
        "clusters_comparison": np.nan,
        "icc": np.nan,
        "design_effect": np.nan,
        "variance_ratio": np.nan,
        "too_few_clusters": False,
    }


def _cr2(
    d: pd.DataFrame, y: np.ndarray, x: np.ndarray | None, coef: int, naive_se: float,
    level: float, cl: tuple[int, float],
) -> dict[str, Any]:
    """Clustered SE, interval and design columns of one row (``x=None``: too few pupils)."""
    return clustered_difference(
        y, x, d["_c"].to_numpy(), d["_t"].to_numpy(bool), coef, naive_se=naive_se, level=level,
        min_clusters=cl[0], min_df=cl[1],
    )


def _effect(
    d: pd.DataFrame, adjust: bool, level: float, cl: tuple[int, float] | None
) -> dict[str, Any]:
    """Effect of treatment in one population (rows already complete)."""
    t_mask = d["_t"].to_numpy(bool)
    y = d["_y"].to_numpy(float)
    out_vals = d["_out"].to_numpy(float)
    n1, n2 = int(t_mask.sum()), int((~t_mask).sum())
    row: dict[str, Any] = {
        "n_treated": n1,
        "n_comparison": n2,
        "mean_treated": float(y[t_mask].mean()) if n1 else np.nan,
        "mean_comparison": float(y[~t_mask].mean()) if n2 else np.nan,
    }
    if n1 < 2 or n2 < 2:
        row.update(diff=np.nan, diff_se=np.nan, ci_low=np.nan, ci_high=np.nan, g=np.nan,
                   g_ci_low=np.nan, g_ci_high=np.nan, months=np.nan)
        row.update(_unclustered(np.nan) if cl is None else _cr2(d, y, None, 1, np.nan, level, cl))
        return row
    if adjust:
        x = np.column_stack([np.ones(len(d)), t_mask.astype(float), d["_base"].to_numpy(float)])
        beta, se, df = _ols(y, x)
        diff, dse = float(beta[1]), float(se[1])
        tq = st.t.ppf(0.5 + level / 2, df) if df > 0 else np.nan
        lo, hi = diff - tq * dse, diff + tq * dse
    else:
        x = np.column_stack([np.ones(len(d)), t_mask.astype(float)])
        a, b = y[t_mask], y[~t_mask]
        dd, dse_, df_, lo_, hi_ = welch_interval(
            n1, a.mean(), a.std(ddof=1), n2, b.mean(), b.std(ddof=1), level=level
        )
        diff, dse, lo, hi = float(dd[0]), float(dse_[0]), float(lo_[0]), float(hi_[0])
        df = float(df_[0])
    extra = _unclustered(df) if cl is None else _cr2(d, y, x, 1, dse, level, cl)
    if cl is not None:
        dse, lo, hi = extra.pop("diff_se"), extra.pop("ci_low"), extra.pop("ci_high")
    sd = _pooled_sd(out_vals[t_mask], out_vals[~t_mask])
    g, glo, ghi = _g_from_diff(diff, lo, hi, sd, n1, n2)
    row.update(
        diff=diff,
        diff_se=dse,
        ci_low=lo,
        ci_high=hi,
        g=g,
        g_ci_low=glo,
        g_ci_high=ghi,
        months=months_progress(g),
        **extra,
    )
    return row


def _gap_change(
    d: pd.DataFrame, adjust: bool, level: float, cl: tuple[int, float] | None
) -> dict[str, Any]:
    """Difference in differences of treatment effect, focus minus others."""
    t = d["_t"].to_numpy(bool)
    f = d["_f"].to_numpy(bool)
    y = d["_y"].to_numpy(float)
    cells = [y[t & f], y[t & ~f], y[~t & f], y[~t & ~f]]
    row: dict[str, Any] = {
        "n_treated": int(t.sum()),
        "n_comparison": int((~t).sum()),
        "mean_treated": np.nan,
        "mean_comparison": np.nan,
        "g": np.nan,
        "g_ci_low": np.nan,
        "g_ci_high": np.nan,
        "months": np.nan,
    }
    if min(len(c) for c in cells) < 2:
        row.update(diff=np.nan, diff_se=np.nan, ci_low=np.nan, ci_high=np.nan)
        row.update(_unclustered(np.nan) if cl is None else _cr2(d, y, None, 3, np.nan, level, cl))
        return row
    row["mean_treated"] = cells[0].mean() - cells[1].mean()
    row["mean_comparison"] = cells[2].mean() - cells[3].mean()
    x = np.column_stack([np.ones(len(d)), t, f, t & f]).astype(float)
    if adjust:
        x = np.column_stack([x, d["_base"].to_numpy(float)])
        beta, se, df = _ols(y, x)
        diff, dse = float(beta[3]), float(se[3])
    else:
        diff = row["mean_treated"] - row["mean_comparison"]
        v = np.array([c.var(ddof=1) / len(c) for c in cells])
        dse = float(np.sqrt(v.sum()))
        df = v.sum() ** 2 / np.sum(v**2 / np.array([len(c) - 1 for c in cells]))
    if cl is not None:
        row.update(diff=diff, **_cr2(d, y, x, 3, dse, level, cl))
        return row
    tq = st.t.ppf(0.5 + level / 2, df)
    row.update(diff=diff, diff_se=dse, ci_low=diff - tq * dse, ci_high=diff + tq * dse,
               **_unclustered(df))
    return row


def _bool_col(s: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean")
    v = pd.to_numeric(s, errors="coerce")
    if not v.dropna().isin([0, 1]).all() or (v.isna() & s.notna()).any():
        raise DataError(f"column {name!r} must be boolean or 0/1 (treated = True/1)")
    return v.astype("Float64").astype("boolean")


def estimate_impact(
    df: pd.DataFrame,
    outcome: str,
    treated: str,
    *,
    baseline: str | None = None,
    group: str | None = None,
    focus: Any = None,
    selected_low: bool = False,
    adjust: bool = False,
    level: float = 0.95,
    cluster: str | None = None,
    min_clusters: int = MIN_CLUSTERS,
    min_df: float = MIN_DF,
) -> ImpactResult:
    """Effect of an intervention, for everyone and for a focus group, with validity checks.

    Rows are pupils. ``treated`` is boolean (or 0/1); rows with a missing ``treated`` are dropped.
    Without ``baseline`` the effect is the difference of mean outcomes; with ``baseline`` it is
    the difference of mean gains (``outcome - baseline``), or with ``adjust=True`` the ANCOVA
    estimate from ``outcome ~ 1 + treated + baseline``. Rows missing the outcome (attrition) or
    the baseline are left out of the estimates and counted in the checks. Formulas are in the
    module docstring: Welch interval, ANCOVA by least squares, Hedges' g on the pooled outcome SD
    with ``J = 1 - 3/(4(n1 + n2) - 9)``, months by :func:`months_progress`, and the change in the
    gap as a difference in differences.

    Parameters
    ----------
    df : DataFrame
        One row per pupil.
    outcome, treated : str
        Outcome column and treatment indicator.
    baseline : str, optional
        Baseline (pre-test) column.
    group, focus : str, value or list
        Column holding the focus-group marker and the value(s) that mark the focus group;
        ``focus=None`` means ``True`` (e.g. ``group="disadvantaged"``).
    selected_low : bool
        Whether pupils were chosen for the intervention because of a low baseline.
    adjust : bool
        Use ANCOVA instead of gains (needs ``baseline``).
    level : float
        Confidence level.
    cluster : str, optional
        Column naming the unit the strategy was given to (e.g. ``"school_id"``). Then every SE is
        the CR2 cluster-robust SE with Satterthwaite df (:mod:`cilib.stats.cluster_robust`), the
        interval is ``diff ± t_df·se``, and g's interval is that interval over the SD of g.
    min_clusters, min_df : int, float
        With ``cluster``, no interval is given (NaN, ``too_few_clusters`` True, and a
        ``too_few_clusters`` check) when an arm has fewer than ``min_clusters`` clusters or the
        Satterthwaite df is below ``min_df`` (default 4: below it the corrected test can still
        reject far too often, Tipton 2015).

    Returns
    -------
    ImpactResult
        ``.effects``: one row per population (``all``, ``focus``, ``other``, ``gap change``) with
        ``n_treated``, ``n_comparison``, ``mean_treated``, ``mean_comparison``, ``diff``,
        ``diff_se``, ``ci_low``, ``ci_high``, ``g``, ``g_ci_low``, ``g_ci_high``, ``months``,
        ``df`` (of the interval), ``se_method`` (``"pupils independent"`` or ``"CR2,
        Satterthwaite df"``), ``clusters_treated``, ``clusters_comparison``, ``icc`` (one-way
        ANOVA, clusters within arms, of the gains or outcomes), ``design_effect``
        (``1 + (m̄ − 1)·icc``, ``m̄`` the mean cluster size), ``variance_ratio`` (CR2 variance over
        the pupils-independent variance) and ``too_few_clusters`` (NaN and False without
        ``cluster``). ``.checks``: ``check``, ``value``, ``flag``, ``message``.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [True] * 4 + [False] * 4,
    ...                    "pre": [10, 12, 11, 13, 10, 12, 11, 13],
    ...                    "post": [15, 18, 16, 19, 12, 15, 13, 16]})
    >>> r = estimate_impact(df, "post", "t", baseline="pre")
    >>> r.effects[["population", "diff", "n_treated", "n_comparison"]]
      population  diff  n_treated  n_comparison
    0        all   3.0          4             4
    >>> bool(r.checks.set_index("check").loc["small_n", "flag"])
    True
    """
    cols = [outcome, treated] + ([baseline] if baseline else []) + ([group] if group else [])
    cols += [cluster] if cluster else []
    need_columns(df, cols, "the data")
    if adjust and baseline is None:
        raise DataError("adjust=True needs baseline= (the pre-test column to adjust for)")
    d = pd.DataFrame(index=df.index)
    d["_t"] = _bool_col(df[treated], treated)
    d["_out"] = numeric(df[outcome], outcome)
    d["_base"] = numeric(df[baseline], baseline) if baseline else 0.0
    if focus is None:
        focus = True
    if group:
        vals = list(focus) if isinstance(focus, (list, tuple, set)) else [focus]
        d["_f"] = df[group].isin(vals) & df[group].notna()
        d["_gknown"] = df[group].notna()
        if not d["_f"].any():
            raise DataError(f"no rows have {group!r} equal to focus={focus!r}")
    if cluster:
        d["_c"] = df[cluster]
    d = d[d["_t"].notna()].copy()
    if cluster and d["_c"].isna().any():
        raise DataError(
            f"{int(d['_c'].isna().sum())} rows have no {cluster!r}: every pupil needs one"
        )
    cl = (min_clusters, min_df) if cluster else None
    d["_t"] = d["_t"].astype(bool)
    if d["_t"].all() or not d["_t"].any():
        raise DataError(f"{treated!r} must have both treated (True) and comparison (False) rows")
    d["_y"] = d["_out"] - d["_base"] if (baseline and not adjust) else d["_out"]
    complete = d["_out"].notna() & d["_base"].notna()
    a = d[complete]
    rows = [{"population": "all", **_effect(a, adjust, level, cl)}]
    if group:
        rows.append({"population": "focus", **_effect(a[a["_f"]], adjust, level, cl)})
        other = a[~a["_f"] & a["_gknown"]]
        rows.append({"population": "other", **_effect(other, adjust, level, cl)})
        both = a[a["_gknown"]]
        rows.append({"population": "gap change", **_gap_change(both, adjust, level, cl)})
    effects = pd.DataFrame(rows)
    if baseline is None:
        measure = "difference in mean outcome"
    elif adjust:
        measure = "ANCOVA: outcome adjusted for baseline"
    else:
        measure = "difference in mean gain (outcome - baseline)"
    effects.insert(1, "measure", measure)
    checks = _checks(d, a, baseline is not None, group is not None, selected_low, adjust)
    if cluster:
        checks = pd.concat(
            [checks, too_few_clusters_check(effects.iloc[0], cluster, min_clusters, min_df)],
            ignore_index=True,
        )
    return ImpactResult(effects=effects, checks=checks, method=measure)


def _checks(
    d: pd.DataFrame,
    a: pd.DataFrame,
    has_base: bool,
    has_group: bool,
    selected_low: bool,
    adjust: bool,
) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []

    def add(check: str, value: float, flag: bool, message: str) -> None:
        rows.append({"check": check, "value": float(value), "flag": bool(flag), "message": message})

    miss = d["_out"].isna()
    att = float(miss.mean())
    add(
        "attrition_overall",
        att,
        att > ATTRITION_MAX,
        f"{att:.0%} of pupils have no outcome"
        + (
            f" (more than {ATTRITION_MAX:.0%}): the result may not represent everyone."
            if att > ATTRITION_MAX
            else "."
        ),
    )
    t = d["_t"]
    att_t, att_c = float(miss[t].mean()), float(miss[~t].mean())
    diff_att = att_t - att_c
    flag = abs(diff_att) > DIFFERENTIAL_ATTRITION_MAX
    add(
        "attrition_differential",
        diff_att,
        flag,
        f"Attrition is {att_t:.0%} in the treated group and {att_c:.0%} in the comparison group"
        + ("; the groups lost different pupils, which can bias the effect." if flag else "."),
    )
    ta = a["_t"]
    if has_base:
        b = a["_base"].to_numpy(float)
        sd = _pooled_sd(b[ta.to_numpy()], b[~ta.to_numpy()])
        smd = (b[ta.to_numpy()].mean() - b[~ta.to_numpy()].mean()) / sd if sd > 0 else np.nan
        flag = not (abs(smd) <= IMBALANCE_MAX)
        add(
            "baseline_imbalance",
            smd,
            flag,
            f"Standardised baseline difference (treated minus comparison) is {smd:.2f}"
            + (
                f"; above {IMBALANCE_MAX} the groups were not alike at the start"
                + ("." if adjust else ", so consider adjust=True (ANCOVA).")
                if flag
                else "."
            ),
        )
    else:
        add(
            "baseline_imbalance",
            np.nan,
            True,
            "No baseline given: cannot tell whether the groups were alike at the start.",
        )
    n_min = int(min(ta.sum(), (~ta).sum()))
    add(
        "small_n",
        n_min,
        n_min < SMALL_N,
        f"The smaller arm has {n_min} pupils"
        + (
            f" (fewer than {SMALL_N}): the estimate is imprecise; read the interval, not the point."
            if n_min < SMALL_N
            else "."
        ),
    )
    if has_group:
        fa = a[a["_f"]]
        nf = int(min(fa["_t"].sum(), (~fa["_t"]).sum()))
        add(
            "small_n_focus",
            nf,
            nf < SMALL_N,
            f"The smaller arm of the focus group has {nf} pupils"
            + (f" (fewer than {SMALL_N})." if nf < SMALL_N else "."),
        )
    if has_base:
        r = float(np.corrcoef(a["_base"], a["_out"])[0, 1]) if len(a) > 2 else np.nan
        gap_base = float(a.loc[~ta, "_base"].mean() - a.loc[ta, "_base"].mean())
        rtm = (1 - r) * gap_base
        msg = (
            f"Expected extra gain of the treated group from regression to the mean alone: "
            f"{rtm:.2f} (= (1 - r) x baseline difference, r = {r:.2f})."
        )
        if selected_low:
            msg = (
                "Pupils were selected for a low baseline, so part of any gain is regression "
                "to the mean; only a comparison group selected the same way removes it. " + msg
            )
        add("regression_to_mean", rtm, selected_low, msg)
    elif selected_low:
        add(
            "regression_to_mean",
            np.nan,
            True,
            "Pupils were selected for a low baseline and no baseline is given: regression to "
            "the mean cannot be assessed.",
        )
    if has_group:
        incomplete = d["_out"].isna() | d["_base"].isna()
        known = d["_gknown"]
        mf = float(incomplete[d["_f"]].mean())
        mo = float(incomplete[~d["_f"] & known].mean())
        flag = abs(mf - mo) > MISSING_GAP_MAX
        add(
            "missing_by_group",
            mf - mo,
            flag,
            f"Missing outcome or baseline: {mf:.0%} of the focus group, {mo:.0%} of others"
            + ("; results for the focus group may be biased." if flag else "."),
        )
        unk = int((~known).sum())
        add(
            "group_unknown",
            unk,
            unk > 0,
            f"{unk} pupils have no value for the group column and are left out of the focus "
            "and other rows.",
        )
    return pd.DataFrame(rows, columns=["check", "value", "flag", "message"])


def effect_from_stats(
    n_treated: float,
    mean_treated: float,
    sd_treated: float,
    n_comparison: float,
    mean_comparison: float,
    sd_comparison: float,
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """Effect from published summary statistics: Welch difference, Hedges' g and months.

    Formulas as :func:`cilib.stats.intervals.welch_interval` and
    :func:`cilib.stats.intervals.hedges_g`.

    Examples
    --------
    >>> effect_from_stats(50, 103, 5.5, 50, 100, 4.5)[["diff", "g", "months"]].round(4)
       diff       g  months
    0   3.0  0.5924     7.0
    """
    d, se, _, lo, hi = welch_interval(
        n_treated,
        mean_treated,
        sd_treated,
        n_comparison,
        mean_comparison,
        sd_comparison,
        level=level,
    )
    g, _, glo, ghi = hedges_g(
        n_treated,
        mean_treated,
        sd_treated,
        n_comparison,
        mean_comparison,
        sd_comparison,
        level=level,
    )
    return pd.DataFrame(
        {
            "n_treated": [n_treated],
            "n_comparison": [n_comparison],
            "diff": d,
            "diff_se": se,
            "ci_low": lo,
            "ci_high": hi,
            "g": g,
            "g_ci_low": glo,
            "g_ci_high": ghi,
            "months": months_progress(g),
        }
    )


__all__: Sequence[str] = (
    "MONTHS_NOTE",
    "ImpactResult",
    "effect_from_stats",
    "estimate_impact",
    "months_progress",
)
