"""Errors that reach the user as one clear sentence.

Every error the tool raises on purpose derives from :class:`SgraphError`; the CLI prints
its message (never a traceback) and exits with its ``exit_code``.
Exit codes: 0 success, 1 a problem with the input, data or environment, 2 a usage error.
"""

from __future__ import annotations


class SgraphError(Exception):
    """Base class: a problem the user can fix, described in one sentence."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(SgraphError):
    """A document or data file cannot be used (empty, binary, scanned PDF, ...)."""


class TaxonomyError(SgraphError):
    """The taxonomy YAML (shipped or user-supplied) is malformed or inconsistent."""


class UsageError(SgraphError):
    """The command was called wrongly (unknown name, missing parameter, ...)."""

    exit_code = 2


class OutputError(SgraphError):
    """An output cannot be written (exists without --force, no permission, ...)."""


class DatabaseError(SgraphError):
    """Neo4j or the embedded store cannot be reached or refused a query."""


def file_problem(path: object, problem: str) -> InputError:
    """An :class:`InputError` whose message names the file first."""
    return InputError(f"{path}: {problem}")


def yaml_problem(exc: Exception) -> str:
    """A PyYAML error as the end of one sentence: "malformed YAML at line 3, column 5: found
    a tab character" (the line and column where PyYAML marks them)."""
    import yaml

    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return f"malformed YAML{where}: {exc.problem or exc.context or 'invalid YAML'}"
    return f"malformed YAML: {exc}"
