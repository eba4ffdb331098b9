"""Cluster-robust inference for a least-squares coefficient, and the intraclass correlation.

Pupils in the same school share a headteacher, a timetable and a cohort, so their results are not
independent. When a strategy is assigned to whole schools, the information in the data is closer
to the number of schools than to the number of pupils. This module gives the two pieces an impact
estimate needs to allow for that:

* :func:`cr2_coefficient`: the CR2 (Bell–McCaffrey) cluster-robust standard error of one
  coefficient of an ordinary least-squares fit, with Satterthwaite degrees of freedom
  (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018, working model: independent errors with equal
  variance, as in R's ``clubSandwich::vcovCR(type = "CR2")`` with ``coef_test(test =
  "Satterthwaite")``; Imbens & Kolesár 2016 call the df "BM").
* :func:`anova_icc`: the one-way analysis-of-variance estimator of the intraclass correlation,
  with clusters nested in arms, truncated at 0, and :func:`design_effect`
  ``1 + (m̄ − 1)·ICC`` (Kish; Hedges 2007).

Formulas (``X`` is n×p, ``M = (XᵀX)⁻¹``, ``e`` the residuals, ``c`` picks the coefficient):

* ``A_g = (I − X_g M X_gᵀ)^(−1/2)`` (symmetric inverse square root; a direction with leverage 1
  gets weight 0, the Moore–Penrose choice), ``p_g = A_g X_g M c``;
  ``var = Σ_g (p_gᵀ e_g)²``.
* Satterthwaite df: with ``u_gᵀu_h = δ_gh p_gᵀp_g − (X_gᵀp_g)ᵀ M (X_hᵀp_h)`` (the ``u_g`` are
  the columns of ``(I − H)`` that carry ``p_g``), ``df = (Σ_g u_gᵀu_g)² / Σ_g Σ_h (u_gᵀu_h)²``.

Each ``A_g`` is computed from a thin SVD of ``X_g`` (rank at most p), so a school of 2,000
pupils costs no more than a few small matrix products.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as st


def _cluster_codes(clusters: Any) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(pd.Series(np.asarray(clusters, dtype=object)), sort=True)
    if (codes < 0).any():
        raise ValueError("cluster labels must not be missing")
    return codes, len(uniques)


def cr2_coefficient(y: Any, x: Any, clusters: Any, coef: int) -> dict[str, float]:
    """Estimate, CR2 cluster-robust SE and Satterthwaite df of one OLS coefficient.

    Parameters
    ----------
    y : array-like
        Outcome, length n.
    x : array-like
        Design matrix, n×p, including the constant column.
    clusters : array-like
        Cluster label of each row (for example the school).
    coef : int
        Column of ``x`` whose coefficient is wanted.

    Returns
    -------
    dict
        ``estimate``, ``se`` (CR2), ``df`` (Satterthwaite), ``naive_se`` (classical OLS SE,
        pupils independent) and ``clusters`` (number of clusters). ``se`` and ``df`` are NaN
        when there are fewer than two clusters.

    Examples
    --------
    Two schools a side, cluster-level treatment: with equal school sizes the CR2 SE is the
    two-sample SE of the school means.

    >>> y = [1.0, 3.0, 4.0, 6.0, 6.0, 8.0, 9.0, 13.0]
    >>> t = [0, 0, 0, 0, 1, 1, 1, 1]
    >>> x = np.column_stack([np.ones(8), t])
    >>> r = cr2_coefficient(y, x, ["a", "a", "b", "b", "c", "c", "d", "d"], 1)
    >>> round(r["estimate"], 2), round(r["se"], 4), round(r["df"], 2)
    (5.5, 2.5, 2.0)
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    codes, n_g = _cluster_codes(clusters)
    n, p = x.shape
    m = np.linalg.pinv(x.T @ x)
    beta = m @ (x.T @ y)
    e = y - x @ beta
    dof = n - np.linalg.matrix_rank(x)
    naive = float(np.sqrt((e @ e / dof) * m[coef, coef])) if dof > 0 else np.nan
    out = {"estimate": float(beta[coef]), "se": np.nan, "df": np.nan, "naive_se": naive,
           "clusters": float(n_g)}
    if n_g < 2:
        return out
    mc = m[:, coef]
    order = np.argsort(codes, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(codes, minlength=n_g))]
    w = np.empty(n_g)  # p_g' e_g
    pp = np.empty(n_g)  # p_g' p_g
    q = np.empty((p, n_g))  # X_g' p_g
    for g in range(n_g):
        idx = order[bounds[g] : bounds[g + 1]]
        xg = x[idx]
        u, s, vt = np.linalg.svd(xg, full_matrices=False)
        keep = s > 1e-12 * max(s.max(initial=0.0), 1.0)
        u, s, vt = u[:, keep], s[keep], vt[keep]
        sv = s[:, None] * vt
        lam, wv = np.linalg.eigh(sv @ m @ sv.T)  # eigenvalues of H_gg on its column space
        uw = u @ wv
        room = 1.0 - lam
        f = np.where(room > 1e-10, 1.0 / np.sqrt(np.clip(room, 1e-10, None)) - 1.0, -1.0)
        base = xg @ mc
        pg = base + uw @ (f * (uw.T @ base))
        w[g] = pg @ e[idx]
        pp[g] = pg @ pg
        q[:, g] = xg.T @ pg
    uu = np.diag(pp) - q.T @ m @ q
    denom = float(np.sum(uu**2))
    out["se"] = float(np.sqrt(np.sum(w**2)))
    out["df"] = float(np.trace(uu) ** 2 / denom) if denom > 0 else np.nan
    return out


