"""Build a batch notebook from a compact spec (a developer tool; the .ipynb files are the source).

``build(path, cells, scope=..., title=...)`` writes a notebook whose cells are given as
``("md" | "params" | "code", source)`` pairs, with deterministic cell ids, the ``parameters`` tag
on the parameters cell and ``metadata.cilib.scope`` ("both", "school" or "trust") that tells the
batch which targets to run it for. ``PARAMS`` is the standard parameters cell and ``OPEN`` the
standard first code cell (``OPEN.format(title=...)``).
"""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def build(path, cells, scope="both", title=""):
    """Write a notebook at ``path`` from ``(kind, source)`` cells with the cilib metadata."""
    nb = new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "cilib": {"scope": scope},
        "title": title,
    }
    for kind, src in cells:
        if kind == "md":
            c = new_markdown_cell(src)
        elif kind == "params":
            c = new_code_cell(src, metadata={"tags": ["parameters"]})
        else:
            c = new_code_cell(src)
        c["id"] = f"c{len(nb.cells):02d}"
        nb.cells.append(c)
    nbformat.write(nb, path)


PARAMS = (  # noqa: E501 - the notebooks' parameters cell, kept as it appears there
    """store: str = ""  # prepared store folder, set by the batch (empty: prepare it from config)
config: str = "../data/sample/trust.yml"  # trust config, used only when store is empty
school_id: "Optional[str]" = None  # school to report on (None: the whole trust)
period: str = "2025/26 HT6"  # half-term to report on"""
)

OPEN = """import cilib as ci

s = ci.open_store(store, config=config, period=period)
ci.report.summary(s, school_id, "{title}")"""
