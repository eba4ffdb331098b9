"""Fast CSV path: Arrow's parse of a quote-free file equals the line-by-line reader's."""

from cilib.data.fast_csv import quote_free_body


def test_fast_and_line_by_line_reading_agree(tmp_path, monkeypatch):
    """Arrow's parse of a quote-free file gives the same frame as the line-by-line reader."""
    import pandas as pd

    from cilib.data import readers

    text = (
        "pupil_id;school_id;score;name\n"
        "P1; S1 ;12.5;Zoë\n"
        "\n"
        "P2;S1;;  \n"
        ";;;\n"
        "P3;S2; 7 ;Ana María\n"
        "P4;S2;\t8;x\n"
    )
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    fast = readers.read_file(path)
    monkeypatch.setattr(readers, "quote_free_body", lambda *a: None)
    slow = readers.read_file(path)
    pd.testing.assert_frame_equal(fast, slow)
    assert fast["school_id"].tolist() == ["S1", "S1", "S2", "S2"]
    assert fast["_source_row"].tolist() == [1, 2, 3, 4]  # blank and separator-only lines
    assert pd.isna(fast.loc[1, "score"]) and pd.isna(fast.loc[1, "name"])


def test_fast_path_falls_back_on_a_short_line(tmp_path):
    """A line with fewer fields than the header goes the careful way and is padded."""
    from cilib.data import readers

    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n", encoding="utf-8")
    assert quote_free_body(["1,2,3", "4,5"], ",", 3) is None
    df = readers.read_file(path)
    assert df["b"].tolist() == ["2", "5"] and df["c"].isna().tolist() == [False, True]
