from pathlib import Path

import pytest

from cilib.core import safe_yaml
from cilib.core.errors import ConfigError
from cilib.data.config import load_config
from cilib.data.mapping_spec import check_mapping_spec
from tests.conftest import SAMPLE_CONFIG, TINY_CONFIG, write_config


def test_tiny_config_loads_with_defaults(tiny_trust):
    """A minimal config gets six half-terms, the default focus group and absolute paths."""
    cfg = load_config(tiny_trust)
    assert cfg.periods == [f"2024/25 HT{i}" for i in range(1, 7)]
    assert cfg.focus.column == "disadvantaged" and cfg.focus.value is True
    assert cfg.tables["pupils"] == tiny_trust.parent / "pupils.csv"
    assert cfg.suppression_threshold == 5
    assert cfg.periods_up_to("2024/25 HT3")[-1] == "2024/25 HT3"


def test_sample_config_loads():
    """The committed sample config is valid and covers three academic years."""
    cfg = load_config(SAMPLE_CONFIG)
    assert len(cfg.periods) == 18
    assert cfg.sample_key is True


def test_explicit_period_list(tmp_path):
    """A calendar of terms can be given as an explicit ordered list."""
    p = write_config(
        tmp_path,
        TINY_CONFIG.replace(
            'academic_years: ["2024/25"]', 'periods: ["Autumn 2024", "Spring 2025", "Summer 2025"]'
        ),
    )
    assert load_config(p).periods == ["Autumn 2024", "Spring 2025", "Summer 2025"]


@pytest.mark.parametrize(
    "change, message",
    [
        (("name: Tiny Trust", "name: Tiny Trust\ncolour: blue"), "unknown key 'colour'"),
        (
            ("  schools: schools.csv", "  schools: schools.csv\n  photos: x.csv"),
            "unknown key 'data.photos'",
        ),
        (("suppression_threshold: 5", "suppression_threshold: many"), "suppression_threshold"),
        (("suppression_threshold: 5", "suppression_threshold: 0"), "suppression_threshold"),
        (('academic_years: ["2024/25"]', "academic_years: 2024"), "calendar.academic_years"),
        (("lenses: [disadvantaged, sen]", "lenses: sen"), "lenses must be a list"),
        (("  schools: schools.csv\n", ""), "data.schools is required"),
        (("name: Tiny Trust\n", ""), "'name' is required"),
        (
            ("  key_env: CILIB_TEST_KEY", "  key_env: CILIB_TEST_KEY\n  secret: abc"),
            "unknown key 'pseudonymisation.secret'",
        ),
    ],
)
def test_config_errors_name_the_key(tmp_path, change, message):
    """Each mistake raises ConfigError naming the key at fault."""
    old, new = change
    assert old in TINY_CONFIG
    p = write_config(tmp_path, TINY_CONFIG.replace(old, new))
    with pytest.raises(ConfigError, match=message):
        load_config(p)


