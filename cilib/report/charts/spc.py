"""Drawing of run charts and control charts computed by :func:`cilib.stats.spc.chart`.

Centre line and limits are drawn as steps per phase, phase starts as dotted vertical lines, the
target as a green line. Points are grey (common cause) and signal points are drawn in the NHS
Making Data Count colours: blue upward triangles where the signal is an improvement, orange
downward triangles where it is a concern, orange diamonds where it has no direction. The title
states the chart's finding unless the caller gives one, and the figure carries alt text that
says the same (:func:`cilib.report.style.set_alt`).
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cilib.core.errors import DataError
from cilib.report.style import COLOURS, MARKERS, apply_style, new_axes, set_alt, wrap_title
from cilib.stats.checks import need_columns
from cilib.stats.run_rules import (
    ASSURE_CHANCE,
    ASSURE_FAIL,
    ASSURE_PASS,
    VAR_COMMON,
    VAR_CONCERNING,
    VAR_IMPROVING,
    VAR_NEITHER,
)

__all__ = ["chart_alt", "plot", "plot_groups", "verdict", "verdict_title"]

#: Plain-English finding for each Making Data Count variation label.
VERDICTS: dict[str, str] = {
    VAR_IMPROVING: "improving beyond normal variation",
    VAR_CONCERNING: "getting worse beyond normal variation",
    VAR_NEITHER: "an unusual pattern, neither better nor worse",
    VAR_COMMON: "no change beyond normal variation",
}
#: Plain-English meaning of each assurance label.
ASSURANCE: dict[str, str] = {
    ASSURE_CHANCE: "the target will be met only by chance",
    ASSURE_PASS: "the target is met consistently",
    ASSURE_FAIL: "the target will be missed unless something changes",
}


def _phase_segments(result: pd.DataFrame) -> list[np.ndarray]:
    ph = result["phase"].to_numpy()
    return [np.flatnonzero(ph == p) for p in pd.unique(ph)]


def _summary(result: pd.DataFrame) -> Mapping:
    s = result.attrs.get("summary")
    return s if isinstance(s, Mapping) else {}


def _signal_roles(result: pd.DataFrame) -> np.ndarray:
    """Per point: ``"improving"``, ``"concerning"``, ``"signal"`` (no direction) or ``""``."""
    sig = result["signal"].to_numpy(dtype=bool)
    up = _summary(result).get("improvement", "up") == "up"
    side = np.sign(result["value"].to_numpy(float) - result["centre"].to_numpy(float))
    good = side > 0 if up else side < 0
    bad = side < 0 if up else side > 0
    role = np.where(good, "improving", np.where(bad, "concerning", "signal"))
    return np.where(sig, role, "")


SIGNAL_LABELS = {
    "improving": "improving signal",
    "concerning": "concerning signal",
    "signal": "unusual point (no direction)",
}


def _draw(result: pd.DataFrame, ax, *, colour: str, marker: str, label: str | None, limits=True):
    x = np.arange(len(result))
    y = result["value"].to_numpy(dtype=float)
    ax.plot(x, y, color=colour, marker=marker, label=label, zorder=3)
    exc = result["excluded"].to_numpy(dtype=bool)
    if exc.any():
        ax.plot(
            x[exc],
            y[exc],
            linestyle="none",
            marker=marker,
            markerfacecolor="white",
            markeredgecolor=colour,
            zorder=4,
            label="left out of the limits",
        )
    for i, seg in enumerate(_phase_segments(result)):
        xs = np.r_[x[seg] - 0.5, x[seg][-1] + 0.5]
        cen = result["centre"].to_numpy(dtype=float)[seg]
        ax.stairs(
            cen,
            xs,
            baseline=None,
            color=COLOURS["centre"] if limits else colour,
            linewidth=1.2,
            linestyle="-" if limits else "--",
            label=("average" if i == 0 and limits else None),
        )
        if limits:
            for col in ("lower", "upper"):
                v = result[col].to_numpy(dtype=float)[seg]
                if np.isfinite(v).any():
                    ax.stairs(
                        v,
                        xs,
                        baseline=None,
                        color=COLOURS["limit"],
                        linestyle="--",
                        linewidth=1.2,
                        label=("control limits" if i == 0 and col == "lower" else None),
                    )
        if i > 0:
            ax.axvline(x[seg][0] - 0.5, color=COLOURS["neutral"], linestyle=":", linewidth=1.2)
    roles = _signal_roles(result)
    for role in ("improving", "concerning", "signal"):
        pick = roles == role
        if pick.any():
            ax.plot(
                x[pick],
                y[pick],
                linestyle="none",
                marker=MARKERS[role],
                markersize=10,
                color=COLOURS[role],
                markeredgecolor="black",
                markeredgewidth=0.6,
                zorder=5,
                label=SIGNAL_LABELS[role],
            )
    return x


def verdict(result: pd.DataFrame) -> str:
    """Return the chart's finding in plain English, e.g. ``"improving beyond normal variation"``.

    Read from the chart's summary (``result.attrs["summary"]``): the Making Data Count variation
    label, then whether the target will be met, when the chart has one.

    Examples
    --------
    >>> from cilib.stats import spc
    >>> t = pd.DataFrame({"t": range(1, 11), "y": [5.0, 6, 5, 6, 5, 6, 5, 6, 5, 6]})
    >>> verdict(spc.chart(t, "y", "t", kind="xmr"))
    'no change beyond normal variation'
    """
    s = _summary(result)
    text = VERDICTS.get(s.get("variation", ""), "")
    assure = ASSURANCE.get(s.get("assurance") or "", "")
    if assure:
        text = f"{text}; {assure}" if text else assure
    return text


def verdict_title(result: pd.DataFrame, measure: str | None = None) -> str:
    """Return a title that states the finding, e.g. ``"Score: improving beyond normal variation"``.

    Examples
    --------
    >>> from cilib.stats import spc
    >>> t = pd.DataFrame({"t": range(1, 11), "y": [5.0, 6, 5, 6, 5, 6, 5, 6, 5, 6]})
    >>> verdict_title(spc.chart(t, "y", "t", kind="xmr"), "Score")
    'Score: no change beyond normal variation'
    """
    v = verdict(result)
    what = measure or "Values"
    return f"{what}: {v}" if v else what


def _fmt(v: float) -> str:
    return f"{v:,.1f}" if np.isfinite(v) else "not available"


def chart_alt(result: pd.DataFrame, *, title: str | None = None, measure: str | None = None) -> str:
    """Return alt text that states the chart's finding and its latest figures.

    Examples
    --------
    >>> from cilib.stats import spc
    >>> t = pd.DataFrame({"t": range(1, 11), "y": [5.0, 6, 5, 6, 5, 6, 5, 6, 5, 6]})
    >>> chart_alt(spc.chart(t, "y", "t", kind="xmr"), measure="Score")[:60]
    'Control chart of Score over 10 periods, 1 to 10: no change b'
    """
    s = _summary(result)
    kind = "Run chart" if s.get("kind") == "run" else "Control chart"
    periods = [str(p) for p in result["period"]]
    what = measure or "the measure"
    head = f"{kind} of {what} over {len(periods)} periods"
    if periods:
        head += f", {periods[0]} to {periods[-1]}"
    v = verdict(result)
    parts = [head + (f": {v}." if v else ".")]
    if title and title.strip() and v not in title:
        parts.insert(0, f"{' '.join(title.split())}.")
    vals = result["value"].to_numpy(dtype=float)
    ok = np.flatnonzero(np.isfinite(vals))
    if len(ok):
        i = ok[-1]
        centre = float(result["centre"].iloc[i])
        latest = f"Latest value {_fmt(vals[i])} ({periods[i]}), average {_fmt(centre)}"
        lo, hi = float(result["lower"].iloc[i]), float(result["upper"].iloc[i])
        if np.isfinite(lo) and np.isfinite(hi):
            latest += f", control limits {_fmt(lo)} to {_fmt(hi)}"
        parts.append(latest + ".")
    roles = _signal_roles(result)
    n_good, n_bad = int((roles == "improving").sum()), int((roles == "concerning").sum())
    if n_good or n_bad:
        parts.append(f"{n_good} improving and {n_bad} concerning signal points.")
    return " ".join(parts)


def plot(
    result: pd.DataFrame,
    ax=None,
    *,
    title: str | None = None,
    ylabel: str | None = None,
    label: str = "values",
):
    """Draw a :func:`cilib.stats.spc.chart` (or ``gap_chart``) result and return the Axes.

    Centre line ("average") and limits are drawn as steps per phase, phase starts as dotted
    vertical lines, the target as a green line; signal points in the Making Data Count colours
    (blue improving, orange concerning) with a shape of their own. Excluded points are drawn
    hollow. The legend sits below the chart, so it never covers a point.

    Parameters
    ----------
    result : DataFrame
        Output of :func:`cilib.stats.spc.chart`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new styled figure is made when omitted.
    title : str, optional
        Chart title; by default the finding (:func:`verdict_title`).
    ylabel : str, optional
        The y-axis label (also names the measure in the default title and the alt text).
    label : str
        Legend entry of the plotted values, e.g. ``"this school"``.

    Returns
    -------
    matplotlib.axes.Axes
        Its figure carries the chart's alt text (:func:`chart_alt`).
    """
    need_columns(
        result,
        ["period", "value", "centre", "lower", "upper", "signal", "phase", "excluded"],
        "chart result",
    )
    shown_title = title if title is not None else verdict_title(result, ylabel)
    fig, ax = new_axes(ax, title=shown_title)
    x = _draw(result, ax, colour=COLOURS["common"], marker=MARKERS["neutral"], label=label)
    tgt = result["target"].iloc[0] if "target" in result.columns and len(result) else np.nan
    if pd.notna(tgt):
        ax.axhline(float(tgt), color=COLOURS["target"], linewidth=1.5, label="target")
    _ticks(ax, x, result["period"])
    if ylabel:
        ax.set_ylabel(ylabel)
    _legend_below(ax)
    set_alt(fig, chart_alt(result, title=shown_title, measure=ylabel))
    return ax


def _legend_below(ax) -> None:
    """Put the legend under the axes, clear of the (possibly slanted) period labels."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        slanted = any(t.get_rotation() for t in ax.get_xticklabels())
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.34 if slanted else -0.14),
            ncol=min(3, len(handles)),
            fontsize=10,
        )


