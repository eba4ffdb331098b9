"""Funnel plot drawing: a :func:`cilib.stats.funnel.funnel` result in the project style.

Schools are named (not coded), the centre line is the trust average, rates are shown in percent
(as the tables beside the chart are), schools outside the 99.8% limits are drawn in the NHS Making
Data Count colours (blue better than expected, orange worse) and labelled without overlapping,
and the title and the figure's alt text state the finding.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter

from cilib.report import style as plots
from cilib.stats.funnel import funnel_curve


def is_proportion(result: pd.DataFrame) -> bool:
    """Return True when the funnel's values and average are proportions (0 to 1): show percent."""
    vals = pd.concat([result["value"], result["target"]]).astype(float).dropna()
    return bool(len(vals)) and bool(((vals >= 0) & (vals <= 1)).all())


def _names(result: pd.DataFrame, names: Mapping[str, str] | None) -> pd.Series:
    units = result["unit"].astype("str")
    if names:
        return result["unit"].map(lambda u: names.get(u, names.get(str(u), str(u))))
    return units


def funnel_finding(
    result: pd.DataFrame,
    *,
    names: Mapping[str, str] | None = None,
    improvement: str | None = None,
) -> str:
    """Return the funnel's finding in a sentence: which schools lie outside the 99.8% limits.

    Examples
    --------
    >>> from cilib.stats.funnel import funnel
    >>> t = pd.DataFrame({"school": ["A", "B"], "n": [100, 400], "rate": [0.7, 0.6]})
    >>> funnel_finding(funnel(t, "rate", "school", kind="rate", n="n"))
    'All 2 schools are within the range expected around the trust average.'
    """
    out = result["outside998"].astype(bool).to_numpy()
    who = _names(result, names).to_numpy()
    k = len(result)
    if not out.any():
        return f"All {k} schools are within the range expected around the trust average."
    high = out & (result["value"].to_numpy(float) > result["target"].to_numpy(float))
    low = out & ~high
    bits = []
    for mask, side in ((high, "above"), (low, "below")):
        if mask.any():
            if improvement in ("up", "down"):
                good = (side == "above") == (improvement == "up")
                side = f"{side} (better than expected)" if good else f"{side} (worse than expected)"
            bits.append(f"{', '.join(map(str, who[mask]))} {side}")
    n_out = int(out.sum())
    school_word = "school lies" if n_out == 1 else "schools lie"
    return (
        f"{n_out} of {k} {school_word} outside the range expected around the trust average: "
        + "; ".join(bits)
        + "."
    )


def _place_labels(ax, xs, ys, texts) -> None:
    """Label points, moving each label up until it overlaps no label already placed."""
    fig = ax.figure
    ax.autoscale_view()
    fig.canvas.draw()  # settle limits and layout before measuring labels
    renderer = fig.canvas.get_renderer()
    px_per_pt = fig.dpi / 72
    placed = []
    for i in np.argsort(ys):
        offset = 3.0
        ann = ax.annotate(
            str(texts[i]),
            (xs[i], ys[i]),
            fontsize=9,
            xytext=(5, offset),
            textcoords="offset points",
        )
        for _ in range(50):
            box = ann.get_window_extent(renderer)
            clash = [b for b in placed if b.overlaps(box)]
            if not clash:
                break
            offset += (max(b.y1 for b in clash) - box.y0) / px_per_pt + 2
            ann.xyann = (5, offset)
        placed.append(ann.get_window_extent(renderer))


