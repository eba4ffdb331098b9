"""Published benchmarks in the report: each school's disadvantaged gap beside its LA and England.

The prepare step writes ``benchmarks.parquet`` into the store
(:func:`cilib.data.benchmarks.prepare_benchmarks`); :func:`benchmark_section` reads the store
only and shows, per key stage, a table and a chart of the department's published gaps. A figure
the department did not publish keeps its code (``SUPP``, ``NP``...) as the reason and is never
shown as zero.
"""

from __future__ import annotations

import pandas as pd

from cilib.data.benchmarks import HEADLINES, NOT_FOUND, read_benchmarks
from cilib.report.html import esc, note, raw_html, table
from cilib.report.style import COLOURS, new_axes

#: What the department's codes mean (school performance tables guidance).
STATUS_MEANINGS: dict[str, str] = {
    "SUPP": "suppressed: too few pupils to publish",
    "NP": "not published",
    "NE": "no pupils entered",
    "NA": "not applicable",
    "LOWCOV": "low coverage of results",
    "NEW": "new school",
}


def _fmt(value: float, status: str, digits: int = 1) -> str:
    """Return a figure as text, or the department's code where it published none."""
    if pd.notna(value):
        return f"{value:+.{digits}f}" if status == "gap" else f"{value:.{digits}f}"
    return status or "not published"


def _gap_status(row: pd.Series) -> str:
    codes = [c for c in (row["disadvantaged_status"], row["other_status"]) if c]
    return ", ".join(dict.fromkeys(codes)) if codes else "not published"


def display_table(bench: pd.DataFrame, names: dict[str, str] | None = None) -> pd.DataFrame:
    """Text table for the report: figures to one decimal, codes in place of missing figures.

    Examples
    --------
    >>> b = pd.DataFrame({"school_id": ["A"], "year": ["2017/18"], "key_stage": ["KS2"],
    ...     "disadvantaged": [float("nan")], "other": [70.0], "gap": [float("nan")],
    ...     "disadvantaged_status": ["SUPP"], "other_status": [""], "la_gap": [-24.0],
    ...     "england_gap": [-19.0]})
    >>> display_table(b).iloc[0].tolist()
    ['A', '2017/18', 'SUPP', '70.0', 'SUPP', '-24.0', '-19.0']
    """
    names = names or {}
    rows = []
    for _, r in bench.iterrows():
        gap = r["gap"]
        rows.append(
            {
                "School": names.get(r["school_id"], r["school_id"]),
                "Year": r["year"],
                "Disadvantaged": _fmt(r["disadvantaged"], r["disadvantaged_status"]),
                "Other pupils": _fmt(r["other"], r["other_status"]),
                "Gap": _fmt(gap, "gap") if pd.notna(gap) else _gap_status(r),
                "LA gap": _fmt(r["la_gap"], "gap") if pd.notna(r["la_gap"]) else "not published",
                "England gap": _fmt(r["england_gap"], "gap")
                if pd.notna(r["england_gap"])
                else "not published",
            }
        )
    return pd.DataFrame(
        rows,
        columns=["School", "Year", "Disadvantaged", "Other pupils", "Gap", "LA gap", "England gap"],
    ).astype("str")