def _ticks(ax, x, periods) -> None:
    labels = [str(p) for p in periods]
    step = max(1, int(np.ceil(len(labels) / 8)))
    ax.set_xticks(x[::step])
    ax.set_xticklabels(
        labels[::step],
        rotation=45 if len(labels) > 6 else 0,
        ha="right" if len(labels) > 6 else "center",
    )


def plot_groups(
    results: Mapping[str, pd.DataFrame],
    ax=None,
    *,
    title: str | None = None,
    overlay: bool | None = None,
):
    """Draw the focus and comparison group charts on one figure.

    Two (or more) panels sharing the y axis, one full chart per group, or, when ``ax`` is given
    or ``overlay=True``, the groups overlaid on one Axes (values and centre lines in each group's
    colour; limits are left out so the lines stay readable). The first group is drawn in the focus
    colour, the second in the comparison colour. Each panel's title gives the group and its
    finding; the figure's alt text states every group's finding.

    Parameters
    ----------
    results : dict of str to DataFrame
        Group name to the output of :func:`cilib.stats.spc.chart`, in the order focus, comparison.
    ax : matplotlib Axes, optional
        Draw overlaid on this Axes.
    title : str, optional
        Figure title.
    overlay : bool, optional
        Force the overlaid (True) or panel (False) layout.

    Returns
    -------
    list of matplotlib.axes.Axes
    """
    if not results:
        raise DataError("plot_groups needs at least one chart in results")
    if overlay is None:
        overlay = ax is not None
    roles = ["focus", "comparison", "neutral"]
    alt = [f"{' '.join(title.split())}." if title else ""]
    alt += [f"{name}: {verdict(res) or 'no finding'}." for name, res in results.items()]
    if overlay:
        fig, ax = new_axes(ax, title=title)
        for i, (name, res) in enumerate(results.items()):
            role = roles[min(i, 2)]
            x = _draw(res, ax, colour=COLOURS[role], marker=MARKERS[role], label=name, limits=False)
        _ticks(ax, x, res["period"])
        _legend_below(ax)
        set_alt(fig, "Chart of the groups over time. " + " ".join(alt))
        return [ax]
    apply_style()
    k = len(results)
    fig, axes = plt.subplots(1, k, figsize=(6 * k, 5.2), sharey=True, squeeze=False)
    axes = list(axes[0])
    legend: dict[str, object] = {}
    for a, (name, res) in zip(axes, results.items(), strict=True):
        plot(res, ax=a, title=name, label="values")
        v = verdict(res)
        if v:
            a.set_title(wrap_title(f"{name}: {v}", width=40), fontsize=11)
        for h, lab in zip(*a.get_legend_handles_labels(), strict=True):
            legend.setdefault(lab, h)
        a.get_legend().remove()
    # one legend for the figure, under the panels, so that the panels' legends never collide
    fig.legend(
        list(legend.values()),
        list(legend),
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=min(4, len(legend)),
        fontsize=10,
    )
    fig.subplots_adjust(bottom=0.36, top=0.78 if title else 0.86, wspace=0.08)
    if title:
        fig.suptitle(wrap_title(title, width=90), fontweight="bold", x=0.01, y=0.99, ha="left")
    set_alt(fig, "Control charts, one per group. " + " ".join(a for a in alt if a))
    return axes
