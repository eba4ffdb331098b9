"""The command line: help, and errors a user can cause give one clear message and no traceback."""

import subprocess
import sys

import pytest

from cilib.run.cli import main
from tests.conftest import TINY_CONFIG, write_config


@pytest.mark.parametrize("cmd", [[], ["run"], ["validate"], ["sample"]])
def test_help(cmd, capsys):
    """Each command has --help describing its options."""
    with pytest.raises(SystemExit) as e:
        main(cmd + ["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "usage: cilib" in out
    if cmd == ["run"]:
        for opt in ("--config", "--period", "--schools", "--notebooks", "--jobs", "--output"):
            assert opt in out


def _err(args, capsys):
    code = main(args)
    err = capsys.readouterr().err
    return code, err


def test_missing_config_file(tmp_path, capsys):
    """A missing config exits 2 with one line naming the file."""
    code, err = _err(["validate", "--config", str(tmp_path / "none.yml")], capsys)
    assert code == 2
    assert "Config file not found" in err and "Traceback" not in err


def test_bad_yaml(tmp_path, capsys):
    """Bad YAML exits 2 naming the line."""
    p = tmp_path / "t.yml"
    p.write_text("name: [oops\n")
    code, err = _err(["validate", "--config", str(p)], capsys)
    assert code == 2 and "not valid YAML at line" in err


def test_unknown_config_key(tmp_path, capsys):
    """An unknown key exits 2 naming the key."""
    p = write_config(tmp_path, TINY_CONFIG + "colour: blue\n")
    code, err = _err(["validate", "--config", str(p)], capsys)
    assert code == 2 and "unknown key 'colour'" in err


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize(
    "section, key",
    [
        ("decision_rule:\n  small_efect: 0.2\n", "decision_rule.small_efect"),
        ("benchmarks:\n  performance_table: dfe\n", "benchmarks.performance_table"),
        ("mappings:\n  pupils:\n    derive:\n      x: {tempalte: '{a}'}\n",
         "mappings.pupils.derive.x.tempalte"),
    ],
)
def test_misspelt_nested_key_exits_2_before_any_work(tmp_path, capsys, command, section, key):
    """A typo inside decision_rule, benchmarks or mappings exits 2 naming the key, no work done."""
    p = write_config(tmp_path, TINY_CONFIG + section)
    args = [command, "--config", str(p)] + (["--period", "2024/25 HT1"] if command == "run" else [])
    code, err = _err(args, capsys)
    assert code == 2 and f"unknown key '{key}'" in err and "Traceback" not in err
    assert not (tmp_path / "store").exists() and not (tmp_path / "reports").exists()


def test_period_not_in_calendar(tiny_trust, capsys):
    """A period outside the calendar exits 2 before any work."""
    code, err = _err(["run", "--config", str(tiny_trust), "--period", "1999/00 HT1"], capsys)
    assert code == 2 and "not in the calendar" in err


def test_unknown_notebook(tiny_trust, capsys):
    """An unknown notebook name exits 2 listing the notebooks."""
    code, err = _err(
        [
            "run",
            "--config",
            str(tiny_trust),
            "--period",
            "2024/25 HT1",
            "--notebooks",
            "99_nothing",
        ],
        capsys,
    )
    assert code == 2 and "Unknown notebook '99_nothing'" in err


def test_unknown_school(tiny_trust, tmp_path, capsys):
    """An unknown school exits 2 listing the schools in the data."""
    code, err = _err(
        [
            "run",
            "--config",
            str(tiny_trust),
            "--period",
            "2024/25 HT1",
            "--schools",
            "S9",
            "--output",
            str(tmp_path / "r"),
        ],
        capsys,
    )
    assert code == 2 and "Unknown school 'S9'" in err and "S1, S2" in err


def test_missing_required_column(tiny_trust, capsys):
    """A file without a required column stops validation with exit 2 and names the column."""
    folder = tiny_trust.parent
    text = (folder / "pupils.csv").read_text().replace(",sen,", ",special,")
    (folder / "pupils.csv").write_text(text)
    code, err = _err(["validate", "--config", str(tiny_trust)], capsys)
    assert code == 2 and "missing required column" in err and "sen" in err


def test_validate_prints_accounting(tiny_trust, capsys):
    """`cilib validate` prints rows in / clean / quarantined per table."""
    assert main(["validate", "--config", str(tiny_trust), "--quiet"]) == 0
    assert main(["validate", "--config", str(tiny_trust)]) == 0
    out = capsys.readouterr().out
    assert "rows_in" in out and "pupils" in out


def test_console_script_runs_without_traceback(tmp_path):
    """The installed entry point (python -m cilib) prints a one-line error, no traceback."""
    r = subprocess.run(
        [sys.executable, "-m", "cilib", "validate", "--config", str(tmp_path / "x.yml")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_sample_command_writes_the_trust(tmp_path, capsys):
    """`cilib sample --output DIR --seed N` writes a loadable trust config and every table."""
    from cilib.data.config import load_config

    assert main(["sample", "--output", str(tmp_path / "s"), "--seed", "7"]) == 0
    assert "Wrote 11 files" in capsys.readouterr().out
    cfg = load_config(tmp_path / "s" / "trust.yml")
    assert all(p.exists() for p in cfg.tables.values()) and len(cfg.tables) == 8


# ------------------------------------------------------------- issue 11: messages, not tracebacks


def test_config_folder_exits_2(tiny_trust, capsys):
    """--config pointing at a folder is a one-line error naming the folder."""
    code, err = _err(["validate", "--config", str(tiny_trust.parent)], capsys)
    assert code == 2 and "is a folder" in err and "Traceback" not in err


def test_cp1252_config_exits_2(tiny_trust, capsys):
    """A config saved as cp1252 says to save it as UTF-8."""
    tiny_trust.write_bytes(
        tiny_trust.read_text().replace("Tiny Trust", "Tiny Trust – Thérèse").encode("cp1252")
    )
    code, err = _err(["validate", "--config", str(tiny_trust)], capsys)
    assert code == 2 and "Save the file as UTF-8" in err


@pytest.mark.parametrize(
    "section, message",
    [
        ("focus_group:\n  column: pupil_premium\n", "focus_group.column 'pupil_premium'"),
        ("focus_group:\n  value: 'yes'\n", "focus_group.value 'yes' never occurs"),
        ("focus_group:\n  column: sen\n  value: ehcp_plan\n", "'ehcp_plan' never occurs in"),
    ],
)
def test_focus_group_checked_at_validate(tiny_trust, capsys, section, message):
    """A focus column or value that is not in the pupils table stops `cilib validate` (exit 2)."""
    tiny_trust.write_text(tiny_trust.read_text() + section)
    code, err = _err(["validate", "--config", str(tiny_trust), "--quiet"], capsys)
    assert code == 2 and message in err and "Traceback" not in err


def test_unknown_lens_checked_at_validate(tiny_trust, capsys):
    """Every lens must be a column of pupils."""
    text = tiny_trust.read_text().replace("lenses: [disadvantaged, sen]", "lenses: [sen, ks2]")
    tiny_trust.write_text(text)
    code, err = _err(["validate", "--config", str(tiny_trust), "--quiet"], capsys)
    assert code == 2 and "lenses names 'ks2', which is not a column of pupils" in err


def test_bad_decision_rule_exits_2(tiny_trust, capsys):
    """decision_rule is checked when the config loads, not inside the monitor notebook."""
    tiny_trust.write_text(tiny_trust.read_text() + "decision_rule:\n  stop_if_harmful: maybe\n")
    code, err = _err(["validate", "--config", str(tiny_trust), "--quiet"], capsys)
    assert code == 2 and "decision_rule.stop_if_harmful must be true or false" in err


def test_sample_key_with_other_data_exits_2(tiny_trust, capsys, monkeypatch):
    """The public sample key is refused for data that is not the synthetic sample."""
    monkeypatch.delenv("CILIB_PSEUDONYM_KEY", raising=False)
    text = tiny_trust.read_text().replace("key_env: CILIB_TEST_KEY", "sample_key: true")
    tiny_trust.write_text(text)
    code, err = _err(["validate", "--config", str(tiny_trust), "--quiet"], capsys)
    assert code == 2 and "sample_key is only for the synthetic sample" in err
    assert not (tiny_trust.parent / "store").exists()


def test_bad_arguments_exit_2(tmp_path, capsys):
    """A negative --seed or an --output that is a file is a one-line error."""
    f = tmp_path / "file.txt"
    f.write_text("x")
    code, err = _err(["sample", "--output", str(tmp_path / "s"), "--seed", "-1"], capsys)
    assert code == 2 and "--seed" in err
    code, err = _err(["sample", "--output", str(f)], capsys)
    assert code == 2 and "is a file" in err
    code, err = _err(["sample", "--output", str(tmp_path / "s"), "--schools", "3"], capsys)
    assert code == 2 and "--schools must be between 8" in err
    assert not (tmp_path / "s").exists()


def test_sample_key_warns_on_every_run(tmp_path, capsys, monkeypatch):
    """With the sample's schools, `sample_key: true` runs but warns on stderr each time."""
    from tests.conftest import SAMPLE_CONFIG

    monkeypatch.delenv("CILIB_PSEUDONYM_KEY", raising=False)
    src = SAMPLE_CONFIG.parent
    (tmp_path / "schools.csv").write_bytes((src / "schools.csv").read_bytes())
    head = (src / "pupils.csv").read_text(encoding="utf-8").splitlines()[:40]
    (tmp_path / "pupils.csv").write_text("\n".join(head) + "\n", encoding="utf-8")
    cfg = write_config(
        tmp_path,
        """\
        name: Northfield Learning Trust (synthetic sample)
        data: {schools: schools.csv, pupils: pupils.csv}
        calendar: {academic_years: ["2023/24"]}
        pseudonymisation: {sample_key: true}
        """,
    )
    for _ in range(2):
        code, err = _err(["validate", "--config", str(cfg), "--quiet"], capsys)
        assert code == 0
        assert err.count("cilib: warning: trust.yml uses the public sample pseudonymisation") == 1
