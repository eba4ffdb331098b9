"""Errors a user can cause, each with a message that says what to fix.

The command line catches :class:`CilibError` and prints its message without a traceback.
"""

from __future__ import annotations


class CilibError(Exception):
    """Base class for errors a user can fix (bad config, missing file, bad data)."""


class ConfigError(CilibError):
    """The trust config (YAML) is missing, malformed, or names something that does not exist."""


class DataError(CilibError):
    """An input file is missing, unreadable, or lacks a required column."""


class PlanError(CilibError):
    """The improvement plan (plan.yml) is malformed."""