def plot_benchmarks(bench: pd.DataFrame, *, key_stage: str, names: dict[str, str] | None = None):
    """Chart each school's published gap by year with its LA's and England's gap.

    A year the department did not publish is a break in the school's line, never a zero.
    """
    names = names or {}
    stem, what, unit = HEADLINES[key_stage]
    years = sorted(bench["year"].unique())
    x = {y: i for i, y in enumerate(years)}
    fig, ax = new_axes(title=f"{key_stage} disadvantaged gap: {what}", figsize=(8, 4.2))
    palette = ["#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
    for i, (sid, b) in enumerate(bench.groupby("school_id", sort=True)):
        b = b.sort_values("year")
        ax.plot(
            [x[y] for y in b["year"]],
            b["gap"],
            marker="o",
            color=palette[i % len(palette)],
            label=names.get(sid, sid),
        )
    for la, b in bench.groupby("la", sort=True):
        b = b.drop_duplicates("year").sort_values("year")
        ax.plot(
            [x[y] for y in b["year"]],
            b["la_gap"],
            linestyle="--",
            color=COLOURS["limit"],
            marker="s",
            markersize=4,
            label=f"LA {la}",
        )
    e = bench.drop_duplicates("year").sort_values("year")
    ax.plot(
        [x[y] for y in e["year"]],
        e["england_gap"],
        linestyle=":",
        color=COLOURS["centre"],
        marker="^",
        markersize=4,
        label="England (state-funded)",
    )
    ax.axhline(0, color=COLOURS["neutral"], linewidth=0.8)
    ax.set_xticks(range(len(years)), years)
    ax.set_ylabel(f"Gap ({unit})")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


#: The section's heading and introduction, for one school and for the whole trust.
INTRO = {
    "school": (
        "Published benchmarks: how does our disadvantaged gap compare?",
        "The department's published gap for disadvantaged pupils (KS2 reading, writing and "
        "maths at the expected standard; KS4 Attainment 8) year by year, beside the local "
        "authority's and England's.",
    ),
    "trust": (
        "Published benchmarks: how do our schools' disadvantaged gaps compare?",
        "The department's published gap for disadvantaged pupils (KS2 reading, writing and "
        "maths at the expected standard; KS4 Attainment 8) for each school, year by year, "
        "beside the local authority's and England's.",
    ),
}
#: The one line shown instead of the section when the trust has no published figures.
NO_BENCHMARKS = (
    "Published benchmarks are not shown: the trust config names no published data files "
    "(see 'Published benchmarks' in docs/own-data.md to add them)."
)


def benchmark_section(store, school_id: str | None = None) -> list:
    """Show published disadvantaged gaps beside the LA and England figures, by year.

    For one school, or every school of the trust that has a URN (``school_id=None``): a heading
    and introduction, per key stage a table (figures, codes shown as the reason) and a small
    chart, then a note on what the figures are. When the store has no ``benchmarks.parquet``,
    the whole section is one line saying why (:data:`NO_BENCHMARKS`), with no heading.
    """
    bench = read_benchmarks(store)
    if bench is None:
        return [note(NO_BENCHMARKS)]
    title, intro = INTRO["trust" if school_id is None else "school"]
    head = raw_html(f"<h2>{esc(title)}</h2><p>{esc(intro)}</p>")
    names = {s["school_id"]: s["school_name"] for s in store.meta.get("schools", [])}
    if school_id is not None:
        bench = bench.loc[bench["school_id"] == school_id]
        if not len(bench):
            return [
                head,
                note(
                    f"{names.get(school_id, school_id)} has no URN in the trust config or "
                    "schools table, so no published benchmark is shown."
                )
            ]
    out = [head]
    absent = bench.loc[bench["status"] == NOT_FOUND]
    found = bench.loc[bench["status"] != NOT_FOUND]
    for ks in ("KS2", "KS4"):
        b = found.loc[found["key_stage"] == ks]
        if not len(b):
            continue
        stem, what, unit = HEADLINES[ks]
        out.append(
            table(
                display_table(b, names),
                caption=f"{ks} {what}: disadvantaged minus other pupils ({unit}), "
                "published by the Department for Education",
            )
        )
        out.append(plot_benchmarks(b, key_stage=ks, names=names))
    if len(absent):
        listed = ", ".join(
            f"{names.get(r.school_id, r.school_id)} (URN {r.urn})" for r in absent.itertuples()
        )
        out.append(
            note(
                f"No published figures found for {listed}: check the URN and the years "
                "of the files.",
                warn=True,
            )
        )
    codes = sorted(
        {c for c in pd.concat([found["disadvantaged_status"], found["other_status"]]) if c}
    )
    meaning = "; ".join(
        f"{c} = {STATUS_MEANINGS.get(c, 'code used by the department')}" for c in codes
    )
    out.append(
        note(
            "These are the department's published school performance tables, not the trust's own "
            "data: the gap is disadvantaged pupils' figure minus other pupils' (negative means "
            "disadvantaged pupils are behind). The LA and England (state-funded schools) rows are "
            "the department's own totals, not averages of the school rows. Where the department "
            "published no figure its code is shown as the reason, never a zero"
            + (f" ({meaning})." if meaning else ".")
        )
    )
    return out


__all__ = [
    "STATUS_MEANINGS",
    "benchmark_section",
    "display_table",
    "plot_benchmarks",
]