def plot_funnel(
    result: pd.DataFrame,
    ax=None,
    *,
    title: str | None = None,
    label_outside: bool = True,
    names: Mapping[str, str] | None = None,
    highlight: str | None = None,
    improvement: str | None = None,
    percent: bool | None = None,
):
    """Draw a funnel plot from :func:`cilib.stats.funnel.funnel` output with the project style.

    Limits are drawn as smooth curves over the range of n (dashed 95%, solid 99.8%;
    :func:`cilib.stats.funnel.funnel_curve`) around the trust average; schools outside the 99.8%
    limits are drawn larger, in blue when better than expected and orange when worse (orange
    diamonds when ``improvement`` is not given), and labelled by name.

    Parameters
    ----------
    result : DataFrame
        Output of :func:`cilib.stats.funnel.funnel` (``unit`` holds school ids).
    ax : matplotlib Axes, optional
        Axes to draw on.
    title : str, optional
        Chart title; by default the finding (:func:`funnel_finding`).
    label_outside : bool
        Label the schools outside the 99.8% limits.
    names : mapping, optional
        School id to school name, for labels, the title and the alt text.
    highlight : str, optional
        School id drawn as "this school".
    improvement : {"up", "down"}, optional
        The good direction of the measure; colours outlying schools as better or worse.
    percent : bool, optional
        Show the values axis in percent (default: when values are proportions).

    Returns
    -------
    tuple
        ``(fig, ax)``; the figure carries alt text stating the finding.

    Examples
    --------
    >>> from cilib.stats.funnel import funnel
    >>> t = pd.DataFrame({"school": ["A", "B"], "n": [100, 400], "rate": [0.7, 0.6]})
    >>> fig, ax = plot_funnel(funnel(t, "rate", "school", kind="rate", n="n"))
    >>> len(ax.lines) >= 5
    True
    """
    curve = funnel_curve(result)
    finding = funnel_finding(result, names=names, improvement=improvement)
    shown_title = title if title is not None else finding
    fig, ax = plots.new_axes(ax, title=shown_title)
    target = float(result["target"].iloc[0])
    for tag, style in (("95", "--"), ("998", "-")):
        lab = "95% limits" if tag == "95" else "99.8% limits"
        ns, lo, hi = (curve[c].to_numpy() for c in ("n", f"lower{tag}", f"upper{tag}"))
        ax.plot(ns, lo, style, color=plots.COLOURS["limit"], label=lab)
        ax.plot(ns, hi, style, color=plots.COLOURS["limit"])
    ax.axhline(target, color=plots.COLOURS["centre"], linewidth=1, label="trust average")
    outside = result["outside998"].astype(bool).to_numpy()
    inside = ~outside
    ax.plot(
        result.loc[inside, "n"],
        result.loc[inside, "value"],
        plots.MARKERS["neutral"],
        color=plots.COLOURS["common"],
        markeredgecolor=plots.COLOURS["neutral"],
        linestyle="none",
        label="school",
    )
    above = outside & (result["value"].to_numpy(float) > target)
    for mask, side in ((above, "above"), (outside & ~above, "below")):
        if not mask.any():
            continue
        if improvement in ("up", "down"):
            role = "improving" if (side == "above") == (improvement == "up") else "concerning"
            lab = "better than expected" if role == "improving" else "worse than expected"
        else:
            role, lab = "signal", f"{side} the 99.8% limits"
        ax.plot(
            result.loc[mask, "n"],
            result.loc[mask, "value"],
            plots.MARKERS[role],
            color=plots.COLOURS[role],
            markeredgecolor="black",
            markeredgewidth=0.6,
            markersize=9,
            linestyle="none",
            label=lab,
        )
    if highlight is not None and highlight in set(result["unit"]):
        row = result.loc[result["unit"] == highlight].iloc[0]
        ax.plot(
            [row["n"]],
            [row["value"]],
            "o",
            markersize=14,
            markerfacecolor="none",
            markeredgecolor=plots.COLOURS["centre"],
            markeredgewidth=2,
            linestyle="none",
            label="this school",
        )
    if percent is None:
        percent = is_proportion(result)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_xlabel("number of pupils")
    ax.set_ylabel("percent" if percent else "value")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize=10)
    avg = f"{100 * target:.1f}%" if percent else f"{target:,.2f}"
    alt = f"Funnel plot of {len(result)} schools against the trust average of {avg}. {finding}"
    if title and finding not in title:
        alt = f"{' '.join(title.split())}. " + alt
    if label_outside and outside.any():
        who = _names(result, names).to_numpy()
        _place_labels(
            ax,
            result["n"].to_numpy(float)[outside],
            result["value"].to_numpy(float)[outside],
            who[outside],
        )
    plots.set_alt(fig, alt)
    return fig, ax
