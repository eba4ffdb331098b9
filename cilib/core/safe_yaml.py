"""One strict YAML loader for every file cilib reads (trust config, mapping files, plan).

:class:`StrictLoader` is PyYAML's ``SafeLoader`` with two safeguards:

- a key that appears twice in the same mapping is an error naming the key and both lines
  (plain PyYAML keeps the last value silently, so a second ``suppression_threshold:`` further
  down a file would quietly win);
- aliases (``*name``) are refused. cilib's files never need them, and refusing them is the one
  robust defence against an alias bomb ("billion laughs"), where nine short lines expand to a
  billion nodes and exhaust memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cilib.core.errors import ConfigError


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys and aliases."""

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102
        if self.check_event(yaml.events.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None,
                None,
                f"the alias *{event.anchor} is not allowed: cilib files do not accept YAML "
                "aliases (*name); write the value out in full",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:  # noqa: D102
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for knode, _ in node.value:
                try:
                    key = self.construct_object(knode, deep=True)
                    hash(key)
                except TypeError:
                    continue  # the base class reports an unhashable key
                line = knode.start_mark.line + 1
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"the key {key!r} appears twice in the same block (lines {seen[key]} "
                        f"and {line}); keep one",
                        knode.start_mark,
                    )
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def decode_utf8(data: bytes, source: str) -> str:
    """Return ``data`` decoded as UTF-8 (a byte-order mark is dropped), or raise a ConfigError.

    A file saved by Notepad or Excel as "ANSI" (cp1252) has bytes that are not UTF-8; the error
    names the line and says how to fix it.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{source} line {line} is not UTF-8 text (byte {data[exc.start]:#04x}). Save the "
            "file as UTF-8 (in Notepad: File > Save as > Encoding: UTF-8)."
        ) from None


def read_yaml_text(path: Path, what: str = "file") -> str:
    """Return the text of the YAML file ``path``, checking it is a readable UTF-8 file."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"The {what} {path} does not exist.")
    if path.is_dir():
        raise ConfigError(f"The {what} {path} is a folder; give the path of the YAML file.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"The {what} {path} cannot be read: {exc.strerror}.") from None
    return decode_utf8(data, path.name)


def loads(text: str, source: str) -> Any:
    """Parse YAML text with :class:`StrictLoader`; a YAML error becomes a ConfigError.

    The message names ``source`` and the line at fault.
    """
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{source} is not valid YAML{where}: {problem}") from None


def load_file(path: Path, what: str = "file") -> Any:
    """Read and parse the YAML file ``path`` (see :func:`read_yaml_text` and :func:`loads`)."""
    return loads(read_yaml_text(path, what), Path(path).name)
