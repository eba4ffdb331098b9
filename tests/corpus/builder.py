"""Build the corpus's small trust, run one case in-process, and check what it must never do.

The small trust is cut from the committed sample (``data/sample``): two schools (NLT01 primary,
NLT06 secondary), the 2025/26 rows only and at most :data:`PUPILS_PER_SCHOOL` pupils a school,
every child table cut to those pupils; five tables (schools, pupils, assessments, attendance,
systems). ``trust.yml``, ``plan.yml`` and ``roadmap.csv`` are kept
as they are apart from the ``schools:`` list, so the config and plan stay valid. Validating it
takes a second or two instead of the full sample's eight.

Each case copies the small trust to its own folder laid out as::

    <root>/trust/        the trust folder (config, data, plan, roadmap; the store is written here)
    <root>/work/         the working directory of the command (reports are written here)
    <root>/sentinel/     a sibling folder with one file, which must survive every case
    <root>/corpus.key    the pseudonymisation key (``key_file: ../corpus.key``)

and :func:`run_case` runs ``cilib.run.cli.main(argv)`` there with stdout, stderr, warnings and log
records captured. Any exception other than ``SystemExit`` is a crash.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import logging
import os
import re
import shutil
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
KEEP_SCHOOLS = ("NLT01", "NLT06")
KEEP_YEAR = "2025/26"
PUPILS_PER_SCHOOL = 120
PERIOD = "2025/26 HT6"
#: A raw pupil id as the sample generator writes it (cilib/sample/pupils.py: ``P`` and five digits).
RAW_ID = re.compile(r"(?<![A-Za-z0-9_])P\d{5}(?![0-9])")
#: Data files of the small trust, by canonical table. Behaviour and the surveys are left out:
#: validation costs about a second a table whatever its size, and no case needs them.
TABLE_FILES = {
    "schools": "schools.csv",
    "pupils": "pupils.csv",
    "assessments": "assessments.csv",
    "attendance": "attendance.csv",
    "systems": "systems.csv",
}
DROPPED_TABLES = ("behaviour", "survey_items", "survey_responses")
SENTINEL_TEXT = "this folder must survive every corpus case\n"
#: The pseudonymisation key of every case (a file beside the trust folder).
CORPUS_KEY = "corpus-test-key-7f3a9c2e5b1d8f4a6c0e2b9d7a5f3c1e"


# --------------------------------------------------------------------------- the small trust


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def build_small_trust(dest: Path, source: Path = SAMPLE) -> Path:
    """Write the small trust into ``dest`` (created) and return its ``trust.yml``.

    Parameters
    ----------
    dest
        Folder to write; must not exist or be empty.
    source
        A full sample trust folder (default: the committed ``data/sample``).
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    keep_schools = set(KEEP_SCHOOLS)

    header, rows = _read(source / "schools.csv")
    _write(dest / "schools.csv", header, [r for r in rows if r[0] in keep_schools])

    header, rows = _read(source / "pupils.csv")
    col = {c: i for i, c in enumerate(header)}
    per_school: dict[str, int] = {}
    kept_rows, pupils = [], set()
    for r in rows:
        s = r[col["school_id"]]
        if s not in keep_schools or r[col["academic_year"]] != KEEP_YEAR:
            continue
        if r[col["pupil_id"]] not in pupils and per_school.get(s, 0) >= PUPILS_PER_SCHOOL:
            continue
        if r[col["pupil_id"]] not in pupils:
            per_school[s] = per_school.get(s, 0) + 1
            pupils.add(r[col["pupil_id"]])
        kept_rows.append(r)
    _write(dest / "pupils.csv", header, kept_rows)

    for name in ("assessments", "attendance"):
        header, rows = _read(source / f"{name}.csv")
        col = {c: i for i, c in enumerate(header)}
        keep = [
            r
            for r in rows
            if r[col["school_id"]] in keep_schools
            and r[col["period"]].startswith(KEEP_YEAR)
            and r[col["pupil_id"]] in pupils
        ]
        _write(dest / f"{name}.csv", header, keep)

    header, rows = _read(source / "systems.csv")
    col = {c: i for i, c in enumerate(header)}
    keep = [
        r
        for r in rows
        if r[col["school_id"]] in keep_schools and r[col["period"]].startswith(KEEP_YEAR)
    ]
    _write(dest / "systems.csv", header, keep)

    for name in ("plan.yml", "roadmap.csv"):
        shutil.copyfile(source / name, dest / name)
    text = (source / "trust.yml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^schools: \[.*\]$", f"schools: [{', '.join(KEEP_SCHOOLS)}]", text, count=1)
    # a real key in a file outside the trust folder, as a trust would have it: the public
    # sample key is only for the unmodified sample (issue 11, fault 6)
    text = re.sub(
        r"(?ms)^pseudonymisation:\n(  .*?\n)+",
        "pseudonymisation:\n  key_file: ../corpus.key   # outside the trust folder\n",
        text,
        count=1,
    )
    for table in DROPPED_TABLES:
        text = re.sub(rf"(?m)^  {table}: .*\n", "", text)
    (dest / "trust.yml").write_text(text, encoding="utf-8")
    return dest / "trust.yml"