def test_bad_yaml_names_the_line(tmp_path):
    """Malformed YAML gives the line number."""
    p = write_config(tmp_path, "name: x\ndata: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_config(p)


def test_missing_config_file(tmp_path):
    """A missing config file is a clear error."""
    with pytest.raises(ConfigError, match="Config file not found"):
        load_config(tmp_path / "nope.yml")


def test_period_not_in_calendar(tiny_trust):
    """A period outside the calendar is refused with the calendar's range."""
    cfg = load_config(tiny_trust)
    with pytest.raises(ConfigError, match="not in the calendar.*2024/25 HT1"):
        cfg.period_index("2030/31 HT1")


def test_pseudonym_key_sources(tiny_trust, tmp_path, monkeypatch):
    """The key comes from the environment first, then a key file; real configs have no default."""
    monkeypatch.delenv("CILIB_PSEUDONYM_KEY", raising=False)
    sample = TINY_CONFIG.replace("key_env: CILIB_TEST_KEY", "sample_key: true")
    cfg = load_config(write_config(tmp_path, sample))
    assert b"NOT-FOR-REAL-DATA" in cfg.pseudonym_key()
    monkeypatch.setenv("CILIB_PSEUDONYM_KEY", "s3cret")
    assert cfg.pseudonym_key() == b"s3cret"
    monkeypatch.delenv("CILIB_PSEUDONYM_KEY")
    key = tmp_path / "key.txt"
    key.write_text("from-file\n")
    p = write_config(tmp_path, sample.replace("sample_key: true", f"key_file: {key}"))
    assert load_config(p).pseudonym_key() == b"from-file"
    p = write_config(tmp_path, sample.replace("sample_key: true", "key_env: MY_KEY"))
    with pytest.raises(
        ConfigError, match="No pseudonymisation key: set the environment variable MY_KEY"
    ):
        load_config(p).pseudonym_key()


# ------------------------------------------------------------------ issue 11: safeguards


def test_duplicate_key_names_the_key_and_line(tmp_path):
    """A key given twice is an error naming it and both lines (PyYAML keeps the last)."""
    text = TINY_CONFIG + "suppression_threshold: 2\n"
    line = text.count("\n")
    with pytest.raises(ConfigError, match=rf"'suppression_threshold' appears twice.*{line}"):
        load_config(write_config(tmp_path, text))
    nested = TINY_CONFIG.replace("  schools: schools.csv", "  schools: schools.csv\n  schools: x")
    with pytest.raises(ConfigError, match="'schools' appears twice"):
        load_config(write_config(tmp_path, nested))


def test_duplicate_key_in_mapping_file(tmp_path):
    """Mapping files are read with the same strict loader."""
    from cilib.data.mapping import read_mapping_file

    p = tmp_path / "map.yml"
    p.write_text("mappings:\n  pupils:\n    file: a.csv\n    file: b.csv\n", encoding="utf-8")
    with pytest.raises(
        ConfigError, match="map.yml is not valid YAML at line 4: the key 'file' appears twice"
    ):
        read_mapping_file(p)


BOMB = "".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n',
        *[
            f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ],
    ]
)


def test_alias_bomb_fails_fast(tmp_path):
    """A "billion laughs" alias bomb is refused at once, not expanded until memory runs out."""
    import time

    from cilib.data.mapping import read_mapping_file

    p = write_config(tmp_path, TINY_CONFIG + BOMB.replace("a: &a", "x_a: &a"))
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=r"alias \*a is not allowed"):
        load_config(p)
    m = tmp_path / "map.yml"
    m.write_text("mappings: {}\n" + BOMB, encoding="utf-8")
    with pytest.raises(ConfigError, match="alias"):
        read_mapping_file(m)
    assert time.perf_counter() - t0 < 2


@pytest.mark.parametrize("threshold", [1, 3, 4])
def test_suppression_below_five_needs_an_override(tmp_path, threshold):
    """A threshold under 5 is refused unless suppression_override says why."""
    text = TINY_CONFIG.replace("suppression_threshold: 5", f"suppression_threshold: {threshold}")
    with pytest.raises(ConfigError, match="suppression_threshold .* below 5.*suppression_override"):
        load_config(write_config(tmp_path, text))
    ok = text + 'suppression_override: "Agreed by the DPO, 2026-11-02: internal use only"\n'
    cfg = load_config(write_config(tmp_path, ok))
    assert cfg.suppression_threshold == threshold
    assert cfg.suppression_override.startswith("Agreed by the DPO")
    with pytest.raises(ConfigError, match="suppression_override must be text"):
        load_config(write_config(tmp_path, text + 'suppression_override: "  "\n'))


def test_empty_key_is_an_error(tiny_trust, tmp_path, monkeypatch):
    """An empty or whitespace-only key, from the environment or a key file, is refused."""
    cfg = load_config(tiny_trust)
    monkeypatch.setenv("CILIB_TEST_KEY", "   ")
    with pytest.raises(ConfigError, match="CILIB_TEST_KEY is set but empty"):
        cfg.pseudonym_key()
    monkeypatch.delenv("CILIB_TEST_KEY")
    key = tmp_path / "key.txt"
    key.write_text(" \n\t\n")
    p = write_config(tmp_path, TINY_CONFIG.replace("key_env: CILIB_TEST_KEY", f"key_file: {key}"))
    with pytest.raises(ConfigError, match="key_file .* is empty"):
        load_config(p).pseudonym_key()


