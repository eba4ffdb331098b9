"""The malformed-input corpus of issue 11: every case meets its expected outcome.

Each case (``tests/corpus/cases.py``) copies a small trust cut from the sample, damages one
thing, runs ``cilib`` in-process and checks the outcome (a clear exit-2 message, or every row
accounted for with the right quarantine rule), plus what no case may ever do: crash, leak a raw
pupil id or a hostile value into the data-quality tables, or touch anything outside the
trust's store and the reports folder. ``python tools/corpus_summary.py`` prints the totals.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import CASES, build_small_trust, check_case, run_case

#: The whole corpus prepares 89 small trusts (about a minute): part of `make test`, not the
#: quick suite.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def corpus_trust(tmp_path_factory) -> Path:
    """The small trust, built once per session (cases copy it)."""
    folder = tmp_path_factory.mktemp("corpus_base") / "trust"
    build_small_trust(folder)
    return folder


def test_corpus_is_big_enough():
    """At least 60 malformed inputs, and every numbered fault but 10 has cases."""
    malformed = [c for c in CASES if c.fault]
    assert len(malformed) >= 60
    assert {c.fault for c in malformed} >= set(range(1, 10))


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.slow else []) for c in CASES],
)
def test_corpus_case(case, corpus_trust: Path, tmp_path: Path):
    run = run_case(case, tmp_path / "case", corpus_trust)
    result = check_case(case, run)
    assert result.ok, f"{case.name} (fault {case.fault}: {case.what}):\n" + "\n".join(
        result.problems
    )