def anova_icc(y: Any, clusters: Any, arms: Any = None) -> float:
    """One-way analysis-of-variance estimator of the intraclass correlation, truncated at 0.

    Clusters are nested in ``arms`` (treated and comparison), so a difference between the arms is
    not counted as a difference between clusters. With ``N`` rows in ``G`` clusters and ``A``
    arms: ``MSW = Σ(y − ȳ_g)²/(N − G)``, ``MSB = Σ n_g(ȳ_g − ȳ_arm)²/(G − A)``,
    ``n0 = (N − Σ_arm Σ_g n_g²/N_arm)/(G − A)``, ``ICC = (MSB − MSW)/(MSB + (n0 − 1)·MSW)``
    (Searle, Casella & McCulloch 1992, ch. 3; with one arm this is the textbook one-way estimator).

    Parameters
    ----------
    y : array-like
        Values (for example gains).
    clusters : array-like
        Cluster of each value.
    arms : array-like, optional
        Arm of each value; ``None`` means one arm.

    Returns
    -------
    float
        The ICC, ``max(0, estimate)``; NaN when there are not at least two clusters in some arm
        or no within-cluster variation.

    Examples
    --------
    >>> round(anova_icc([1, 2, 3, 5, 6, 7], ["a", "a", "a", "b", "b", "b"]), 3)
    0.885
    """
    y = np.asarray(y, dtype=float)
    arm = np.zeros(len(y), dtype=int) if arms is None else pd.factorize(np.asarray(arms))[0]
    d = pd.DataFrame({"y": y, "arm": arm, "c": np.asarray(clusters, dtype=object)})
    cell = d.groupby(["arm", "c"], sort=False)["y"].agg(["size", "mean"])
    n_tot, n_cl, n_arms = len(d), len(cell), d["arm"].nunique()
    if n_cl - n_arms <= 0 or n_tot - n_cl <= 0:
        return np.nan
    cmean = d.groupby(["arm", "c"], sort=False)["y"].transform("mean").to_numpy()
    amean = d.groupby("arm")["y"].transform("mean").to_numpy()
    msw = float(np.sum((y - cmean) ** 2) / (n_tot - n_cl))
    msb = float(np.sum((cmean - amean) ** 2) / (n_cl - n_arms))
    arm_n = cell["size"].groupby(level="arm").sum()
    sq = (cell["size"] ** 2).groupby(level="arm").sum()
    n0 = float((n_tot - (sq / arm_n).sum()) / (n_cl - n_arms))
    den = msb + (n0 - 1) * msw
    if not den > 0:
        return np.nan
    return max(0.0, (msb - msw) / den)


def design_effect(icc: float, n_rows: float, n_clusters: float) -> float:
    """Design effect ``1 + (m̄ − 1)·ICC`` with ``m̄ = n_rows / n_clusters`` (Kish; Hedges 2007).

    Examples
    --------
    >>> round(design_effect(0.08, 3475, 100), 2)
    3.7
    """
    if not (n_clusters > 0) or not np.isfinite(icc):
        return np.nan
    return 1.0 + (n_rows / n_clusters - 1.0) * icc


