"""Confinement: names used as path parts are checked, and nothing is written outside its root."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest

from cilib.core.errors import ConfigError, DataError
from cilib.core.paths import check_unique, inside, period_slug, safe_name
from cilib.data.config import load_config
from cilib.data.store import write_store
from cilib.run.cli import main

PERIOD = "2024/25 HT1"


@pytest.fixture
def trust(tiny_trust: Path) -> Path:
    """The tiny trust moved one folder down, so its parent is a private root to watch."""
    folder = tiny_trust.parent / "trust"
    folder.mkdir()
    for p in list(tiny_trust.parent.iterdir()):
        if p.is_file():
            p.rename(folder / p.name)
    return folder / "trust.yml"


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _set_calendar(cfg: Path, periods: list[str]) -> None:
    text = cfg.read_text().replace(
        'calendar:\n  academic_years: ["2024/25"]', f"calendar:\n  periods: {periods!r}"
    )
    cfg.write_text(text)


@pytest.mark.parametrize(
    "label",
    ["..", ".", "", "  ", "a/b", "a\\b", "x\x00y", "line\nbreak", ".hidden", "trust", "TRUST",
     "notebooks", "index.html", "manifest.json", "x" * 200],
)
def test_safe_name_refuses_unsafe_labels(label):
    """Each name that could leave its folder or clash with a report is refused, escaped."""
    with pytest.raises(DataError) as err:
        safe_name(label, "school id")
    msg = str(err.value)
    assert "school id" in msg
    assert "\x00" not in msg and "\n" not in msg  # shown escaped
    assert len(msg) < 300


def test_period_slug_keeps_the_folder_names_and_refuses_dots():
    """Period labels keep their folder names; '..' and '.' are refused."""
    assert period_slug("2025/26 HT6") == "2025-26_HT6"
    for bad in ("..", ".", "../x", "a\\b"):
        with pytest.raises(DataError, match="period label"):
            period_slug(bad)


def test_labels_that_share_a_folder_are_an_error():
    """Two labels that slug to one folder (or differ only in case) are refused."""
    with pytest.raises(ConfigError, match="would share the folder"):
        check_unique(["2025/26 HT1", "2025-26 HT1"], "period label", slash="-", error=ConfigError)
    with pytest.raises(DataError, match="would share the folder"):
        check_unique(["NLT01", "nlt01"], "school id")
    assert check_unique(["S1", "S2"], "school id") == {"S1": "S1", "S2": "S2"}


def test_inside_refuses_paths_outside_the_root(tmp_path):
    """inside() passes a child and refuses the root itself, a parent and a sibling."""
    assert inside(tmp_path, tmp_path / "a" / "b") == (tmp_path / "a" / "b").resolve()
    for bad in (tmp_path, tmp_path / "..", tmp_path / "a" / ".." / "..", tmp_path.parent / "x"):
        with pytest.raises(DataError, match="not inside"):
            inside(tmp_path, bad)


@pytest.mark.parametrize("periods", [["2024/25 HT1", ".."], ["2024/25 HT1", "."]])
def test_dot_period_in_calendar_is_refused_and_deletes_nothing(trust, capsys, periods):
    """`cilib validate` and `cilib run` with a '..' or '.' period exit 2 and touch nothing."""
    _set_calendar(trust, periods)
    root = trust.parent.parent
    before = _snapshot(root)
    assert main(["validate", "--config", str(trust), "--quiet"]) == 2
    assert "period label" in capsys.readouterr().err
    code = main(["run", "--config", str(trust), "--period", periods[1],
                 "--output", str(trust.parent / "reports"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("cilib run: error:") and "period label" in err
    assert _snapshot(root) == before


@pytest.mark.parametrize(
    ("school_id", "why"),
    [("../../pwned", "separator"), ("trust", "reserved"), ("..", "starts with"),
     ("S\x01", "control")],
)
def test_hostile_school_id_is_refused(trust, capsys, school_id, why):
    """A school id used as a folder name that would escape or clash: exit 2, nothing written."""
    schools = trust.parent / "schools.csv"
    schools.write_text(schools.read_text().replace("S2,Beta", f"{school_id},Beta"))
    root = trust.parent.parent
    before = _snapshot(root)
    code = main(["run", "--config", str(trust), "--period", PERIOD,
                 "--output", str(trust.parent / "reports"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "school id" in err and why in err
    assert _snapshot(root) == before
    assert not (root / "pwned").exists() and not (trust.parent / "store").exists()


def test_two_period_labels_sharing_a_folder_are_a_config_error(trust):
    """'2024/25 HT1' and '2024-25 HT1' would share one folder: the config is refused."""
    _set_calendar(trust, ["2024/25 HT1", "2024-25 HT1"])
    with pytest.raises(ConfigError, match="would share the folder"):
        load_config(trust)


@pytest.mark.parametrize("key", ["pupils: ../outside/pupils.csv", "directory: ..",
                                 "store: ../elsewhere"])
def test_data_paths_outside_the_trust_folder_need_allow_outside(trust, capsys, key):
    """A data path outside the trust folder is refused unless data.allow_outside is set."""
    outside = trust.parent.parent / "outside"
    outside.mkdir()
    (outside / "pupils.csv").write_bytes((trust.parent / "pupils.csv").read_bytes())
    name = key.split(":")[0]
    text = trust.read_text()
    if name == "pupils":
        text = text.replace("pupils: pupils.csv", key)
    else:
        text = text.replace("data:\n", f"data:\n  {key}\n")
        if name == "directory":
            text = text.replace("  directory: .\n", "")
            folder = trust.parent.name
            for t in ("schools", "pupils", "attendance"):
                text = text.replace(f"{t}: {t}.csv", f"{t}: {folder}/{t}.csv")
    trust.write_text(text)
    assert main(["validate", "--config", str(trust), "--period", PERIOD, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"data.{name}" in err and "allow_outside" in err
    assert not (trust.parent.parent / "elsewhere").exists()
    trust.write_text(text.replace("data:\n", "data:\n  allow_outside: true\n"))
    assert main(["validate", "--config", str(trust), "--period", PERIOD, "--quiet"]) == 0


def test_write_store_refuses_to_replace_a_folder_that_is_not_a_store(tmp_path):
    """The store swap never replaces (and so deletes) a folder of other files."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "pupils.csv").write_text("keep me")
    empty = pd.DataFrame({"a": [1]})
    with pytest.raises(DataError, match="not a cilib store"):
        write_store(folder, {"t": empty}, data_quality=empty, quarantine={},
                    quarantine_summary=empty, meta={})
    assert (folder / "pupils.csv").read_text() == "keep me"
    assert sorted(os.listdir(tmp_path)) == ["data"]


def test_error_messages_show_a_short_escaped_sample():
    """A long or binary label is cut short and escaped in the message."""
    with pytest.raises(DataError) as err:
        safe_name("\x1b[31m" + "A" * 500, "school id")
    msg = str(err.value)
    assert "\x1b" not in msg and "A" * 100 not in msg
    assert re.search(r"'\\x1b\[31mA+…'", msg)


def test_readme_documents_allow_outside():
    """The README's config table documents data.allow_outside."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "allow_outside" in readme
