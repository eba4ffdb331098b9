"""Report building blocks: tables with suppression, the data-quality note, changes in words."""

import base64
import hashlib
import re

import pandas as pd

from cilib.report import html as report


def test_suppressed_rows_show_the_symbol_and_footnote():
    """A suppressed row shows x in every value column, and the table carries the footnote."""
    df = pd.DataFrame({"group": ["a", "b"], "n": [40, 3], "value": [51.25, float("nan")],
                       "suppressed": [False, True]})
    shown = report.format_table(df, value_columns=["n", "value"])
    assert shown["value"].tolist() == ["51.2", "x"] and shown["n"].tolist() == ["40", "x"]
    html = report.table(df, threshold=5, value_columns=["n", "value"]).data
    assert "fewer than 5 pupils" in html and ">x<" in html


def test_data_quality_brief_and_full(sample_store):
    """The brief note is one sentence; the full note adds the per-table and per-rule tables."""
    brief = report.data_quality(sample_store, brief=True).data
    full = report.data_quality(sample_store).data
    total = int(sample_store.data_quality["rows_in"].sum())
    assert f"{total:,} rows read" in brief and "<table" not in brief
    assert "Why rows were set aside" in full and full.count("<table") == 2


def test_fmt_change_words():
    """Changes are described with direction and size."""
    assert report.fmt_change(93.4, 92.2) == "up 1.2 points"
    assert report.fmt_change(90.0, 92.5) == "down 2.5 points"
    assert report.fmt_change(float("nan"), 1.0) == "no earlier figure to compare"


HOSTILE = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "javascript:alert(1)"]


def test_table_escapes_every_cell_and_column_name():
    """Hostile text in cells and headers is shown as text; the markup holds no tag of its own."""
    df = pd.DataFrame({"school": HOSTILE, HOSTILE[1]: [1, 2, 3], "suppressed": [False] * 3})
    out = report.table(df, caption=HOSTILE[0], threshold=5).data
    assert "<script" not in out and "<img" not in out
    assert out.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2  # the cell and the caption
    assert out.count("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;") == 2  # a cell and a header
    assert re.sub(r"<(/?)(table|thead|tbody|tr|th|td|p|b)( class=\"[a-z-]+\")?>", "", out).count(
        "<"
    ) == 0


def test_table_markup_has_no_random_ids():
    """The same frame gives the same markup, with no Styler ids (T_xxxxx) in it."""
    df = pd.DataFrame({"group": ["a", "b"], "value": [1.25, 2.5]})
    first, second = report.table(df).data, report.table(df).data
    assert first == second and "id=" not in first and "T_" not in first
    assert '<td class="cilib-text">a</td><td>1.2</td>' in first  # text left, numbers right


def test_hand_built_fragments_escape_values():
    """Header, headlines, notes and the phase modules' own fragments escape every value."""
    from cilib.report.sections import strategic_plan

    assert report.esc(HOSTILE[1]) == "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
    for out in (
        report.headlines(HOSTILE, title=HOSTILE[0]).data,
        report.note(HOSTILE[0]).data,
        strategic_plan.checklist_html(
            pd.DataFrame(
                {"ok": [False], "label": [HOSTILE[0]], "failing": [HOSTILE[1]],
                 "passed": [0], "items": [1]}
            )
        ).data,
    ):
        assert "<script" not in out and "<img" not in out and "&lt;script&gt;" in out
    assert strategic_plan.esc is report.esc  # one escaping function


def test_data_quality_shows_counts_and_meanings_never_row_values(sample_store):
    """The per-rule table shows a rule's meaning, not a row's reason (which quotes its value)."""
    full = report.data_quality(sample_store).data
    examples = sample_store.quarantine_summary["example_reason"]
    # the store's summary keeps the kind of fault with its values masked ('X' is a pupil's SEN
    # code in the sample's dirty rows); quarantine/<table>.csv keeps the full reasons
    joined = " ".join(examples)
    assert "sen '…' is not one of" in joined and "'X'" not in joined
    for reason in examples:
        assert report.esc(reason) not in full, reason
    assert "Meaning" in full and "Example" not in full
    assert report.RULE_MEANINGS["allowed_values"] in full
    assert report.rule_meaning("range; attended_le_possible").count(";") == 1


