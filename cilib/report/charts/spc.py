"""Drawing of run charts and control charts computed by :func:`cilib.stats.spc.chart`.

Centre line and limits are drawn as steps per phase, phase starts as dotted vertical lines, the
target as a green line, and signal points with a larger diamond in a distinct colour.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cilib.core.errors import DataError
from cilib.report.style import COLOURS, MARKERS, apply_style, new_axes
from cilib.stats.checks import need_columns

__all__ = ["plot", "plot_groups"]


def _phase_segments(result: pd.DataFrame) -> list[np.ndarray]:
    ph = result["phase"].to_numpy()
    return [np.flatnonzero(ph == p) for p in pd.unique(ph)]


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
            label="excluded from limits",
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
            label=("centre" if i == 0 and limits else None),
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
    sig = result["signal"].to_numpy(dtype=bool)
    if sig.any():
        ax.plot(
            x[sig],
            y[sig],
            linestyle="none",
            marker=MARKERS["signal"],
            markersize=9,
            color=COLOURS["signal"],
            markeredgecolor="black",
            zorder=5,
            label="special-cause signal",
        )
    return x


def plot(result: pd.DataFrame, ax=None, *, title: str | None = None, ylabel: str | None = None):
    """Draw a :func:`cilib.stats.spc.chart` (or ``gap_chart``) result and return the Axes.

    Centre line and limits are drawn as steps per phase, phase starts as dotted vertical lines,
    the target as a green line, and signal points with a larger diamond in a distinct colour.
    Excluded points are drawn hollow.

    Parameters
    ----------
    result : DataFrame
        Output of :func:`cilib.stats.spc.chart`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new styled figure is made when omitted.
    title, ylabel : str, optional
        Chart title and y-axis label.

    Returns
    -------
    matplotlib.axes.Axes
    """
    need_columns(
        result,
        ["period", "value", "centre", "lower", "upper", "signal", "phase", "excluded"],
        "chart result",
    )
    _, ax = new_axes(ax, title=title)
    x = _draw(result, ax, colour=COLOURS["neutral"], marker=MARKERS["neutral"], label="value")
    tgt = result["target"].iloc[0] if "target" in result.columns and len(result) else np.nan
    if pd.notna(tgt):
        ax.axhline(float(tgt), color=COLOURS["target"], linewidth=1.5, label="target")
    _ticks(ax, x, result["period"])
    if ylabel:
        ax.set_ylabel(ylabel)
    summary = result.attrs.get("summary")
    if isinstance(summary, Mapping) and summary.get("variation"):
        text = summary["variation"]
        if summary.get("assurance"):
            text += f"; {summary['assurance']}"
        ax.set_xlabel(text, fontsize=9, color=COLOURS["neutral"], loc="left")
    ax.legend(loc="best", fontsize=8)
    return ax


def _ticks(ax, x, periods) -> None:
    labels = [str(p) for p in periods]
    step = max(1, int(np.ceil(len(labels) / 12)))
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
    colour, the second in the comparison colour.

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
    if overlay:
        _, ax = new_axes(ax, title=title)
        for i, (name, res) in enumerate(results.items()):
            role = roles[min(i, 2)]
            x = _draw(res, ax, colour=COLOURS[role], marker=MARKERS[role], label=name, limits=False)
        _ticks(ax, x, res["period"])
        ax.legend(loc="best", fontsize=8)
        return [ax]
    apply_style()
    k = len(results)
    fig, axes = plt.subplots(1, k, figsize=(6 * k, 4.2), sharey=True, squeeze=False)
    axes = list(axes[0])
    for a, (name, res) in zip(axes, results.items(), strict=True):
        plot(res, ax=a, title=name)
    if title:
        fig.suptitle(title, fontweight="bold", x=0.01, ha="left")
    return axes
