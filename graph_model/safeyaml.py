"""Reading the YAML files people write (annotation files, a user taxonomy) defensively.

* :func:`read_text_file` reads only a regular file (a FIFO would block forever, ``/dev/zero``
  would fill the memory), at most :data:`MAX_YAML_BYTES`, as UTF-8; a symlink loop or an
  unreadable file is one sentence naming the file.
* :class:`StrictLoader` is PyYAML's safe loader that refuses a key given twice in one mapping
  (the second ``learning_points:`` would silently replace the first) and nesting deeper than
  :data:`MAX_DEPTH` (PyYAML composes recursively: 5,000 ``[`` exhaust Python's stack). Both
  are ordinary YAML errors with a line and column, shown by
  :func:`graph_model.errors.yaml_problem`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import yaml

from .errors import SgraphError

MAX_YAML_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64


def read_text_file(
    path: str | os.PathLike[str], error: Callable[[str], SgraphError], limit: int = MAX_YAML_BYTES
) -> str:
    """The UTF-8 text of the regular file ``path``; anything else raises ``error(message)``."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise error(f"{p}: does not exist.") from None
    except OSError as exc:
        raise error(f"{p}: cannot be read ({exc.strerror or exc}).") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise error(f"{p}: is a folder, not a file.")
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{p}: is not a regular file (a device, pipe or socket); give a YAML file.")
        if st.st_size > limit:
            raise error(f"{p}: is larger than the {limit // (1024 * 1024)} MB limit for a YAML file.")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise error(f"{p}: cannot be read ({exc.strerror or exc}).") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise error(f"{p}: is larger than the {limit // (1024 * 1024)} MB limit for a YAML file.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{p}: is not UTF-8 text.") from None


class StrictLoader(yaml.SafeLoader):
    """Safe loading, without duplicate keys and without deep nesting."""

    _depth = 0

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, f"the data is nested more than {MAX_DEPTH} levels deep", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        if isinstance(node, yaml.MappingNode):
            seen: dict[object, int] = {}
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: PyYAML's own error follows
                    continue
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"the key '{key}' is given twice in one mapping (first at line {first}); "
                        "the second would silently replace the first",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def load(text: str):  # type: ignore[no-untyped-def]
    """``yaml.safe_load`` with :class:`StrictLoader`."""
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader


def compose(text: str) -> yaml.Node | None:
    """``yaml.compose`` with :class:`StrictLoader` (the depth limit)."""
    return yaml.compose(text, Loader=StrictLoader)


def regex_may_backtrack(pattern: str) -> bool:
    """Whether an unbounded repeat in ``pattern`` holds another unbounded repeat or an
    alternation: the shapes that make a backtracking engine take exponential time."""
    import re._constants as c
    import re._parser as parser

    def branchy(items: list) -> bool:
        return any(op == c.BRANCH or (op == c.SUBPATTERN and branchy(av[3])) for op, av in items)

    def walk(items: list, inside: bool) -> bool:
        for op, av in items:
            if op in (c.MAX_REPEAT, c.MIN_REPEAT):
                _lo, hi, sub = av
                unbounded = hi == c.MAXREPEAT or hi > 50
                if unbounded and (inside or branchy(sub)):
                    return True
                if walk(sub, inside or unbounded):
                    return True
            elif op == c.SUBPATTERN and walk(av[3], inside):
                return True
            elif op == c.BRANCH and any(walk(b, inside) for b in av[1]):
                return True
            elif op in (c.ASSERT, c.ASSERT_NOT) and walk(av[1], inside):
                return True
        return False

    try:
        return walk(parser.parse(pattern), False)
    except Exception:  # noqa: BLE001 - an invalid pattern is reported by re.compile above
        return False
