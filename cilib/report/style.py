"""One consistent, accessible plot style for every chart in the workbook.

Groups are drawn in Okabe-Ito colours, which stay distinguishable for the common forms of colour
blindness; statistical signals use the NHS Making Data Count colours (blue improving, orange
concerning, grey common cause) and are marked by shape as well as colour, so that no meaning
rests on colour alone.

Every chart carries its alt text, written when the chart is drawn (:func:`set_alt`); a figure
drawn without one gets a description of what it shows (:func:`alt_text`). Charts are saved at
twice their display resolution (:func:`figure_png`), so they stay sharp when zoomed.
"""

from __future__ import annotations

import io
import textwrap

import matplotlib.pyplot as plt

#: Named colours used across the project.
COLOURS: dict[str, str] = {
    "focus": "#D55E00",  # vermillion: the focus group (e.g. disadvantaged pupils)
    "comparison": "#0072B2",  # blue: the comparison group
    "neutral": "#555555",  # grey: all pupils, data points without a group
    "centre": "#333333",  # centre lines and the trust average
    "limit": "#999999",  # control limits
    "target": "#009E73",  # bluish green: targets and trajectories
    # NHS Making Data Count: special cause improving, special cause concerning, common cause
    "improving": "#1F77B4",
    "concerning": "#E37222",
    "common": "#7F7F7F",
    "signal": "#E37222",  # a signal without a direction is drawn as concerning's colour
    "highlight": "#F0E442",
}

#: Marker shapes that carry meaning without colour: improving points are upward triangles,
#: concerning points downward triangles, signals without a direction diamonds.
MARKERS: dict[str, str] = {
    "focus": "o",
    "comparison": "s",
    "signal": "D",
    "neutral": "o",
    "improving": "^",
    "concerning": "v",
}

#: Dots per inch of the saved images: twice the 100 dpi layout, so charts stay sharp when zoomed.
SAVE_DPI = 200
#: Layout resolution: a chart is shown at its pixel width at this dpi.
DISPLAY_DPI = 100

#: Name of the figure attribute that holds a chart's alt text (see :func:`set_alt`).
ALT_ATTRIBUTE = "cilib_alt"


def apply_style() -> None:
    """Set the project's matplotlib style: large readable text, light grid, no chart junk."""
    plt.rcParams.update(
        {
            "figure.figsize": (8, 4.2),
            "figure.dpi": DISPLAY_DPI,
            "savefig.dpi": SAVE_DPI,
            "font.size": 12,
            "axes.titlesize": 13,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.labelsize": 12,
            "xtick.labelsize": 11,
            "ytick.labelsize": 11,
            "legend.fontsize": 10,
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
        ax.set_title(wrap_title(title))
    return fig, ax


def wrap_title(text: str, width: int = 60) -> str:
    r"""Break a long chart title over lines of at most ``width`` characters (at spaces).

    Examples
    --------
    >>> wrap_title("Reading gap narrowed beyond normal variation", width=20)
    'Reading gap narrowed\nbeyond normal\nvariation'
    """
    return "\n".join(textwrap.wrap(str(text), width=width)) or str(text)


def set_alt(fig, text: str) -> None:
    """Attach the chart's alt text (what a reader should conclude) to a figure.

    :func:`cilib.report.html.show` publishes it with the image, and the report template writes
    it into the ``alt`` attribute.
    """
    setattr(fig, ALT_ATTRIBUTE, " ".join(str(text).split()))


def alt_text(fig) -> str:
    """Return a figure's alt text: the one set with :func:`set_alt`, else a description.

    The description names the chart's title(s), axes and legend entries, so no chart reaches a
    report without a text alternative.

    Examples
    --------
    >>> fig, ax = new_axes(title="Attendance")
    >>> _ = ax.plot([1, 2], [3, 4], label="this school")
    >>> _ = ax.set_ylabel("attendance (%)")
    >>> _ = ax.legend()
    >>> alt_text(fig)
    'Chart: Attendance. Vertical axis: attendance (%). Shows: this school.'
    >>> set_alt(fig, "Attendance rose.")
    >>> alt_text(fig)
    'Attendance rose.'
    >>> plt.close(fig)
    """
    given = getattr(fig, ALT_ATTRIBUTE, None)
    if given:
        return given
    parts = []
    sup = fig.get_suptitle()
    titles = [sup] if sup else []
    axis_bits, legend = [], []
    for ax in fig.axes:
        t = " ".join(ax.get_title(loc=where) for where in ("left", "center", "right")).strip()
        if t:
            titles.append(" ".join(t.split()))
        if ax.get_xlabel() and len(axis_bits) < 2:
            axis_bits.append(f"Horizontal axis: {' '.join(ax.get_xlabel().split())}")
        if ax.get_ylabel() and len(axis_bits) < 2:
            axis_bits.append(f"Vertical axis: {' '.join(ax.get_ylabel().split())}")
        leg = ax.get_legend()
        if leg is not None:
            legend += [tx.get_text() for tx in leg.get_texts() if tx.get_text()]
    parts.append("Chart: " + ("; ".join(dict.fromkeys(titles)) or "a figure") + ".")
    parts += [f"{b}." for b in dict.fromkeys(axis_bits)]
    if legend:
        parts.append("Shows: " + ", ".join(dict.fromkeys(legend)) + ".")
    return " ".join(parts)


#: PNG text chunks: none, so a chart's bytes depend on the chart alone (not the library version).
PNG_METADATA: dict[str, str | None] = {"Software": None}


def figure_png(fig) -> tuple[bytes, int]:
    """Return ``(png bytes, display width in px)`` of a figure saved at :data:`SAVE_DPI`.

    The image has twice the pixels of its display width, so it stays sharp when zoomed or
    printed; the report shows it at the display width (and narrower on a small screen).
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=SAVE_DPI, bbox_inches="tight", metadata=PNG_METADATA)
    data = buf.getvalue()
    width_px = int.from_bytes(data[16:20], "big")  # IHDR width
    return data, max(1, round(width_px * DISPLAY_DPI / SAVE_DPI))
