"""Strip outputs and execution counts from notebooks before they are committed.

Usage: ``python -m cilib.run.nbstrip notebooks/*.ipynb`` (rewrites files in place; prints what
changed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def strip(path: Path) -> bool:
    """Remove outputs and execution counts from one notebook; return True if it changed."""
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    nb.get("metadata", {}).pop("papermill", None)
    new = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False


def main(argv: list[str] | None = None) -> int:
    """Strip each notebook named on the command line."""
    for name in argv if argv is not None else sys.argv[1:]:
        if strip(Path(name)):
            print(f"stripped {name}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
