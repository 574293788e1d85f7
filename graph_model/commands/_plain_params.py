"""Text options without pydantic: a start-up saving for every command.

typer (0.29 and later) converts each command-line value with a pydantic ``TypeAdapter``,
so the first option a command reads imports pydantic: about as long again as importing
typer itself, and more than ``sgraph query list`` does otherwise. For the commonest case,
a plain ``str`` parameter given as text (or a ``bool`` flag, such as ``--help``, given as
true or false, or a list of texts), there is nothing to convert, and a ``Path`` needs only
typer's checks (done by its own function) and ``Path()``: :func:`install`
makes typer hand such values through as they are, and leaves every other annotation
(paths, numbers, lists of them...) and every other kind of value to typer's own
conversion, built on first use as before.

It replaces one function of typer's private ``typer.core`` module. If a later typer
release no longer has the pieces this relies on, :func:`install` changes nothing: start-up
is slower, behaviour the same. ``tests/test_startup.py`` checks both the saving and that
values and errors still come through.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

_FLAGS = (bool, bool | None)


def install() -> bool:
    """Let plain text options skip pydantic; False when this typer has no place for it."""
    try:
        from typer import _coercion
        from typer import core as typer_core
        from typer._param_types import coerce_cli_path

        original = typer_core.build_runtime_param
        runtime_param = _coercion.RuntimeParam
    except (ImportError, AttributeError):  # pragma: no cover - another typer
        return False
    if getattr(original, "_sgraph_plain", False):
        return True

    @dataclass(frozen=True)
    class Plain(runtime_param):  # type: ignore[misc, valid-type]
        """A ``str``, ``bool``, ``bool | None``, ``Path`` or ``list[str]`` parameter: a value
        already of that type passes as it is (a missing one is handled before, by typer),
        a path is checked by typer's own function; anything else goes to typer's
        conversion (made when first needed)."""

        descriptor: Any = None

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            kind = self.annotation
            if kind is str and type(value) is str:
                return value
            if kind in _FLAGS and type(value) is bool:
                return value
            if kind is Path and type(value) is str:
                # typer's own checks of a path (exists, readable ...), without its conversion to Path
                return Path(coerce_cli_path(value, self.parameter_info, path_type=None, param=param, ctx=ctx))
            if kind == list[str] and isinstance(value, (list, tuple)) and all(type(v) is str for v in value):
                return list(value)
            return original(self.descriptor)._coerce_value(value, param=param, ctx=ctx)

    def build_runtime_param(descriptor: Any) -> Any:
        info = getattr(descriptor, "parameter_info", None)
        annotation = getattr(descriptor, "annotation", None)
        if (
            (annotation in (str, Path, *_FLAGS) or (get_origin(annotation) is list and get_args(annotation) == (str,)))
            and getattr(descriptor, "file_annotation", None) is None
            and getattr(info, "path_type", None) is None
            and info is not None
            and getattr(info, "parser", None) is None
            and getattr(info, "click_type", None) is None
        ):
            return Plain(parameter_info=info, annotation=descriptor.annotation, descriptor=descriptor)
        return original(descriptor)

    build_runtime_param._sgraph_plain = True  # type: ignore[attr-defined]
    typer_core.build_runtime_param = build_runtime_param
    return True
