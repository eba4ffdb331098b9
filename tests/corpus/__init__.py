"""The malformed-input corpus of issue 11 ("Safe with real pupil data").

- :mod:`tests.corpus.builder`: the small trust, running one case in-process, snapshots;
- :mod:`tests.corpus.mutate`: helpers that damage a copy of the small trust;
- :mod:`tests.corpus.expect`: expected outcomes and the checks every case must pass;
- :mod:`tests.corpus.cases`: the cases.

``tests/test_corpus.py`` runs every case under pytest; ``tools/corpus_summary.py`` runs them and
prints inputs tried, outcomes as expected, rows lost, crashes and leaks.
"""

from tests.corpus.builder import build_small_trust, run_case
from tests.corpus.cases import CASES, Case
from tests.corpus.expect import CaseResult, check_case

__all__ = ["CASES", "Case", "CaseResult", "build_small_trust", "check_case", "run_case"]
