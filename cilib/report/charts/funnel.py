"""Funnel plot drawing: a :func:`cilib.stats.funnel.funnel` result in the project style."""

from __future__ import annotations

import pandas as pd

from cilib.report import style as plots
from cilib.stats.funnel import funnel_curve


def plot_funnel(result: pd.DataFrame, ax=None, *, title: str | None = None, label_outside=True):
    """Draw a funnel plot from :func:`cilib.stats.funnel.funnel` output with the project style.

    Limits are drawn as smooth curves over the range of n (dashed 95%, solid 99.8%;
    :func:`cilib.stats.funnel.funnel_curve`); units outside the 99.8% limits are drawn as larger
    diamonds in the signal colour and labelled.

    Returns
    -------
    tuple
        ``(fig, ax)``.

    Examples
    --------
    >>> from cilib.stats.funnel import funnel
    >>> t = pd.DataFrame({"school": ["A", "B"], "n": [100, 400], "rate": [0.7, 0.6]})
    >>> fig, ax = plot_funnel(funnel(t, "rate", "school", kind="rate", n="n"))
    >>> len(ax.lines) >= 5
    True
    """
    curve = funnel_curve(result)
    fig, ax = plots.new_axes(ax, title=title)
    target = float(result["target"].iloc[0])
    for tag, style in (("95", "--"), ("998", "-")):
        lab = "95% limits" if tag == "95" else "99.8% limits"
        ns, lo, hi = (curve[c].to_numpy() for c in ("n", f"lower{tag}", f"upper{tag}"))
        ax.plot(ns, lo, style, color=plots.COLOURS["limit"], label=lab)
        ax.plot(ns, hi, style, color=plots.COLOURS["limit"])
    ax.axhline(target, color=plots.COLOURS["centre"], linewidth=1, label="target")
    inside = ~result["outside998"].astype(bool)
    ax.plot(
        result.loc[inside, "n"],
        result.loc[inside, "value"],
        plots.MARKERS["neutral"],
        color=plots.COLOURS["neutral"],
        linestyle="none",
        label="unit",
    )
    if (~inside).any():
        ax.plot(
            result.loc[~inside, "n"],
            result.loc[~inside, "value"],
            plots.MARKERS["signal"],
            color=plots.COLOURS["signal"],
            markersize=8,
            linestyle="none",
            label="outside 99.8%",
        )
        if label_outside:
            for _, r in result[~inside].iterrows():
                ax.annotate(
                    str(r["unit"]),
                    (r["n"], r["value"]),
                    fontsize=8,
                    xytext=(3, 3),
                    textcoords="offset points",
                )
    ax.set_xlabel("number of pupils (n)")
    ax.set_ylabel("value")
    ax.legend()
    return fig, ax
