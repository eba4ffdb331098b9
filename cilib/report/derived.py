"""Results shared by the reports of one run, computed once and kept beside the store.

Many reports ask the same question of the same data: every report of a school opens with the
same summary, every school's Assess Needs tables are suppressed together with every other
school's, and the trust overview and each school's Monitor report read the same verdicts. In a
batch each report runs in its own kernel (or after a reset of a warm kernel), so an answer kept
in memory would be worked out again by every report. :func:`shared_frame` keeps a frame the
first report computes in ``<store>/derived/<name>-<key>.parquet``, and the other reports read it.

A cached frame can never be stale or wrong:

- its file name holds a SHA-256 of the store's ``meta.json`` (which lists the SHA-256 of every
  file of the store and when it was prepared), of cilib's own source files and of the versions
  of pandas, numpy and scipy, and of the question asked (``name`` and ``key``): changed data, a
  changed cilib or another question gives another file;
- a frame is written to a temporary file and renamed into place, so a reader never sees half a
  file, and two workers that compute the same frame at the same time both write the same bytes;
- a frame is kept only if it reads back exactly equal (values, dtypes, ``attrs`` and the type of
  every object cell); otherwise, or when the store folder cannot be written, it is computed by
  every report as before.

The derived folder is not listed in ``meta.json``, so :meth:`cilib.data.store.Store.check`
ignores it, and preparing the store again replaces it with the rest of the store.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import scipy

from cilib.core.paths import safe_name
from cilib.data.store import META, Store

__all__ = ["DERIVED", "frame_fingerprint", "shared_frame", "store_fingerprint"]

#: Folder of the store that holds the shared results.
DERIVED = "derived"

_PACKAGE = Path(__file__).resolve().parents[1]


def store_fingerprint(store: Store) -> str:
    """Return the SHA-256 (hex) of the store's ``meta.json``, cilib's source and library versions.

    Computed once per opened store.
    """

    def make() -> str:
        h = hashlib.sha256((store.folder / META).read_bytes())
        for path in sorted(_PACKAGE.rglob("*.py")):
            h.update(path.relative_to(_PACKAGE).as_posix().encode())
            h.update(path.read_bytes())
        h.update(f"{pd.__version__} {np.__version__} {scipy.__version__}".encode())
        return h.hexdigest()

    return store.memo("derived", "fingerprint", make=make)


def frame_fingerprint(df: pd.DataFrame) -> str:
    """Return a SHA-256 (hex) of a frame's columns, dtypes, index and values.

    Two frames with the same fingerprint hold the same data, so a result computed from one
    serves the other.

    Examples
    --------
    >>> a = pd.DataFrame({"x": [1, 2]})
    >>> frame_fingerprint(a) == frame_fingerprint(a.copy())
    True
    >>> frame_fingerprint(a) == frame_fingerprint(a.assign(x=[1, 3]))
    False
    """
    h = hashlib.sha256(repr([(str(c), str(t)) for c, t in df.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    return h.hexdigest()


def _path(store: Store, name: str, key: tuple) -> Path:
    question = json.dumps([name, [repr(k) for k in key]])
    digest = hashlib.sha256((store_fingerprint(store) + question).encode()).hexdigest()[:32]
    return store.folder / DERIVED / f"{safe_name(name, 'result name')}-{digest}.parquet"


#: Type tags of the scalars an object column may hold in a shared frame (others: not shared).
_TAGS: dict[type, str] = {
    bool: "b", int: "i", float: "f", str: "s",
    np.bool_: "nb", np.int64: "ni", np.float64: "nf",
}
_TYPES = {tag: t for t, tag in _TAGS.items()}
#: ``attrs`` key (removed on reading) listing the positions of the object columns.
_OBJECTS = "cilib_derived_object_columns"


def _encode(v: object) -> str:
    """Return an object cell as JSON text that keeps its type, e.g. ``'["i", 6]'``."""
    if v is None:
        return '["none"]'
    if v is pd.NA:
        return '["na"]'
    tag = _TAGS.get(type(v))
    if tag is None:
        raise TypeError(f"{type(v).__name__} cells are not shared")
    return json.dumps([tag, v.item() if isinstance(v, np.generic) else v])


def _decode(text: str) -> object:
    tag, *value = json.loads(text)
    if tag == "none":
        return None
    if tag == "na":
        return pd.NA
    return _TYPES[tag](value[0])


def _write(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame to parquet, its object columns as typed JSON text (:func:`_read`)."""
    enc = frame.copy()
    objects = [i for i, t in enumerate(frame.dtypes) if t == np.dtype(object)]
    for i in objects:
        enc.isetitem(i, [_encode(v) for v in frame.iloc[:, i]])
    enc.attrs = {**frame.attrs, _OBJECTS: objects}
    enc.to_parquet(path, index=True)


def _read(path: Path) -> pd.DataFrame:
    """Read a frame written by :func:`_write`."""
    df = pd.read_parquet(path)
    for i in df.attrs.pop(_OBJECTS, []):
        df.isetitem(i, pd.Series([_decode(v) for v in df.iloc[:, i]], index=df.index, dtype=object))
    return df


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Return whether ``b`` (read back) equals ``a`` exactly, object cells' types included."""
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    except (AssertionError, TypeError, ValueError):
        return False
    if a.attrs != b.attrs:
        return False
    for c in [c for c, t in a.dtypes.items() if t == np.dtype(object)]:
        if [type(v) for v in a[c]] != [type(v) for v in b[c]]:
            return False
    return True


def _save(path: Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` to ``path`` atomically if it reads back exactly; else write nothing."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(exist_ok=True)
        _write(frame, tmp)
        if _same(frame, _read(tmp)):
            os.replace(tmp, path)
    except (OSError, ValueError, TypeError, ImportError):
        pass  # e.g. a read-only store, or a frame parquet cannot hold: it is simply not shared
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def shared_frame(
    store: Store, name: str, *key: object, make: Callable[[], pd.DataFrame]
) -> pd.DataFrame:
    """Return ``make()``, computed once per store and question and shared by every report.

    Parameters
    ----------
    store
        The opened store the frame is computed from.
    name
        What the frame is (a plain word used in the file name, e.g. ``"verdicts"``).
    *key
        Whatever else the answer depends on besides the store (school id, options); their
        ``repr`` goes into the file name's hash.
    make
        Computes the frame from the store (called only when no shared copy exists).

    Returns
    -------
    DataFrame
        A copy of the frame (callers may change it).
    """
    path = _path(store, name, key)

    def load() -> pd.DataFrame:
        if path.is_file():
            try:
                return _read(path)
            except (OSError, ValueError, KeyError, TypeError):
                pass  # unreadable: compute it again
        frame = make()
        _save(path, frame)
        return frame

    return store.memo("derived", path.name, make=load).copy()