def test_csp_meta_hashes_inline_scripts_and_forbids_the_rest():
    """No script: script-src 'none'; an inline script is allowed by its SHA-256 hash only."""
    page = "<html><head><title>t</title></head><body><p>x</p></body></html>"
    out = report.add_csp(page)
    assert out.startswith('<html><head><meta http-equiv="Content-Security-Policy"')
    assert "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'none'" in out
    scripted = page.replace("<p>x</p>", "<script>let a = 1;</script>")
    digest = base64.b64encode(hashlib.sha256(b"let a = 1;").digest()).decode()
    assert f"script-src 'sha256-{digest}'" in report.csp_meta(scripted)


def test_png_charts_carry_no_software_chunk():
    """Charts are PNGs whose bytes depend on the chart alone (no library version stamped in)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata=report.PNG_METADATA)
    plt.close(fig)
    assert b"Software" not in buf.getvalue() and b"matplotlib" not in buf.getvalue()


def test_interval_in_one_cell_with_a_true_minus_and_no_negative_zero():
    """An estimate and its 95% interval share one cell; −0.0 never appears."""
    df = pd.DataFrame({"group": ["a", "b"], "gap": [-3.21, -0.04], "gap_ci_low": [-4.3, -1.0],
                       "gap_ci_high": [-2.04, 0.9], "suppressed": [False, False]})
    shown = report.format_table(df)
    assert list(shown.columns) == ["group", "Gap (95% CI)"]
    assert shown["Gap (95% CI)"].tolist() == ["\u22123.2 (\u22124.3 to \u22122.0)",
                                              "0.0 (\u22121.0 to 0.9)"]
    out = report.table(df).data
    assert "-0.0" not in out and "\u22120.0" not in out and "gap_ci_low" not in out


def test_suppressed_interval_shows_only_the_symbol():
    """A suppressed row shows x, not an interval around it."""
    df = pd.DataFrame({"value": [50.0], "ci_low": [40.0], "ci_high": [60.0], "suppressed": [True]})
    assert report.format_table(df)["Value (95% CI)"].tolist() == ["x"]


def test_html_table_labels_headers_values_and_school_names():
    """Code headers and code values read as words; school ids become names."""
    df = pd.DataFrame({"school_id": ["S1"], "status": ["in_progress"], "outside998": [True]})
    out = report.html_table(df, names={"S1": "Ash Primary"})
    assert "<th class=\"cilib-text\">School</th>" in out and "Ash Primary" in out
    assert "In progress" in out and "Beyond 99.8% limits" in out
    assert not re.search(r"\b[a-z0-9]+_[a-z0-9_]+\b", out.replace("cilib-", ""))


def test_fold_puts_items_in_a_details_box_with_alt_text():
    """Folded figures, notes and tables sit inside one <details>; a figure has its title as alt."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.set_title("Attendance <rose>")
    out = report.fold([fig, "a note", pd.DataFrame({"n": [1]})], "More detail").data
    assert out.startswith("<details class='cilib-details'><summary>More detail</summary>")
    assert out.endswith("</details>") and out.count("<details") == 1
    assert "alt='Chart: Attendance &lt;rose&gt;" in out and "data:image/png;base64," in out
    assert "a note" in out and "<table" in out


def test_fmt_number_and_plural():
    """Numbers: rounded, true minus, no negative zero; units singular for one."""
    assert report.fmt_number(-0.04) == "0.0" and report.fmt_number(-1.25, 2) == "\u22121.25"
    assert report.plural(1, "month") == "1 month" and report.plural(2, "month") == "2 months"


def test_fold_each_table_names_the_box_by_its_caption():
    """Tables fold into a box named by their caption; notes stay in view."""
    t = report.table(pd.DataFrame({"n": [1]}), caption="Schools & limits")
    out = report.fold_each_table([t, report.note("kept")])
    assert out[0].data.startswith(
        "<details class='cilib-details'><summary>Schools &amp; limits</summary><p><b>"
    )
    assert out[1].data == "<p class='cilib-note'>kept</p>"
    # a box already folded is not folded again
    box = report.fold([t], "Rule and settings")
    assert report.fold_each_table([box])[0].data == box.data