def test_sample_key_refused_for_other_data_and_warned_for_the_sample(caplog):
    """The public sample key is allowed only with the sample's schools, with a warning."""
    import logging

    import pandas as pd

    from cilib.data.config import check_sample_key, is_sample_data

    sample_schools = pd.read_csv(SAMPLE_CONFIG.parent / "schools.csv", dtype=str)
    assert is_sample_data(sample_schools)
    cfg = load_config(SAMPLE_CONFIG)
    with caplog.at_level(logging.WARNING, logger="cilib"):
        check_sample_key(cfg, sample_schools)
    assert "public sample pseudonymisation key" in caplog.text
    real = sample_schools.copy()
    real.loc[2, "school_name"] = "St Mary's Primary"
    assert not is_sample_data(real)
    assert not is_sample_data(sample_schools.iloc[:0])
    with pytest.raises(ConfigError, match="sample_key is only for the synthetic sample"):
        check_sample_key(cfg, real)
    with pytest.raises(ConfigError, match="not the sample's"):
        check_sample_key(cfg, sample_schools.assign(trust_id="T"))


def test_cp1252_config_says_save_as_utf8(tmp_path):
    """A config saved as cp1252 (Windows "ANSI") is a ConfigError saying to save it as UTF-8."""
    p = tmp_path / "trust.yml"
    p.write_bytes(TINY_CONFIG.replace("Tiny Trust", "Tiny Trust – Sainte-Thérèse").encode("cp1252"))
    with pytest.raises(ConfigError, match="line 1 is not UTF-8.*Save the file as UTF-8"):
        load_config(p)


def test_config_folder_is_an_error(tiny_trust):
    """--config pointing at a folder names the folder and suggests the file inside."""
    with pytest.raises(ConfigError, match="is a folder.*trust.yml"):
        load_config(tiny_trust.parent)


#: A misspelt key in each section of the trust config, and the name the message must give.
MISSPELT = [
    ("colour: blue\n", "unknown key 'colour'"),
    ("calendar:\n  academic_years: ['2024/25']\n  period_prefx: HT\n",
     "unknown key 'calendar.period_prefx'"),
    ("focus_group:\n  colum: sen\n", "unknown key 'focus_group.colum'"),
    ("reports:\n  job: 2\n", "unknown key 'reports.job'"),
    ("decision_rule:\n  stop_if_harmfull: true\n", "unknown key 'decision_rule.stop_if_harmfull'"),
    ("benchmarks:\n  performance_table: dfe\n", "unknown key 'benchmarks.performance_table'"),
    ("benchmarks:\n  performance_tables: dfe\n  urn: {S1: 100528}\n",
     "unknown key 'benchmarks.urn'"),
    ("mappings:\n  pupils:\n    colums: {UPN: pupil_id}\n", "unknown key 'mappings.pupils.colums'"),
    ("mappings:\n  pupils:\n    derive:\n      school_id: {tempalte: '{a}-{b}'}\n",
     "unknown key 'mappings.pupils.derive.school_id.tempalte'"),
    ("mappings:\n  pupils:\n    numbers:\n      score: {min: 0, maximum: 100}\n",
     "unknown key 'mappings.pupils.numbers.score.maximum'"),
    ("mappings:\n  pupils:\n    dates:\n      dob: {day_first: true}\n",
     "unknown key 'mappings.pupils.dates.dob.day_first'"),
    ("mappings:\n  pupils:\n    melt: {columns: [G1], varible: period}\n",
     "unknown key 'mappings.pupils.melt.varible'"),
    ("mappings:\n  pupils:\n    join:\n      - {file: x.csv, key: id}\n",
     r"unknown key 'mappings.pupils.join\[0\].key'"),
    ("mappings:\n  pupils:\n    read: {sheets: 1}\n", "unknown key 'mappings.pupils.read.sheets'"),
    ("mappings:\n  pupil:\n    columns: {}\n", "mappings.pupil is not a table"),
]


