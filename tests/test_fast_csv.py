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


def test_only_clean_utf8_bytes_are_read_by_arrow():
    """UTF-16, binary, non-UTF-8 and lone-CR files are left to the careful reader."""
    from cilib.data.fast_csv import clean_bytes_start

    assert clean_bytes_start(b"a,b\n1,2\n") == 0
    assert clean_bytes_start("\ufeffa,b\r\nZo\u00eb,2\r\n".encode()) == 3
    for data in (
        "a,b\n1,2\n".encode("utf-16"),
        b"PK\x03\x04rest",
        b"a,b\n1,\x002\n",
        b"a,b\nZo\xeb,2\n",  # one cp1252 byte
        b"a,b\r1,2\r",
        b"a,b\r\n1,2\r\r\n",
    ):
        assert clean_bytes_start(data) is None, data


def test_head_of_a_long_file_reaches_enough_lines():
    """The head holds at least 200 lines and 100 non-blank ones, with each line's offset."""
    from cilib.data.fast_csv import text_head

    data = b"\n" * 150 + b"x,y\r\n" * 100_000
    lines, offsets, whole = text_head(data, 0)
    assert not whole and len(lines) >= 250 and lines[150] == "x,y" and lines[0] == ""
    assert all(data[offsets[i] : offsets[i + 1]].rstrip(b"\r\n").decode() == lines[i]
               for i in range(len(lines)))


def test_stripped_looks_at_every_value_of_a_slice():
    """A value with a space or a non-ASCII letter at an edge, or a blank, means "maybe not"."""
    import pandas as pd

    from cilib.data.fast_csv import stripped

    s = pd.Series([" a", "b", "c ", None, "", "\u00e9t\u00e9", "x y"], dtype="str")
    assert [stripped(s.iloc[i : i + 1]) for i in range(len(s))] == [
        False, True, False, True, False, False, True
    ]
    assert stripped(s.iloc[1:2]) and not stripped(s.iloc[1:3]) and stripped(s.iloc[6:])
    assert not stripped(pd.Series(["a", "b"], dtype=object))  # not Arrow strings: no claim


def test_whitespace_only_python_strips_sends_a_file_the_careful_way():
    """Each character Python's strip removes and Arrow's trim keeps sends a file the careful way."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cilib.data import fast_csv

    chars = [chr(c) for c in range(0x3001) if chr(c).isspace()]
    padded = pa.array([f"{c}x{c}" for c in chars], pa.large_string())
    for trim in (pc.utf8_trim_whitespace, pc.ascii_trim_whitespace):
        kept = [c for c, t in zip(chars, trim(padded).to_pylist(), strict=True) if t != "x"]
        for c in kept:
            assert quote_free_body([f"1,{c}x"], ",", 2) is None, repr(c)
            if c.isascii():
                assert c.encode() in fast_csv._ODD_SPACE[:4]
    # characters that share a first byte with those are no reason to go the careful way
    assert quote_free_body(["1,O\u2019Brien \u2013 x", "2,\u3001\u1681"], ",", 2) is not None
