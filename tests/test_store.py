"""Tests for cilib.data.store: the memo is the library's one cache."""

from __future__ import annotations

import ast
from pathlib import Path

import cilib


def test_memo_computes_once_per_store_and_key(sample_store_dir):
    """store.memo runs make() once per key, and a newly opened store starts empty."""
    from cilib.data.store import Store

    calls = []
    s = Store(sample_store_dir)
    for _ in range(3):
        assert s.memo("x", 1, make=lambda: calls.append(1) or len(calls)) == 1
    assert s.memo("x", 2, make=lambda: calls.append(1) or len(calls)) == 2
    assert Store(sample_store_dir).memo("x", 1, make=lambda: "fresh") == "fresh"


def test_no_module_level_caches():
    """No cilib module keeps a cache at module level (one memo lives on the Store)."""
    root = Path(cilib.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = (
                node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            )
            for t in targets:
                if isinstance(t, ast.Name) and "CACHE" in t.id.upper():
                    found.append(f"{path.name}:{t.id}")
    assert not found