@pytest.mark.parametrize(
    "section, message",
    MISSPELT
    + [
        ("decision_rule:\n  small_efect: 0.2\n", "unknown key 'decision_rule.small_efect'"),
        ("decision_rule:\n  small_effect: big\n", "decision_rule.small_effect must be a number"),
        ("decision_rule:\n  small_effect: -0.1\n", "decision_rule.small_effect must be above 0"),
        ("decision_rule:\n  stop_if_harmful: 1\n", "stop_if_harmful must be true or false"),
        ("decision_rule:\n  stop_after_reviews: 1.5\n", "stop_after_reviews must be a whole"),
        ("decision_rule:\n  stop_after_reviews: 0\n", "stop_after_reviews must be a whole"),
        ("decision_rule:\n  equivalence_level: 90\n", "equivalence_level must lie between"),
        ("decision_rule: [1, 2]\n", "decision_rule must be a mapping"),
        ("focus_group:\n  value: [true, false]\n", "focus_group.value must be one value"),
        ("focus_group:\n  column: ''\n", "focus_group.column must be non-empty"),
        ("pseudonymisation:\n  sample_key: 'yes'\n", "sample_key must be true or false"),
        ("reports:\n  jobs: true\n", "reports.jobs must be a positive whole number"),
        ("reports:\n  notebooks: 01_assess_needs\n", "reports.notebooks must list"),
        ("reports:\n  output: [a]\n", "reports.output must be text"),
        ("mappings:\n  pupils:\n    numbers:\n      score: {min: low}\n",
         "mappings.pupils.numbers.score.min must be a number"),
        ("mappings:\n  pupils:\n    booleans: fsm\n", "mappings.pupils.booleans must be a list"),
        ("mappings:\n  pupils:\n    dates:\n      dob: {dayfirst: 'yes'}\n",
         "mappings.pupils.dates.dob.dayfirst must be true or false"),
        ("mappings:\n  pupils:\n    decimal: ';'\n", "mappings.pupils.decimal must be"),
        ("mappings:\n  pupils:\n    derive:\n      x: {from: a}\n",
         "mappings.pupils.derive.x needs one of"),
        ("mappings:\n  pupils: [columns]\n", "mappings.pupils must be a mapping"),
        ("benchmarks:\n  performance_tables: dfe\n  urns: {S1: abc}\n",
         "benchmarks.urns.S1 must be a URN"),
    ],
)
def test_sections_checked_on_load(tmp_path, section, message):
    """A misspelt key or a value of the wrong kind, in any section (nested too), is named."""
    text = TINY_CONFIG
    if section.startswith("pseudonymisation"):
        text = text.replace("pseudonymisation:\n  key_env: CILIB_TEST_KEY\n", "")
    if section.startswith("calendar"):
        text = text.replace('calendar:\n  academic_years: ["2024/25"]\n', "")
    with pytest.raises(ConfigError, match=message):
        load_config(write_config(tmp_path, text + section))


def test_valid_decision_rule_loads(tmp_path):
    """Keys of plan.DEFAULT_RULE with values of the right kind are accepted."""
    section = (
        "decision_rule:\n  small_effect: 0.2\n  stop_after_reviews: 3\n"
        "  stop_if_harmful: false\n  equivalence_level: 0.95\n"
    )
    cfg = load_config(write_config(tmp_path, TINY_CONFIG + section))
    assert cfg.decision_rule == {
        "small_effect": 0.2,
        "stop_after_reviews": 3,
        "stop_if_harmful": False,
        "equivalence_level": 0.95,
    }




@pytest.mark.parametrize(
    "old, new, message",
    [
        ("  schools: schools.csv", "  schools: schools.csv\n  photos: x.csv", "data.photos"),
        ("  key_env: CILIB_TEST_KEY", "  key_env: CILIB_TEST_KEY\n  secret: abc",
         "pseudonymisation.secret"),
        ("name: Tiny Trust", "name: [Tiny, Trust]", "name must be text"),
        ("  pupils: pupils.csv", "  pupils: 7", "data.pupils must be text"),
        ("  directory: .", "  directory: .\n  allow_outside: 'yes'",
         "data.allow_outside must be true or false"),
    ],
)
def test_data_and_top_level_values_checked(tmp_path, old, new, message):
    """Keys and kinds of value of the top level, data and pseudonymisation are checked."""
    assert old in TINY_CONFIG
    with pytest.raises(ConfigError, match=message):
        load_config(write_config(tmp_path, TINY_CONFIG.replace(old, new)))


def test_example_mappings_pass_the_check():
    """The committed example configs' mappings pass the whole-mapping check."""
    examples = sorted((Path(__file__).resolve().parents[1] / "configs" / "examples").glob("*.yml"))
    assert examples
    for path in examples:
        doc = safe_yaml.load_file(path, "example")
        for table, spec in (doc.get("mappings") or {}).items():
            check_mapping_spec(spec, f"mappings.{table}", path.name)
