"""Tests for cilib.report.charts: control charts and funnel plots drawn from computed results."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd

from cilib.report.charts import spc as spc_charts
from cilib.report.charts.funnel import plot_funnel
from cilib.report.style import COLOURS, MARKERS, alt_text
from cilib.stats import spc
from cilib.stats.funnel import funnel

matplotlib.use("Agg")


def series(values, start=1):
    return pd.DataFrame({"t": range(start, start + len(values)), "y": [float(v) for v in values]})


def test_plot_draws_limits_phases_target_and_signals():
    """plot() marks the high signal (higher is better) as improving: blue upward triangle."""
    res = spc.chart(
        series([1, 3, 1, 3, 100, 10, 12, 10, 12]),
        "y",
        "t",
        kind="xmr",
        options=spc.ChartOptions(phases=[6], exclude=[5], target=5),
    )
    ax = spc_charts.plot(res, title="Test")
    assert ax.get_title(loc="left") == "Test"
    sig_lines = [ln for ln in ax.lines if ln.get_marker() == MARKERS["improving"]]
    assert len(sig_lines) == 1
    assert matplotlib.colors.to_hex(sig_lines[0].get_color()) == COLOURS["improving"].lower()
    assert not [ln for ln in ax.lines if ln.get_marker() == MARKERS["concerning"]]
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
    titles = [x.get_title(loc="left").replace("\n", " ") for x in axes]
    assert titles == [
        "Disadvantaged: no change beyond normal variation",
        "Others: no change beyond normal variation",
    ]
    assert "Disadvantaged: no change beyond normal variation" in alt_text(axes[0].figure)
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


def test_plot_title_and_alt_state_the_finding():
    """A chart drawn without a title is titled with its finding; the alt text says the same."""
    y = [10, 11, 10, 11, 10, 11, 10, 11, 20, 21, 22, 21, 22, 21]
    res = spc.chart(series(y), "y", "t", kind="xmr", options=spc.ChartOptions(baseline=8))
    assert res.attrs["summary"]["variation"] == "special cause improving"
    ax = spc_charts.plot(res, ylabel="Reading score")
    title = ax.get_title(loc="left").replace("\n", " ")
    assert title == "Reading score: improving beyond normal variation"
    alt = alt_text(ax.figure)
    assert "improving beyond normal variation" in alt and "Latest value 21.0 (14)" in alt
    assert [t.get_text() for t in ax.get_legend().get_texts()][0] == "values"
    concerning = spc.chart(
        series(y), "y", "t", kind="xmr", options=spc.ChartOptions(baseline=8, improvement="down")
    )
    ax2 = spc_charts.plot(concerning, title="Given title", label="this school")
    assert ax2.get_title(loc="left") == "Given title"
    assert [ln for ln in ax2.lines if ln.get_marker() == MARKERS["concerning"]]
    assert "getting worse beyond normal variation" in alt_text(ax2.figure)
    assert "this school" in [t.get_text() for t in ax2.get_legend().get_texts()]
    matplotlib.pyplot.close("all")


def test_plot_funnel_names_percent_colours_and_alt():
    """Rates in percent, schools by name, better/worse colours, trust average, finding as alt."""
    t = pd.DataFrame({"s": list("ABCD"), "n": [20, 80, 300, 1000], "r": [0.4, 0.7, 0.6, 0.42]})
    f = funnel(t, "r", "s", kind="rate", n="n")
    names = {"A": "Ash", "B": "Beech", "C": "Cedar", "D": "Damson"}
    fig, ax = plot_funnel(f, names=names, highlight="A", improvement="up")
    assert {a.get_text() for a in ax.texts} == {"Beech", "Cedar", "Damson"}
    fig.canvas.draw()
    ticks = [tk.get_text() for tk in ax.get_yticklabels() if tk.get_text()]
    assert ticks and all(tk.endswith("%") for tk in ticks)
    legend = [tx.get_text() for tx in ax.get_legend().get_texts()]
    assert {"trust average", "school", "this school"} <= set(legend)
    # Cedar (60%) and Beech (70%) lie above the average (higher is better): blue; Damson below
    better = [ln for ln in ax.lines if ln.get_marker() == MARKERS["improving"]][0]
    worse = [ln for ln in ax.lines if ln.get_marker() == MARKERS["concerning"]][0]
    assert matplotlib.colors.to_hex(better.get_color()) == COLOURS["improving"].lower()
    assert sorted(better.get_ydata()) == [0.6, 0.7] and list(worse.get_ydata()) == [0.42]
    alt = alt_text(fig)
    assert "3 of 4 schools lie outside" in alt and "Damson below (worse than expected)" in alt
    assert ax.get_title(loc="left").replace("\n", " ").startswith("3 of 4 schools lie outside")
    matplotlib.pyplot.close("all")


def test_funnel_labels_do_not_overlap():
    """Labels of outlying schools with almost the same value are moved apart."""
    n = np.array([50, 52, 54, 56, 400, 400, 400, 400, 400, 400])
    r = np.array([0.99, 0.985, 0.98, 0.975, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    f = funnel(
        pd.DataFrame({"u": [f"School {i}" for i in range(10)], "n": n, "r": r}),
        "r",
        "u",
        kind="rate",
        n="n",
    )
    assert int(f["outside998"].sum()) == 4
    fig, ax = plot_funnel(f)
    fig.canvas.draw()
    boxes = [a.get_window_extent() for a in ax.texts]
    assert len(boxes) == 4
    for i in range(4):
        for j in range(i + 1, 4):
            assert not boxes[i].overlaps(boxes[j])
    matplotlib.pyplot.close("all")


def test_alt_text_describes_a_chart_without_one():
    """A figure drawn without alt text gets one from its title, axes and legend."""
    from cilib.report.style import new_axes

    fig, ax = new_axes(title="Attendance over time")
    ax.plot([1, 2], [3, 4], label="lowest school")
    ax.set_xlabel("half-term")
    ax.legend()
    assert alt_text(fig) == (
        "Chart: Attendance over time. Horizontal axis: half-term. Shows: lowest school."
    )
    matplotlib.pyplot.close("all")
