import pytest

from cilib.config import half_term_labels, load_config
from cilib.errors import ConfigError
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


def test_half_term_labels():
    """Labels run HT1..HTn within each year in order."""
    assert half_term_labels(["2023/24", "2024/25"], 2) == [
        "2023/24 HT1",
        "2023/24 HT2",
        "2024/25 HT1",
        "2024/25 HT2",
    ]


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
