"""One consistent, accessible plot style for every chart in the workbook.

Colours come from the Okabe-Ito palette, which stays distinguishable for the common forms of
colour blindness; signals are marked by shape as well as colour so that no meaning rests on
colour alone.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

#: Named colours used across the project (Okabe-Ito).
COLOURS: dict[str, str] = {
    "focus": "#D55E00",  # vermillion: the focus group (e.g. disadvantaged pupils)
    "comparison": "#0072B2",  # blue: the comparison group
    "neutral": "#555555",  # grey: all pupils, data points without a group
    "centre": "#333333",  # centre lines
    "limit": "#999999",  # control limits
    "target": "#009E73",  # bluish green: targets and trajectories
    "signal": "#CC79A7",  # reddish purple: special-cause signals (also drawn as a larger marker)
    "improving": "#0072B2",
    "concerning": "#E69F00",
    "highlight": "#F0E442",
}

#: Marker shapes that carry meaning without colour.
MARKERS: dict[str, str] = {"focus": "o", "comparison": "s", "signal": "D", "neutral": "o"}


def apply_style() -> None:
    """Set the project's matplotlib style: large readable text, light grid, no chart junk."""
    plt.rcParams.update(
        {
            "figure.figsize": (8, 4.2),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "font.size": 11,
            "axes.titlesize": 13,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.labelsize": 11,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.color": "#DDDDDD",
            "grid.linewidth": 0.6,
            "legend.frameon": False,
            "lines.linewidth": 1.8,
            "lines.markersize": 5,
        }
    )


def new_axes(ax=None, *, title: str | None = None, figsize: tuple[float, float] | None = None):
    """Return ``(fig, ax)``: the given axes, or a new styled figure with one axes."""
    apply_style()
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    if title:
        ax.set_title(title)
    return fig, ax
