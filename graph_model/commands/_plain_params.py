"""Text options without pydantic: a start-up saving for every command.

typer (0.29 and later) converts each command-line value with a pydantic ``TypeAdapter``,
so the first option a command reads imports pydantic: about as long again as importing
typer itself, and more than ``sgraph query list`` does otherwise. For the commonest case,
a plain ``str`` parameter given as text (or a ``bool`` flag, such as ``--help``, given as
true or false), there is nothing to convert: :func:`install`
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
from typing import Any


def install() -> bool:
    """Let plain text options skip pydantic; False when this typer has no place for it."""
    try:
        from typer import _coercion
        from typer import core as typer_core

        original = typer_core.build_runtime_param
        runtime_param = _coercion.RuntimeParam
    except (ImportError, AttributeError):  # pragma: no cover - another typer
        return False
    if getattr(original, "_sgraph_plain", False):
        return True

    @dataclass(frozen=True)
    class Plain(runtime_param):  # type: ignore[misc, valid-type]
        """A ``str`` or ``bool`` parameter: a value already of that type passes as it is
        (a missing one is handled before, by typer); anything else goes to typer's
        conversion (made when first needed)."""

        descriptor: Any = None

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if type(value) is self.annotation:
                return value
            return original(self.descriptor)._coerce_value(value, param=param, ctx=ctx)

    def build_runtime_param(descriptor: Any) -> Any:
        info = getattr(descriptor, "parameter_info", None)
        if (
            getattr(descriptor, "annotation", None) in (str, bool)
            and getattr(descriptor, "file_annotation", None) is None
            and info is not None
            and getattr(info, "parser", None) is None
            and getattr(info, "click_type", None) is None
        ):
            return Plain(parameter_info=info, annotation=descriptor.annotation, descriptor=descriptor)
        return original(descriptor)

    build_runtime_param._sgraph_plain = True  # type: ignore[attr-defined]
    typer_core.build_runtime_param = build_runtime_param
    return True