def clustered_difference(
    y: Any,
    x: Any,
    clusters: Any,
    arms: Any,
    coef: int,
    *,
    naive_se: float = np.nan,
    level: float = 0.95,
    min_clusters: int = 2,
    min_df: float = 4.0,
) -> dict[str, Any]:
    """CR2 interval of a treatment contrast, with the design columns of an impact estimate.

    Parameters
    ----------
    y, x, clusters, coef
        As :func:`cr2_coefficient`; ``x=None`` gives the counts only (too few pupils to fit).
    arms : array-like of bool
        True for rows in the treated arm.
    naive_se : float
        SE treating pupils as independent, for ``variance_ratio``.
    level : float
        Confidence level.
    min_clusters, min_df : int, float
        Below either (clusters in the smaller arm; Satterthwaite df) no interval is given.

    Returns
    -------
    dict
        ``diff_se``, ``ci_low``, ``ci_high`` (NaN when too few clusters), ``df``, ``se_method``,
        ``clusters_treated``, ``clusters_comparison``, ``icc`` (:func:`anova_icc`, clusters
        within arms), ``design_effect`` (:func:`design_effect`, ``m̄`` = rows per cluster),
        ``variance_ratio`` (``se² / naive_se²``) and ``too_few_clusters``.
    """
    t = np.asarray(arms, dtype=bool)
    c = np.asarray(clusters, dtype=object)
    ct, cc = len(pd.unique(c[t])), len(pd.unique(c[~t]))
    row: dict[str, Any] = {
        "diff_se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "df": np.nan,
        "se_method": "CR2, Satterthwaite df", "clusters_treated": ct, "clusters_comparison": cc,
        "icc": np.nan, "design_effect": np.nan, "variance_ratio": np.nan, "too_few_clusters": True,
    }
    if x is None:
        return row
    y = np.asarray(y, dtype=float)
    r = cr2_coefficient(y, x, c, coef)
    icc = anova_icc(y, c, t)
    too_few = min(ct, cc) < min_clusters or not r["df"] >= min_df
    se, est = r["se"], r["estimate"]
    tq = np.nan if too_few else float(st.t.ppf(0.5 + level / 2, r["df"]))
    row.update(
        diff_se=se,
        ci_low=est - tq * se,
        ci_high=est + tq * se,
        df=r["df"],
        icc=icc,
        design_effect=design_effect(icc, len(y), r["clusters"]),
        variance_ratio=(se / naive_se) ** 2 if naive_se > 0 else np.nan,
        too_few_clusters=bool(too_few),
    )
    return row


def too_few_clusters_check(
    row: Any, cluster: str, min_clusters: int = 2, min_df: float = 4.0
) -> pd.DataFrame:
    """Build the ``too_few_clusters`` check row, in plain English, from an effects row.

    ``row`` needs ``clusters_treated``, ``clusters_comparison``, ``df``, ``design_effect`` and
    ``too_few_clusters``. The clusters are called schools when the column name contains
    "school", otherwise groups.

    Examples
    --------
    >>> row = {"clusters_treated": 3, "clusters_comparison": 2, "df": 2.4,
    ...        "design_effect": 3.7, "too_few_clusters": True}
    >>> msg = too_few_clusters_check(row, "school_id")["message"].iloc[0]
    >>> msg[:64]
    'Only 3 schools ran the strategy and 2 did not: too few schools t'
    """
    word = "school" if "school" in cluster.lower() else "group"
    ct, cc, dof = int(row["clusters_treated"]), int(row["clusters_comparison"]), row["df"]
    ran = f"{ct} {word}{'' if ct == 1 else 's'} ran the strategy and {cc} did not"
    if row["too_few_clusters"]:
        why = (
            f"fewer than {min_clusters} on a side"
            if min(ct, cc) < min_clusters
            else f"about {dof:.1f} degrees of freedom, fewer than {min_df:g}"
        )
        msg = (
            f"Only {ran}: too few {word}s to tell an effect from the differences between "
            f"{word}s ({why}). No interval is given."
        )
    else:
        msg = (
            f"{ran[0].upper()}{ran[1:]}; the interval allows for differences between {word}s "
            f"(design effect {row['design_effect']:.1f}, {dof:.0f} degrees of freedom)."
        )
    flag = bool(row["too_few_clusters"])
    return pd.DataFrame([{"check": "too_few_clusters", "value": float(dof), "flag": flag,
                          "message": msg}])


__all__: Sequence[str] = (
    "anova_icc",
    "clustered_difference",
    "cr2_coefficient",
    "design_effect",
    "too_few_clusters_check",
)
