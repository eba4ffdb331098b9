"""Tests for cilib.report.charts: control charts and funnel plots drawn from computed results."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd

from cilib.report.charts import spc as spc_charts
from cilib.report.charts.funnel import plot_funnel
from cilib.report.style import COLOURS, MARKERS
from cilib.stats import spc
from cilib.stats.funnel import funnel

matplotlib.use("Agg")


def series(values, start=1):
    return pd.DataFrame({"t": range(start, start + len(values)), "y": [float(v) for v in values]})


def test_plot_draws_limits_phases_target_and_signals():
    """plot() returns Axes with signal points in the signal colour and diamond marker."""
    res = spc.chart(
        series([1, 3, 1, 3, 100, 10, 12, 10, 12]),
        "y",
        "t",
        kind="xmr",
        options=spc.ChartOptions(phases=[6], exclude=[5], target=5),
    )
    ax = spc_charts.plot(res, title="Test")
    assert ax.get_title(loc="left") == "Test"
    sig_lines = [ln for ln in ax.lines if ln.get_marker() == MARKERS["signal"]]
    assert len(sig_lines) == 1
    assert matplotlib.colors.to_hex(sig_lines[0].get_color()) == COLOURS["signal"].lower()
    assert list(sig_lines[0].get_xdata()) == [4]
    # phase separator at 4.5, target line at 5
    xs = [ln.get_xdata() for ln in ax.lines]
    assert any(len(x) == 2 and x[0] == 4.5 and x[1] == 4.5 for x in xs)
    assert any(list(ln.get_ydata()) == [5, 5] for ln in ax.lines)
    assert len(ax.patches) >= 6  # centre, lower and upper steps in each of two phases
    matplotlib.pyplot.close("all")


def test_plot_run_chart_and_groups():
    """Run charts plot without limits; plot_groups gives two panels or one overlaid Axes."""
    a = spc.chart(series([1, 2, 3, 2, 1, 2]), "y", "t")
    b = spc.chart(series([3, 4, 5, 4, 3, 4]), "y", "t")
    ax = spc_charts.plot(a)
    assert len(ax.patches) == 1  # centre line only
    axes = spc_charts.plot_groups({"Disadvantaged": a, "Others": b})
    assert [x.get_title(loc="left") for x in axes] == ["Disadvantaged", "Others"]
    fig, ax2 = matplotlib.pyplot.subplots()
    (over,) = spc_charts.plot_groups({"Disadvantaged": a, "Others": b}, ax=ax2)
    colours = {matplotlib.colors.to_hex(ln.get_color()) for ln in over.lines}
    assert {COLOURS["focus"].lower(), COLOURS["comparison"].lower()} <= colours
    matplotlib.pyplot.close("all")


def test_plot_funnel_draws_limits_and_flags():
    """The plot has limit curves, a target line and the outlying unit labelled."""
    t = pd.DataFrame({"s": list("ABCD"), "n": [20, 80, 300, 1000], "r": [0.4, 0.7, 0.6, 0.42]})
    fig, ax = plot_funnel(funnel(t, "r", "s", kind="rate", n="n"))
    assert len(ax.lines) >= 6
    assert {a.get_text() for a in ax.texts} == {"B", "C", "D"}


def test_plot_funnel_draws_the_widened_limits_of_an_overdispersed_funnel():
    """With overdispersion the drawn 99.8% curve passes through each unit's widened limit."""
    n = np.array([40, 60, 80, 100, 120, 150, 200, 250, 300, 400])
    r = np.array([0.30, 0.75, 0.45, 0.70, 0.50, 0.62, 0.48, 0.66, 0.55, 0.58])
    out = funnel(
        pd.DataFrame({"u": range(10), "n": n, "r": r}),
        "r",
        "u",
        kind="rate",
        n="n",
        overdispersion=True,
    )
    assert out["tau2"].iloc[0] > 0
    fig, ax = plot_funnel(out)
    curve = ax.lines[3]  # 99.8% upper limit, drawn over a grid of n
    drawn = np.interp(out["n"], curve.get_xdata(), curve.get_ydata())
    assert np.max(np.abs(drawn - out["upper998"])) < 1e-3
    matplotlib.pyplot.close("all")
