"""Names used as path parts, and checks that every path written stays inside its root.

Period labels, school ids and notebook names become folder and file names. Each goes through
:func:`safe_name`, which refuses anything that could leave its folder or clash with another
report (``..``, separators, control characters, the reserved ``trust`` folder), and
:func:`check_unique` refuses two labels that would share one folder. Before anything is written
or deleted, :func:`inside` checks that the path lies inside the folder it belongs to.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from cilib.core.errors import CilibError, DataError

#: Names a school id or notebook may not take: they are folders or files of a period's reports.
RESERVED = frozenset({"trust", "notebooks", "index.html", "manifest.json"})
#: Longest name accepted (most file systems allow 255 bytes per path part).
MAX_LEN = 120


def shown(value: object, limit: int = 40) -> str:
    r"""Return a short, escaped form of a value for an error message.

    Examples
    --------
    >>> shown("a\\nb")
    "'a\\\\nb'"
    """
    text = repr(str(value))
    return text if len(text) <= limit else text[: limit - 4] + "…'"


def safe_name(
    label: object,
    what: str,
    *,
    slash: str | None = None,
    error: type[CilibError] = DataError,
) -> str:
    r"""Return ``label`` as a folder- or file-name part, or raise if it is not safe as one.

    Spaces become ``_``. A ``/`` becomes ``slash`` when given (period labels such as
    ``2025/26 HT6`` become ``2025-26_HT6``), else it is refused.

    Parameters
    ----------
    label
        The period label, school id or notebook name.
    what
        What the label is, for the message (e.g. ``"period label"``).
    slash
        What a ``/`` becomes; ``None`` refuses it.
    error
        The error class to raise (:class:`ConfigError` for config values).

    Raises
    ------
    CilibError
        If the name is empty, ``.``/``..`` or starts with ``.``, holds ``\\``, ``/`` (unless
        ``slash``), a control character or NUL, is too long, or is reserved (``trust``...).

    Examples
    --------
    >>> safe_name("2025/26 HT6", "period label", slash="-")
    '2025-26_HT6'
    """
    raw = str(label)
    problem = ""
    if not raw.strip():
        problem = "is empty"
    elif any(ord(c) < 32 or ord(c) == 127 for c in raw):
        problem = "holds a control character"
    elif "\\" in raw or (slash is None and "/" in raw):
        problem = "holds a path separator (/ or \\)"
    name = raw.strip().replace(" ", "_")
    if slash is not None:
        name = name.replace("/", slash)
    if not problem:
        if name.startswith("."):
            problem = "starts with '.' (as '.' and '..' do)"
        elif len(name) > MAX_LEN:
            problem = f"is longer than {MAX_LEN} characters"
        elif name.lower() in RESERVED:
            problem = f"is reserved ({', '.join(sorted(RESERVED))} name parts of a report)"
    if problem:
        raise error(
            f"The {what} {shown(raw)} {problem}; it is used as a folder or file name. "
            "Rename it in the config or data."
        )
    return name


def check_unique(
    labels: Iterable[object],
    what: str,
    *,
    slash: str | None = None,
    error: type[CilibError] = DataError,
) -> dict[str, str]:
    """Check every label with :func:`safe_name` and that no two share a folder.

    Folders are compared without case (two names differing only in case are one folder on
    Windows and macOS). Returns label -> name.
    """
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for label in labels:
        name = safe_name(label, what, slash=slash, error=error)
        key = name.lower()
        if key in seen and seen[key] != str(label):
            raise error(
                f"The {what}s {shown(seen[key])} and {shown(label)} would share the folder "
                f"{shown(name)}; rename one of them."
            )
        seen[key] = str(label)
        out[str(label)] = name
    return out


def period_slug(period: str) -> str:
    """Return the folder name of a period label, refusing an unsafe one.

    Examples
    --------
    >>> period_slug("2025/26 HT6")
    '2025-26_HT6'
    """
    return safe_name(period, "period label", slash="-")


def inside(root: Path, path: Path, what: str = "path") -> Path:
    """Return ``path`` resolved, raising :class:`DataError` unless it lies inside ``root``.

    ``path`` may equal ``root`` only when it is not the root itself that is being replaced;
    callers that delete ``path`` pass a child of ``root``, which must differ from it.
    """
    r, p = Path(root).resolve(), Path(path).resolve()
    if p == r or not p.is_relative_to(r):
        raise DataError(f"Refusing to write {what} {shown(p, 80)}: it is not inside {r}.")
    return p


def make_temp_dir(parent: Path, prefix: str) -> Path:
    """Create a fresh folder in ``parent`` with the usual permissions (umask), not 0700.

    Used to write a store or a period's reports beside their final place before a rename.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    mask = os.umask(0)
    os.umask(mask)
    folder.chmod(0o777 & ~mask)
    return folder


def within(base: Path, target: Path, key: str, *, allow: bool, error: type[CilibError]) -> Path:
    """Return ``target`` resolved, raising unless it lies in ``base`` (or ``allow`` is true).

    Used for the config's data paths: they must lie in the trust folder (the config's folder)
    unless the config sets ``data: {allow_outside: true}``.
    """
    t = Path(target).resolve()
    if not allow and not t.is_relative_to(Path(base).resolve()):
        raise error(
            f"{key} points to {shown(t, 80)}, outside the trust folder {base}. Move the file "
            "into the trust folder, or set data.allow_outside: true in the config."
        )
    return t


def swap_in(new: Path, final: Path) -> None:
    """Replace the folder ``final`` by ``new`` whole: two renames, the old folder deleted last.

    Readers see either the old folder or the new one, never a half-written one.
    """
    old = None
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
        old.rmdir()
        final.rename(old)
    new.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