# --------------------------------------------------------------------------- counting lines


def decode_for_count(data: bytes) -> str:
    """Decode a file's bytes for line counting, independently of cilib's readers.

    UTF-16 and UTF-32 are recognised by their byte-order mark; anything else is read as UTF-8
    with undecodable bytes replaced (a replaced byte never adds or removes a line break).
    """
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return data.decode("utf-32", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8", errors="replace").lstrip("\ufeff")


def physical_data_lines(path: Path, header_lines: int = 1) -> int:
    """Return the number of non-blank physical lines after the header of a text data file.

    A line is split on ``\\n``, ``\\r\\n`` or a lone ``\\r``; blank means only white space.
    The header is the first ``header_lines`` non-blank lines.
    """
    text = decode_for_count(Path(path).read_bytes())
    lines = [ln for ln in re.split(r"\r\n|\n|\r", text) if ln.strip()]
    return max(0, len(lines) - header_lines)


# --------------------------------------------------------------------------- snapshots


def snapshot(root: Path) -> dict[str, str]:
    """Return ``relative path -> sha256`` of every file (and ``/`` for folders) under ``root``."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        for d in dirnames:
            out[(rel_dir / d).as_posix() + "/"] = "dir"
        for f in filenames:
            p = Path(dirpath) / f
            try:
                digest = hashlib.sha256(p.read_bytes()).hexdigest()
            except OSError:
                digest = "unreadable"
            out[(rel_dir / f).as_posix()] = digest
    return out


# --------------------------------------------------------------------------- running a case


@dataclass
class CaseRun:
    """What one case did: exit status, captured output, crash, and where things are."""

    root: Path
    exit_code: int | None
    stdout: str
    stderr: str
    crash: str | None
    before: dict[str, str]
    after: dict[str, str]
    parent_before: set[str]
    parent_after: set[str]
    notes: list[str] = field(default_factory=list)

    @property
    def trust(self) -> Path:
        """The case's trust folder."""
        return self.root / "trust"

    @property
    def config(self) -> Path:
        """The case's config path."""
        return self.root / "trust" / "trust.yml"

    def store(self) -> Path | None:
        """The store folder the command wrote (the one holding ``data_quality.csv``), if any."""
        found = sorted(self.trust.glob("store/*/data_quality.csv"))
        return found[0].parent if len(found) == 1 else None


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - trivial
        try:
            self.lines.append(f"{record.levelname}: {record.getMessage()}")
        except Exception:
            self.lines.append(f"{record.levelname}: {record.msg}")


def prepare_case_root(root: Path, small_trust: Path) -> Path:
    """Lay out ``root`` (trust copy, work folder, sentinel folder) and return the config path."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(small_trust, root / "trust")
    (root / "work").mkdir()
    (root / "sentinel").mkdir()
    (root / "sentinel" / "keep.txt").write_text(SENTINEL_TEXT, encoding="utf-8")
    (root / "corpus.key").write_text(CORPUS_KEY + "\n", encoding="utf-8")
    return root / "trust" / "trust.yml"


def run_call(
    fn, cwd: Path, env: dict[str, str] | None = None
) -> tuple[int | None, str, str, str | None]:
    """Run ``fn()`` (returning an exit status) in ``cwd``; return status, stdout, stderr, crash.

    ``SystemExit`` gives its status; a :class:`cilib.core.errors.CilibError` escaping ``fn`` (a
    library call rather than the command line) counts as exit 2 with its message printed as the
    command line would. Warnings (``warnings.warn``) and log records at WARNING or above are
    appended to stderr, since the command line shows them there. ``env`` sets environment
    variables for the call; ``CILIB_PSEUDONYM_KEY`` is unset unless ``env`` gives it.
    """
    from cilib.core.errors import CilibError

    out, err = io.StringIO(), io.StringIO()
    handler = _ListHandler()
    root_logger = logging.getLogger()
    root_logger.addHandler(handler)
    old_cwd = Path.cwd()
    saved_env = {k: os.environ.get(k) for k in {"CILIB_PSEUDONYM_KEY", *(env or {})}}
    code: int | None = None
    crash: str | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        try:
            os.environ.pop("CILIB_PSEUDONYM_KEY", None)
            os.environ.update(env or {})
            os.chdir(cwd)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = fn()
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
                    if not isinstance(exc.code, int) and exc.code is not None:
                        print(exc.code, file=err)
                except CilibError as exc:
                    code = 2
                    print(f"cilib api: error: {exc}", file=err)
                except BaseException as exc:  # noqa: BLE001 - every other exception is a crash
                    crash = "".join(traceback.format_exception(exc))
        finally:
            os.chdir(old_cwd)
            root_logger.removeHandler(handler)
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    extra = [f"WARNING: {w.message}" for w in caught] + handler.lines
    stderr = err.getvalue() + "".join(line + "\n" for line in extra)
    return code, out.getvalue(), stderr, crash


def run_argv(argv: list[str], cwd: Path, env: dict[str, str] | None = None):
    """Run ``cilib.run.cli.main(argv)`` in-process in ``cwd`` (see :func:`run_call`)."""
    from cilib.run.cli import main

    return run_call(lambda: main(argv), cwd, env)


def run_subprocess(
    argv: list[str], cwd: Path, *, memory_mb: int = 800, timeout: float = 60
) -> tuple[int | None, str, str, str | None]:
    """Run ``python -m cilib argv`` in a child with its address space capped at ``memory_mb``.

    Used for inputs that could exhaust the machine's memory without the fix (a YAML alias
    bomb): the cap turns that into a MemoryError in the child, reported as a crash.
    """
    import resource
    import subprocess
    import sys

    def limit() -> None:  # pragma: no cover - runs in the child
        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    env = {k: v for k, v in os.environ.items() if k != "CILIB_PSEUDONYM_KEY"}
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "cilib", *argv],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=limit,
        )
    except subprocess.TimeoutExpired as exc:
        return None, str(exc.stdout or ""), str(exc.stderr or ""), f"timed out after {timeout}s"
    crash = None
    if "Traceback (most recent call last)" in proc.stderr or proc.returncode < 0:
        tail = proc.stderr.strip().splitlines()[-1:] or [f"signal {-proc.returncode}"]
        crash = f"exit {proc.returncode}: {tail[0]}"
    return proc.returncode, proc.stdout, proc.stderr, crash


def run_case(case, root: Path, small_trust: Path) -> CaseRun:
    """Copy the small trust into ``root``, apply the case's mutation, run it and snapshot."""
    config = prepare_case_root(root, small_trust)
    notes: list[str] = []
    if case.mutate is not None:
        case.mutate(root / "trust")
    fill = {"config": str(config), "trust": str(root / "trust"), "root": str(root)}
    for pre in case.before_run:
        code, _o, e, crash = run_argv([a.format(**fill) for a in pre], root / "work")
        if crash or code != 0:
            notes.append(f"set-up command {pre[:2]} exited {code}: {crash or e.strip()[-300:]}")
    if case.after_setup is not None:
        case.after_setup(root / "trust")
    parent_before = {p.name for p in root.parent.iterdir()}
    before = snapshot(root)
    if case.call is not None:
        code, out, err, crash = run_call(lambda: case.call(root), root / "work", case.env)
    else:
        argv = [a.format(**fill) for a in case.argv]
        if case.subprocess:
            code, out, err, crash = run_subprocess(argv, root / "work")
        else:
            code, out, err, crash = run_argv(argv, root / "work", case.env)
    return CaseRun(
        root=root,
        exit_code=code,
        stdout=out,
        stderr=err,
        crash=crash,
        before=before,
        after=snapshot(root),
        parent_before=parent_before,
        parent_after={p.name for p in root.parent.iterdir()},
        notes=notes,
    )
