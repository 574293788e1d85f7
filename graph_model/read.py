"""Read review documents (txt, md, html, pdf, docx) into :class:`~graph_model.models.Document`.

Reading happens in two steps:

1. *extraction* turns the file into ``raw`` text: decoded text for ``.txt``/``.md``, the
   HTML source for ``.html``/``.htm``, the pypdf text layer for ``.pdf`` and the paragraphs
   and table rows of a ``.docx``;
2. *normalisation* (:func:`normalise`) turns ``raw`` into the clean ``text`` that extraction
   works on, together with ``offsets``: ``offsets[i]`` is the index in ``raw`` that
   ``text[i]`` came from, so every quote can be traced back to the file.

Characters that normalisation *inserts* (a line break standing for ``<li>``, a tab standing
for ``<td>``, the character an entity such as ``&amp;`` decodes to, a space standing for a
no-break space) map to the index of the first character of the markup they replace, so
``offsets`` is always non-decreasing and every entry points at a real character of ``raw``.

:func:`detect_sections` then finds headings by their shape and classifies them by keywords.
"""

from __future__ import annotations

import codecs
import hashlib
import html
import io
import logging
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import InputError, file_problem
from .models import Document, Section, SectionKind

__all__ = [
    "MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "detect_sections",
    "iter_document_paths",
    "normalise",
    "read_document",
]

MAX_BYTES = 50 * 1024 * 1024
# Extraction holds about 23 KB per sentence; these bound one document's memory to about 1 GB.
MAX_TEXT_CHARS = 1_500_000  # clean text; a long national review is about 400,000
MAX_RAW_CHARS = 4 * MAX_TEXT_CHARS  # before cleaning (markup included): checked first, cheaply
MAX_DOCX_XML_BYTES = 200 * 10**6
MAX_PARAGRAPHS = 100_000  # a 100-page review has about 1,500
"""Largest input file accepted (50 MB)."""

SUPPORTED_SUFFIXES: tuple[str, ...] = (".docx", ".htm", ".html", ".md", ".pdf", ".txt")
"""File suffixes :func:`read_document` understands (compared case-insensitively)."""

_SUPPORTED_LIST = ", ".join(SUPPORTED_SUFFIXES)

# --------------------------------------------------------------------------------------
# Offset-preserving text buffer
# --------------------------------------------------------------------------------------


class _Buf:
    """The text being cleaned, each character with its index in ``raw``.

    ``copied[i]`` is 1 when ``text[i]`` is the very character ``raw[offs[i]]`` (as opposed
    to a character inserted or substituted by normalisation). The text is a ``str`` and the
    maps are flat lists, so each pass slices at C speed instead of touching every character
    in Python.
    """

    __slots__ = ("_text", "offs", "copied")

    def __init__(self, text: str, offs: list[int], copied: bytearray):
        self._text = text
        self.offs = offs
        self.copied = copied

    @classmethod
    def from_raw(cls, raw: str) -> _Buf:
        return cls(raw, list(range(len(raw))), bytearray(b"\x01") * len(raw))

    def text(self) -> str:
        return self._text


class _Out:
    """Builds the next :class:`_Buf` from slices of the current one plus insertions."""

    __slots__ = ("src", "pieces", "offs", "copied")

    def __init__(self, src: _Buf):
        self.src = src
        self.pieces: list[str] = []
        self.offs: list[int] = []
        self.copied = bytearray()

    def keep(self, i: int, j: int) -> None:
        """Copy source positions ``[i, j)`` unchanged."""
        if i < 0 or j <= i:
            return
        self.pieces.append(self.src._text[i:j])
        self.offs.extend(self.src.offs[i:j])
        self.copied.extend(self.src.copied[i:j])

    def insert(self, text: str, at: int) -> None:
        """Insert ``text``, mapping each of its characters to source position ``at``."""
        if not text:
            return
        self.pieces.append(text)
        self.offs.extend([self.src.offs[at]] * len(text))
        self.copied.extend(bytes(len(text)))

    def line_has_content(self) -> bool:
        """Whether the output's current (last) line holds anything but spaces and tabs."""
        for piece in reversed(self.pieces):
            for ch in reversed(piece):
                if ch == "\n":
                    return False
                if ch not in " \t":
                    return True
        return False

    def buf(self) -> _Buf:
        return _Buf("".join(self.pieces), self.offs, self.copied)


_Repl = Callable[[re.Match[str], _Out], None]


def _rewrite(buf: _Buf, pattern: re.Pattern[str], repl: _Repl) -> _Buf:
    """Apply ``repl`` to every match of ``pattern``; text between matches is kept."""
    s = buf.text()
    out = _Out(buf)
    pos = 0
    matched = False
    for m in pattern.finditer(s):
        matched = True
        out.keep(pos, m.start())
        repl(m, out)
        pos = m.end()
    if not matched:
        return buf
    out.keep(pos, len(s))
    return out.buf()


def _drop(m: re.Match[str], out: _Out) -> None:
    """Replacement that removes the match."""


def _keep_group(n: int) -> _Repl:
    def repl(m: re.Match[str], out: _Out) -> None:
        out.keep(m.start(n), m.end(n))

    return repl


def _keep_first(chars: str) -> _Repl:
    """Keep only the first character of the match that is in ``chars``."""

    def repl(m: re.Match[str], out: _Out) -> None:
        text = m.group()
        for k, ch in enumerate(text):
            if ch in chars:
                out.keep(m.start() + k, m.start() + k + 1)
                return

    return repl


def _replace_with(text: str) -> _Repl:
    def repl(m: re.Match[str], out: _Out) -> None:
        out.insert(text, m.start())

    return repl


# --------------------------------------------------------------------------------------
# Stage 1: HTML tags and entities
# --------------------------------------------------------------------------------------

_TAG_RE = re.compile(
    r"""
      (?P<comment><!--.*?(?:-->|\Z))
    | (?P<decl><!(?i:doctype)[^>]*>|<\?xml[^>]*>|<!\[CDATA\[.*?(?:\]\]>|\Z))
    | <(?P<close>/)?(?P<name>[A-Za-z][A-Za-z0-9]*)
        (?P<attrs>(?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)
        \s*(?P<selfclose>/)?>
    | (?P<entity>&(?:\#[0-9]{1,7}|\#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)
    | (?P<dash>(?<=[ \t])[-\u2013\u2014](?=[ \t]+[A-Z0-9"'\u2018\u201c(]))
    | (?P<ws>[ \t\n\r\f]+)
    """,
    re.VERBOSE | re.DOTALL,
)
# In text mode a run of plain spaces never matters: match only runs that break a line or
# a cell (they end a dash-bulleted inline list), which makes far fewer matches.
# Plain text is not HTML: there a comment or CDATA section is markup only when it is
# closed (an unclosed "<!--" is two characters of text, not the start of a hidden rest).
_TAG_RE_TEXT = re.compile(
    _TAG_RE.pattern.replace(r"(?P<ws>[ \t\n\r\f]+)", r"(?P<ws>[ ]*[\t\n\r\f][ \t\n\r\f]*)")
    .replace(r"(?:-->|\Z)", "-->")
    .replace(r"(?:\]\]>|\Z)", r"\]\]>"),
    re.VERBOSE | re.DOTALL,
)
assert _TAG_RE_TEXT.pattern.count(r"\Z") == 0 and _TAG_RE.pattern.count(r"\Z") == 2

# Tags whose content is not text.
_HIDDEN_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "math", "object"})
# Tags that start a new line (both the opening and the closing tag).
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "br", "caption", "center", "dd",
        "details", "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer",
        "form", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hr", "html", "legend",
        "main", "nav", "ol", "option", "p", "pre", "section", "summary", "table", "tbody",
        "tfoot", "thead", "title", "ul",
    }
)  # fmt: skip
# Tags that simply vanish.
_INLINE_TAGS = frozenset(
    {
        "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "col", "colgroup",
        "data", "del", "dfn", "em", "font", "i", "img", "input", "ins", "kbd", "label", "link",
        "mark", "meta", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup",
        "time", "tt", "u", "var", "wbr", "button", "select", "textarea", "iframe", "base",
    }
)  # fmt: skip
_ROW_TAGS = frozenset({"tr"})
_CELL_TAGS = frozenset({"td", "th"})
_LIST_TAGS = frozenset({"ul", "ol", "dir", "menu"})
# Outside .html/.htm files (text, markdown, a PDF's or a Word file's text) only these are
# markup: layout tags, removed without their content. A "<script" or "<svg" there is text
# someone wrote; nothing between tags is ever dropped.
_KNOWN_TAGS = _BLOCK_TAGS | _INLINE_TAGS | _ROW_TAGS | _CELL_TAGS | _LIST_TAGS | {"li"}


def _strip_markup(buf: _Buf, html_mode: bool, unclosed: list[tuple[str, int, int]] | None = None) -> _Buf:
    """Remove HTML tags, hidden elements and comments; decode entities.

    In ``html_mode`` every tag is markup and source whitespace (line breaks included) is
    just a space, except inside ``<pre>``. Otherwise (text converted from PDF, with HTML
    fragments in table cells) only known HTML tag names are markup and line breaks count.

    A ``<ul>``/``<ol>`` written without ``<li>`` items but with dash bullets inline
    ("<ul> – First item. – Second item.") is split into lines at each dash that is followed
    by a capital letter or a digit, until the list ends (closing tag, ``<li>``, a tab or a
    line break of the source).

    ``unclosed`` receives ``(tag, start, length)`` for each hidden element (HTML files
    only) or comment whose end never comes, so that everything after it is dropped.
    """
    s = buf.text()
    out = _Out(buf)
    pos = 0
    in_inline_list = False
    pre_depth = 0
    for m in (_TAG_RE if html_mode else _TAG_RE_TEXT).finditer(s):
        if m.start() < pos:
            continue  # inside a hidden element we skipped
        out.keep(pos, m.start())
        pos = m.end()
        kind = m.lastgroup
        if kind in ("comment", "decl"):
            if unclosed is not None and m.end() == len(s) and not m.group().endswith(">"):
                unclosed.append((m.group()[:4], m.start(), m.end() - m.start()))
            continue
        if kind == "entity":
            decoded = html.unescape(m.group())
            if decoded == m.group():
                pos = m.start()  # not an entity after all: kept with the next slice
            else:
                out.insert(decoded, m.start())
            continue
        if kind == "dash":
            if in_inline_list:
                out.insert("\n", m.start())
            else:
                pos = m.start()
            continue
        if kind == "ws":
            ws = m.group()
            if html_mode and not pre_depth:
                if ws[0] == " ":
                    out.keep(m.start(), m.start() + 1)
                else:
                    out.insert(" ", m.start())
            else:
                pos = m.start()  # unchanged: kept with the next slice
                if "\n" in ws or "\t" in ws or "\r" in ws:
                    in_inline_list = False
            continue
        # A tag.
        name = m.group("name").lower()
        closing = m.group("close") is not None
        if not html_mode and name not in _KNOWN_TAGS:
            pos = m.start()  # "<Name>" in plain text is not markup: kept as it is
            continue
        if name in _HIDDEN_TAGS and not closing and m.group("selfclose") is None:
            end = re.compile(rf"</{name}\s*>", re.IGNORECASE).search(s, m.end())
            pos = end.end() if end else len(s)
            if end is None and unclosed is not None:
                unclosed.append((f"<{name}>", m.start(), len(s) - m.start()))
            continue
        if name == "li":
            in_inline_list = False
            if not closing:
                out.insert("\n", m.start())
        elif name in _LIST_TAGS:
            in_inline_list = not closing
            out.insert("\n", m.start())
        elif name in _ROW_TAGS:
            if not closing:
                out.insert("\n", m.start())
        elif name in _CELL_TAGS:
            if not closing and out.line_has_content():
                out.insert("\t", m.start())
        elif name in _BLOCK_TAGS:
            if name == "pre":
                pre_depth = max(0, pre_depth + (-1 if closing else 1))
            out.insert("\n", m.start())
        elif name in _INLINE_TAGS:
            pass
        elif html_mode:
            pass  # unknown tag in an HTML file: drop it
    out.keep(pos, len(s))
    return out.buf()


# --------------------------------------------------------------------------------------
# Stage 2: characters (line endings, invisible characters, odd spaces, ligatures)
# --------------------------------------------------------------------------------------

_LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
}
_CHAR_RE = re.compile(
    "(?P<crlf>\r\n)"
    "|(?P<newline>[\r\x0b\x0c\x85\u2028\u2029])"
    "|(?P<invisible>[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u200b-\u200d\u2060\ufeff])"
    "|(?P<space>[\xa0\u1680\u2000-\u200a\u202f\u205f\u3000])"
    "|(?P<ligature>[\ufb00-\ufb06])"
)


def _fix_char(m: re.Match[str], out: _Out) -> None:
    kind = m.lastgroup
    if kind == "crlf":
        out.keep(m.start() + 1, m.end())
    elif kind == "newline":
        out.insert("\n", m.start())
    elif kind == "space":
        out.insert(" ", m.start())
    elif kind == "ligature":
        out.insert(_LIGATURES[m.group()], m.start())
    # invisible: dropped


# --------------------------------------------------------------------------------------
# Stage 3: line-level markdown (headings, rules, bullets)
# --------------------------------------------------------------------------------------

_HASH_RE = re.compile(r"(?m)^([ \t]*)#{1,6}(?:[ \t]+|$)")
_RULE_RE = re.compile(r"(?m)^[ \t]*([-*_=])(?:[ \t]*\1){2,}[ \t]*$")
# Glyphs that are a bullet at line start when followed by a space ("- item", "* item").
_SPACED_BULLETS = "-\u2013\u2014*\u00b7\u2022\u25aa\u25cf\u25e6\u2023\u25cb\u25a0\u25a1\u27a2\u25ba\u2713\u2714\uf0b7\uf0a7\uf0d8\uf076\uf0fc"
# Glyphs that are a bullet at line start even when glued to the word ("•item").
_TIGHT_BULLETS = "\u2022\u25aa\u25cf\u25e6\u2023\u25a0\u27a2\u25ba\uf0b7\uf0a7\uf0d8"
_BULLET_RE = re.compile(
    rf"(?m)^([ \t]*)(?:[{re.escape(_SPACED_BULLETS)}](?:[ \t]+|$)|[{re.escape(_TIGHT_BULLETS)}])+"
)
# A bullet glyph in the middle of a line ("... first. • Second ...") starts a new line.
_MID_BULLET_RE = re.compile(r"(?<=[ \t])[\u2022\u25aa\u25cf\u25e6\uf0b7\uf0a7](?=[ \t])")

# --------------------------------------------------------------------------------------
# Stage 4: inline markdown (links, emphasis, backslash escapes)
# --------------------------------------------------------------------------------------

_LINK_RE = re.compile(r"!?\[([^\[\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:[ \t]+\"[^\"\n]*\")?\)")
_STARS_RE = re.compile(r"\*{2,}")
_UNDERSCORE_RE = re.compile(r"(?<![\w\\])_{2,3}(?=[^\s_])((?:[^_\n]|_(?!_))*?[^\s_\\])_{2,3}(?!\w)")
_STAR_RE = re.compile(r"(?<![\w*\\])\*(?=[^\s*])([^*\n]*?[^\s*\\])\*(?![\w*])")
_ESCAPE_RE = re.compile(r"\\([!-/:-@\[-`{-~])|\\(?=\n)")

# --------------------------------------------------------------------------------------
# Stage 5: whitespace
# --------------------------------------------------------------------------------------

_TRAILING_RE = re.compile(r"(?m)[ \t]+$")
_LEADING_SPACES_RE = re.compile(r"(?m)^ +")
_TAB_RUN_RE = re.compile(r"[ \t]*\t[ \t]*")
_SPACE_RUN_RE = re.compile(r" {2,}")
_BLANK_LINES_RE = re.compile(r"\n{3,}")
def _trim(buf: _Buf) -> _Buf:
    """Strip white space at both ends (str.strip finds the ends without a regex scan)."""
    text = buf.text()
    stripped = text.strip()
    if len(stripped) == len(text):
        return buf
    if not stripped:
        return _Buf("", [], bytearray())
    start = len(text) - len(text.lstrip())
    end = start + len(stripped)
    return _Buf(stripped, buf.offs[start:end], buf.copied[start:end])


# A pass whose pattern cannot match without one of these characters is skipped when none
# of them occurs: a cheap ``in`` test instead of a regular-expression scan of the text.
_CHAR_CLASS_RE = re.compile("[\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00a0\u00ad\u1680\u2000-\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufb00-\ufb06\ufeff]")


_MARKUP_HINT_RE = re.compile(r"<[A-Za-z/!?]|&(?:#|[A-Za-z][A-Za-z0-9]{1,31};)")


def _has_any(s: str, chars: str) -> bool:
    return any(c in s for c in chars)


def _normalise(raw: str, html_mode: bool = False, unclosed: list[tuple[str, int, int]] | None = None) -> _Buf:
    """The whole normalisation pipeline; returns the buffer with its ``copied`` flags."""
    buf = _Buf.from_raw(raw)
    if html_mode or _MARKUP_HINT_RE.search(raw):
        buf = _strip_markup(buf, html_mode, unclosed)
    if _CHAR_CLASS_RE.search(buf.text()):
        buf = _rewrite(buf, _CHAR_RE, _fix_char)
    if "#" in buf.text():
        buf = _rewrite(buf, _HASH_RE, _keep_group(1))
    if _has_any(buf.text(), "-*_="):
        buf = _rewrite(buf, _RULE_RE, _drop)
    buf = _rewrite(buf, _BULLET_RE, _keep_group(1))
    if _has_any(buf.text(), "\u2022\u25aa\u25cf\u25e6\uf0b7\uf0a7"):
        buf = _rewrite(buf, _MID_BULLET_RE, _replace_with("\n"))
    if "](" in buf.text():
        buf = _rewrite(buf, _LINK_RE, _keep_group(1))
    if "*" in buf.text():
        buf = _rewrite(buf, _STARS_RE, _drop)
    if "__" in buf.text():
        buf = _rewrite(buf, _UNDERSCORE_RE, _keep_group(1))
    if "*" in buf.text():
        buf = _rewrite(buf, _STAR_RE, _keep_group(1))
    if "\\" in buf.text():
        buf = _rewrite(buf, _ESCAPE_RE, _keep_group(1))
    # Spaces before a line break or the end ("(?m)[ \t]+$"), spaces after a line break or
    # the start ("(?m)^ +"): without them the passes would find nothing, and scanning the
    # whole text for the first was about 2% of extraction.
    text = buf.text()
    if " \n" in text or "\t\n" in text or text.endswith((" ", "\t")):
        buf = _rewrite(buf, _TRAILING_RE, _drop)
    text = buf.text()
    if "\n " in text or text.startswith(" "):
        buf = _rewrite(buf, _LEADING_SPACES_RE, _drop)
    if "\t" in buf.text():
        buf = _rewrite(buf, _TAB_RUN_RE, _keep_first("\t"))
    if "  " in buf.text():
        buf = _rewrite(buf, _SPACE_RUN_RE, _keep_first(" "))
    if "\n\n\n" in buf.text():
        buf = _rewrite(buf, _BLANK_LINES_RE, lambda m, out: out.keep(m.start(), m.start() + 2))
    buf = _trim(buf)
    return buf


def normalise(raw: str) -> tuple[str, list[int]]:
    """Clean ``raw`` text and map every clean character back to ``raw``.

    Removes markdown emphasis (``*``, ``**``, ``***``, ``__``), heading hashes, horizontal
    rules, ``[text](url)`` links (keeping the text), backslash escapes, HTML tags (block
    tags such as ``<p>``, ``<li>``, ``<br>``, ``</ul>`` become line breaks, ``<td>`` a tab,
    inline tags such as ``<u>`` vanish; ``<script>``/``<style>`` content is dropped), HTML
    entities and bullet glyphs at line start (the line break stays; a ``•`` in the middle
    of a line starts a new line). List numbering such as ``1.`` is kept. Runs of spaces
    become one space, runs of tabs one tab, trailing spaces are stripped, three or more
    line breaks become two (at most one blank line), and the text is stripped.

    Returns ``(text, offsets)`` with ``len(offsets) == len(text) + 1``: ``offsets[i]`` is
    the index in ``raw`` of ``text[i]`` (for an inserted character, the index of the
    first character of the markup it stands for) and ``offsets[-1] == len(raw)``.
    """
    buf = _normalise(raw)
    return buf.text(), [*buf.offs, len(raw)]


# --------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------

# (kind, pattern, where): where is "any" (a strong keyword, anywhere in the heading),
# "start" (a weak keyword, only at the start) or "whole" (the whole heading).
_KEYWORD_SPECS: list[tuple[SectionKind, str, str]] = [
    # methodology first so that "What you learnt about the review" beats "what you learnt"
    (
        "methodology",
        r"what (?:you|we|i) (?:have )?learn(?:t|ed) about the (?:review|methodology|method|process)"
        r"|methodology|type of review|about (?:the|this) review|(?:the )?review process"
        r"|terms of reference|scope of (?:the|this) review|how (?:the|this) review was"
        r"|approach to (?:the|this) review|review method(?:s|ology)?",
        "any",
    ),
    ("methodology", r"methods?|the process", "start"),
    (
        "key_learning",
        r"key learning|learning points?|key messages?|what (?:you|we|i) (?:have )?learn(?:t|ed)"
        r"|findings and learning|learning (?:themes|outcomes|identified|for practice|for practitioners|for agencies)"
        r"|learning from (?:this|the) (?:review|case)|themes and learning|early learning|key lessons?"
        r"|what (?:can|should) (?:we|be) learn(?:t|ed)|practice learning|key themes"
        r"|what (?:did|do|have|has) (?:we|you|they|the review|agencies) (?:learn(?:t|ed)?|learnt)",
        "any",
    ),
    ("key_learning", r"learning|the learning|lessons", "whole"),
    (
        "lessons_learned",
        r"lessons? (?:learn(?:ed|t)|to be learn(?:ed|t)|for the future|identified)|learning the lessons",
        "any",
    ),
    (
        "learning_taken",
        r"learning already taken|actions? (?:already )?taken|changes (?:already )?(?:made|implemented)"
        r"|what has (?:already )?changed|improvements (?:already )?made|progress (?:made )?since"
        r"|developments since",
        "any",
    ),
    (
        "recommendations",
        r"recommendations?|key actions?|improving practice|what (?:should|needs to|must) (?:happen|change)"
        r"|next steps|action plan|actions? for (?:agencies|practitioners|professionals|the partnership|partners|the board)",
        "any",
    ),
    ("recommendations", r"(?:agreed |recommended |required |further )?actions?", "start"),
    (
        "good_practice",
        r"good practice|what went well|what worked well|positive practice|notable practice"
        r"|effective practice|strengths",
        "any",
    ),
    (
        "findings",
        r"findings|finding \d+|issues identified|key issues|practice issues|missed opportunities",
        "any",
    ),
    ("findings", r"concerns?|analysis|issues|conclusions?", "start"),
    (
        "summary",
        r"what happened|executive summary|case summary|summary of (?:the )?(?:case|review|events|incident)"
        r"|background to|case background|brief summary",
        "any",
    ),
    (
        "summary",
        r"summary|background|introduction|overview|the case|case history|family background|context",
        "start",
    ),
    # Closing matter that is neither learning nor the case: it ends the section before it.
    (
        "other",
        r"questions (?:for|to) (?:practitioners|consider|reflect|managers|professionals|ask)|reflective questions"
        r"|questions for reflection|further (?:information|reading)|useful (?:links|resources)|resources"
        r"|references|glossary|appendix|contact(?:s| details)|acknowledg(?:e)?ments",
        "start",
    ),
]
_KEYWORDS = [
    (kind, re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE), where) for kind, pattern, where in _KEYWORD_SPECS
]

_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_CASE_ID = rf"(?:[A-Z]{{1,2}}\d{{0,3}}|\d{{1,3}}|(?i:{_NUMBER_WORDS}))"
_CASE_RE = re.compile(
    r"^(?i:the\s+)?"
    r"(?i:child(?:ren)?|baby|babies|infant|young\s+(?:person|people)|sibling|case(?:\s+study)?|family|families|subject)"
    rf"\s+{_CASE_ID}(?:\s*(?:,|and|&)\s*{_CASE_ID})*$"
)
_NUMBERING_RE = re.compile(
    r"^(?:(?:section|part|chapter)\s+)?"
    r"(?:\d{1,2}(?:\.\d{1,2})*\.?|\d{1,2}\)|\(\d{1,2}\)|[IVXivx]{1,5}[.)]|[A-Za-z][.)])\s+",
    re.IGNORECASE,
)
# Words that make a short line a sentence rather than a heading ("Here are some
# suggestions for improving practice:-"), unless it is a question or starts with a keyword.
_SENTENCE_WORDS_RE = re.compile(
    r"\b(?:is|are|was|were|be|been|being|should|must|will|would|could|can|has|have|had|did|does|do)\b",
    re.IGNORECASE,
)
# Words that mark a document's first line as its title rather than a section heading.
_TITLE_WORDS_RE = re.compile(
    r"\b(?:19|20)\d\d\b|\b(?:january|february|march|april|may|june|july|august|september|october"
    r"|november|december|bulletin|newsletter|briefing|report|review|edition|leaflet)\b",
    re.IGNORECASE,
)
_QUESTION_START_RE = re.compile(r"^(?:what|how|why|where|when|who|which)\b", re.IGNORECASE)
_TRAILING_PUNCT = " \t:;-\u2013\u2014"
# Table-of-contents entries ("Findings ........ 12") and page headers/footers ("Page 3 of 9").
_NOT_HEADING_RE = re.compile(r"(?:\.{3,}|…|\. \. \.)\s*\d*$|\bpage\s+\d+", re.IGNORECASE)
_MAX_HEADING_CHARS = 100
_MAX_HEADING_WORDS = 14
_MAX_WEAK_EXTRA_WORDS = 4  # words a heading may add to a weak keyword ("Background", "Actions")
# Words that do not count as extra words next to a weak keyword.
_NEUTRAL_WORDS = frozenset(
    "a an and the of to for in on from with by this our its & review case family child children "
    "practice report young person people".split()
)
_TITLE_ZONE_LINES = 4
_TITLE_LINE_CHARS = 120


def _heading_label(line: str) -> str | None:
    """The heading text a line would have if it were a heading (shape only), else None.

    A heading is a short line, or the first cell of a table row (text before a tab). It
    starts with a capital letter (after optional numbering such as "2." or "Section 3"),
    does not end like a sentence (``.``, ``,``, ``;``), is not in parentheses, and is not a
    table-of-contents entry ("Findings ....... 12") or a page header ("Page 3 of 9").
    """
    label = line.split("\t", 1)[0]
    if not label.strip():
        return None
    label = label.strip().rstrip(_TRAILING_PUNCT).rstrip()
    if not label or len(label) > _MAX_HEADING_CHARS:
        return None
    if label[-1] in ".,;" or len(label.split()) > _MAX_HEADING_WORDS or _NOT_HEADING_RE.search(label):
        return None
    core = _core(label)
    if not core or not core[0].isupper():  # also rules out "(a note in brackets)"
        return None
    return label


def _core(label: str) -> str:
    return _NUMBERING_RE.sub("", label, count=1)


def _classify(label: str, strict: bool = False) -> SectionKind | None:
    """The section kind a heading label names, or None when it names none.

    A label naming a case on its own ("Child One", "Case 2", "Family B") is ``case``.
    Otherwise strong keywords (anywhere in the label) are preferred to weak ones (only at
    its start); among those the earliest wins, then the longest. A label with a sentence
    verb ("are", "should", ...) is a sentence, not a heading, unless it is a question or
    starts with a strong keyword; a weak keyword may only come with a few other words (none
    but keywords and small words if the label is numbered, as short numbered list items such
    as "5. Analysis of risk" are common). With ``strict`` (the
    document's first line) a label that has more words than its keyword (give or take one)
    and reads like a title (a year, a month, "bulletin", "review", ...) is not a heading.
    """
    core = _core(label).strip()
    if _CASE_RE.match(core):
        return "case"
    bare = core.rstrip("?").strip()
    best: tuple[int, int, int, SectionKind, tuple[int, int]] | None = None
    for kind, pattern, where in _KEYWORDS:
        for m in pattern.finditer(bare):
            if where == "start" and m.start() != 0:
                continue
            if where == "whole" and (m.start() != 0 or m.end() != len(bare)):
                continue
            weak = 0 if where == "any" else 1
            key = (weak, m.start(), -(m.end() - m.start()), kind, m.span())
            if best is None or key[:3] < best[:3]:
                best = key
    if best is None:
        return None
    weak, start = best[0] == 1, best[1]
    is_question = core.endswith("?") or bool(_QUESTION_START_RE.match(core))
    if (weak or start != 0) and not is_question and _SENTENCE_WORDS_RE.search(core):
        return None
    if weak:
        # "Background", "2. Introduction", "Analysis of practice" but not a list item such
        # as "5. Analysis of risk" or "Concerns about the mother's mental health and drinking"
        rest = bare[: best[4][0]] + " " + bare[best[4][1] :]
        for _, pattern, _ in _KEYWORDS:
            rest = pattern.sub(" ", rest)
        extra = [w for w in re.findall(r"[\w'’]+", rest.lower()) if w not in _NEUTRAL_WORDS]
        if len(extra) > (0 if core != label.strip() else _MAX_WEAK_EXTRA_WORDS):
            return None
    if strict:
        start, end = best[4]
        rest = bare[:start] + " " + bare[end:]
        if len(re.findall(r"\w+", rest)) > 1 and _TITLE_WORDS_RE.search(bare):
            return None
    return best[3]


def detect_sections(text: str) -> list[Section]:
    """Split clean text into sections at recognisable headings.

    A heading is a short line (or a table row's first cell) whose wording names one of
    the section kinds of :data:`~graph_model.models.SectionKind`, e.g. "SUMMARY:",
    "Key Actions and Recommendations", "What went well?", "3. Findings", "Child One".
    Each section runs from the start of its heading line to the start of the next
    heading line. Text before the first heading becomes a ``title`` section (the first
    few short lines, heading = the first line) and/or an ``other`` section (heading "").
    Sections are contiguous and together cover the whole text.
    """
    if not text.strip():
        return []
    headings: list[tuple[int, SectionKind, str]] = []
    title_zone = True
    title_end: int | None = None  # end of the title block (start of the next line)
    first_line: str | None = None
    nonempty = 0
    pos = 0
    for line in text.split("\n"):
        start, pos = pos, pos + len(line) + 1
        if not line.strip():
            continue
        nonempty += 1
        if first_line is None:
            first_line = line.strip()
        if title_zone and (
            nonempty > _TITLE_ZONE_LINES or len(line) > _TITLE_LINE_CHARS or line.rstrip().endswith(".")
        ):
            title_zone = False
        label = _heading_label(line)
        kind = _classify(label, strict=nonempty == 1) if label else None
        if label and kind:
            indent = len(line) - len(line.lstrip())
            headings.append((start + indent, kind, label))
            title_zone = False
        elif title_zone:
            title_end = min(pos, len(text))
    sections: list[Section] = []
    first_heading = headings[0][0] if headings else len(text)
    cursor = 0
    if title_end is not None:
        sections.append(Section(kind="title", heading=first_line or "", start=0, end=title_end))
        cursor = title_end
    if text[cursor:first_heading].strip():
        sections.append(Section(kind="other", heading="", start=cursor, end=first_heading))
    elif sections and headings:
        sections[-1] = sections[-1].model_copy(update={"end": first_heading})
    elif sections:
        sections[-1] = sections[-1].model_copy(update={"end": len(text)})
    for i, (start, kind, label) in enumerate(headings):
        end = headings[i + 1][0] if i + 1 < len(headings) else len(text)
        sections.append(Section(kind=kind, heading=label, start=start, end=end))
    if sections and sections[0].start != 0:
        sections[0] = sections[0].model_copy(update={"start": 0})
    return sections


# --------------------------------------------------------------------------------------
# Finding documents
# --------------------------------------------------------------------------------------


def _unsupported(path: object, suffix: str) -> InputError:
    shown = f"'{suffix}'" if suffix else "(no suffix)"
    return file_problem(path, f"has an unsupported file type {shown}; supported types are {_SUPPORTED_LIST}.")


def _unreadable_folder(exc: OSError) -> None:
    """A folder below the one given that cannot be listed is an error, not a silent skip."""
    raise file_problem(exc.filename, f"is a folder that cannot be read ({exc.strerror or exc}); nothing was built.")


def iter_document_paths(paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str]) -> list[Path]:
    """Expand files and directories into the list of documents to read.

    Directories are searched recursively (symlinked directories are not followed) for
    files with a supported suffix, skipping hidden files and folders (names starting with
    ``.``) and Office lock files (``~$...``); each directory's documents are sorted.
    Files named explicitly must have a supported suffix. Duplicates are dropped.

    Raises :class:`~graph_model.errors.InputError` for a path that does not exist, a
    directory without supported documents, or a file with an unsupported suffix.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: list[Path] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = Path(os.path.realpath(p))  # realpath, not resolve(): a symlink loop is not an exception
        if key not in seen:
            seen.add(key)
            found.append(p)

    for given in paths:
        path = Path(given)
        if path.is_dir():
            docs: list[Path] = []
            for root, dirs, files in os.walk(path, onerror=_unreadable_folder):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for name in files:
                    if name.startswith((".", "~$")):
                        continue
                    if Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                        docs.append(Path(root) / name)
            if not docs:
                raise file_problem(path, f"is a folder with no supported documents ({_SUPPORTED_LIST}).")
            for doc in sorted(docs, key=lambda p: p.relative_to(path).parts):
                add(doc)
        elif path.exists():
            suffix = path.suffix.lower()
            if suffix not in SUPPORTED_SUFFIXES:
                raise _unsupported(path, path.suffix)
            add(path)
        elif path.is_symlink():
            raise file_problem(path, "is a symbolic link to nothing (a broken link or a loop).")
        else:
            raise file_problem(path, "does not exist.")
    return found


# --------------------------------------------------------------------------------------
# Reading one document
# --------------------------------------------------------------------------------------


def _looks_binary(text: str) -> bool:
    # A stray NUL (a damaged byte, a paste from a PDF) is not binary data: only a share of
    # non-text characters is (NUL among them), as below.
    if text.count("\x00") > max(8, len(text) // 100):
        return True
    sample = text[:200_000]
    if not sample:
        return False
    bad = len(_NON_TEXT_RE.findall(sample))
    return bad / len(sample) > 0.05


# Control characters (but tab, line breaks, form feed), C1 controls and the replacement
# character: what binary data decoded as text is full of.
_NON_TEXT_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _decode(path: object, data: bytes, preferred: str | None = None) -> str:
    """Decode text bytes: BOM first, then ``preferred``, UTF-8, cp1252 and Latin-1."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                raise file_problem(
                    path,
                    f"starts with a {encoding.upper()} byte-order mark but is not valid {encoding.upper()} text.",
                ) from None
            if _looks_binary(text):
                raise file_problem(path, "looks like binary data, not text.")
            return text
    if data.count(b"\x00") > max(8, len(data) // 100):  # UTF-16 without a BOM, an image ...
        raise file_problem(path, "looks like binary data, not text.")
    encodings = ["utf-8", "cp1252", "latin-1"]
    if preferred:
        try:
            info = codecs.lookup(preferred)
            # "hex", "rot13", "uu" ... are codecs but not text encodings: ignored like unknown names
            name = info.name if getattr(info, "_is_text_encoding", True) else None
        except LookupError:
            name = None
        if name in ("latin-1", "iso8859-1", "ascii"):
            name = "cp1252"  # as browsers do: such pages are nearly always cp1252
        if name:
            encodings.insert(0, name)
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:  # pragma: no cover - latin-1 decodes anything
        raise file_problem(path, "could not be decoded as text.")
    if _looks_binary(text):
        raise file_problem(path, "looks like binary data, not text.")
    return text


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Silence a library's warnings (pypdf logs every recoverable oddity)."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _read_pdf(path: object, data: bytes) -> str:
    """The pypdf text layer, page by page, pages joined by a blank line."""
    from pypdf import PdfReader

    if b"%PDF-" not in data[:1024]:
        raise file_problem(path, "is not a PDF file (it does not start with %PDF).")
    try:
        with _quiet("pypdf"):
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                try:
                    opened = reader.decrypt("")
                except Exception:
                    opened = 0
                if not opened:
                    raise file_problem(path, "is encrypted and cannot be opened without a password.")
            pages = [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    except Exception as exc:
        if type(exc).__name__ == "DependencyError":  # pypdf: AES without its crypto extra
            raise file_problem(
                path, "is encrypted with AES, which needs the 'cryptography' package (pip install 'pypdf[crypto]')."
            ) from exc
        raise file_problem(path, "is not a readable PDF (the file is damaged or truncated).") from exc
    if not any(page.strip() for page in pages):
        raise file_problem(path, "has no text layer (is it a scanned image?).")
    return "\n\n".join(_unwrap(page) for page in pages)


# A PDF's text layer breaks every wrapped line. A break inside a sentence (the line does not
# end a sentence or a heading, and the next one starts in lower case) is a space: sentences
# then stay whole for extraction. Lines ending in ":" or ";" and list items are kept.
_WRAPPED_LINE_RE = re.compile(r"(?<=[A-Za-z0-9,)\u2019'\"-])[ \t]*\n(?=[ \t]*[a-z(])")


def _unwrap(page: str) -> str:
    return _WRAPPED_LINE_RE.sub(" ", page)


_ROMAN = [
    (1000, "m"),
    (900, "cm"),
    (500, "d"),
    (400, "cd"),
    (100, "c"),
    (90, "xc"),
    (50, "l"),
    (40, "xl"),
    (10, "x"),
    (9, "ix"),
    (5, "v"),
    (4, "iv"),
    (1, "i"),
]


def _format_number(n: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letters = ""
        k = n
        while k > 0:
            k, r = divmod(k - 1, 26)
            letters = chr(ord("a") + r) + letters
        return letters.upper() if fmt == "upperLetter" else letters
    if fmt in ("lowerRoman", "upperRoman"):
        out, k = "", n
        for value, numeral in _ROMAN:
            while k >= value:
                out, k = out + numeral, k - value
        return out.upper() if fmt == "upperRoman" else out
    return str(n)


class _Numbering:
    """Word's automatic list numbering, rendered as text ("1.", "a)", "•").

    python-docx does not include list numbers in paragraph text, but extraction relies on
    them, so the reader renders them from ``numbering.xml`` (format and level text of each
    level; counters per list, deeper levels restarting when a shallower one advances).
    """

    def __init__(self, document: Any):
        from docx.oxml.ns import qn

        self._qn = qn
        self._levels: dict[str, dict[int, tuple[str, str, int]]] = {}
        self._counters: dict[str, dict[int, int]] = {}
        # Per style id: the paragraph style and the pPr elements of it and its base styles.
        # python-docx looks a paragraph's style up by scanning every style of the document
        # (for the default style, parsing each one's type), which made reading a .docx
        # several times slower than extracting it.
        self._styles: dict[str | None, Any] = {}
        self._chains: dict[str | None, list[Any]] = {}
        try:
            root = document.part.numbering_part.element
        except Exception:
            return
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for absnum in root.findall(qn("w:abstractNum")):
            levels: dict[int, tuple[str, str, int]] = {}
            for lvl in absnum.findall(qn("w:lvl")):
                ilvl = int(lvl.get(qn("w:ilvl"), "0"))
                fmt_el, text_el, start_el = (
                    lvl.find(qn("w:numFmt")),
                    lvl.find(qn("w:lvlText")),
                    lvl.find(qn("w:start")),
                )
                fmt = fmt_el.get(qn("w:val"), "decimal") if fmt_el is not None else "decimal"
                lvl_text = text_el.get(qn("w:val"), "") if text_el is not None else f"%{ilvl + 1}."
                start = int(start_el.get(qn("w:val"), "1")) if start_el is not None else 1
                levels[ilvl] = (fmt, lvl_text, start)
            abstract[absnum.get(qn("w:abstractNumId"), "")] = levels
        for num in root.findall(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            if ref is not None:
                self._levels[num.get(qn("w:numId"), "")] = abstract.get(ref.get(qn("w:val"), ""), {})

    def _num_pr(self, paragraph: Any) -> tuple[str, int] | None:
        qn = self._qn
        candidates = [paragraph._p.pPr, *self._style_chain(paragraph)]
        num_id, ilvl = None, None
        for ppr in candidates:
            if ppr is None:
                continue
            num_pr = ppr.find(qn("w:numPr"))
            if num_pr is None:
                continue
            id_el, lvl_el = num_pr.find(qn("w:numId")), num_pr.find(qn("w:ilvl"))
            if num_id is None and id_el is not None:
                num_id = id_el.get(qn("w:val"))
            if ilvl is None and lvl_el is not None:
                ilvl = int(lvl_el.get(qn("w:val"), "0"))
        if not num_id or num_id == "0":
            return None
        return num_id, ilvl or 0

    def style(self, paragraph: Any) -> Any:
        """``paragraph.style``, looked up once per style id."""
        style_id = paragraph._p.style
        try:
            return self._styles[style_id]
        except KeyError:
            style = self._styles[style_id] = paragraph.style
            return style

    def _style_chain(self, paragraph: Any) -> list[Any]:
        """The pPr elements of the paragraph's style and of its base styles, in order."""
        style_id = paragraph._p.style
        chain = self._chains.get(style_id)
        if chain is None:
            chain = []
            style = self.style(paragraph)
            while style is not None:
                chain.append(style.element.pPr)
                style = style.base_style
            self._chains[style_id] = chain
        return chain

    def prefix(self, paragraph: Any) -> str:
        """The rendered list marker of ``paragraph`` followed by a space, or ""."""
        try:
            found = self._num_pr(paragraph)
        except Exception:
            return ""
        if found is None or found[0] not in self._levels:
            return ""
        num_id, ilvl = found
        levels = self._levels[num_id]
        counters = self._counters.setdefault(num_id, {})
        fmt, lvl_text, start = levels.get(ilvl, ("decimal", f"%{ilvl + 1}.", 1))
        counters[ilvl] = counters.get(ilvl, start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        if fmt == "bullet":
            return "\u2022 "
        if fmt == "none":
            return ""

        def level_number(m: re.Match[str]) -> str:
            k = int(m.group(1)) - 1
            k_fmt, _, k_start = levels.get(k, ("decimal", "", 1))
            return _format_number(counters.get(k, k_start), k_fmt)

        marker = re.sub(r"%([1-9])", level_number, lvl_text).strip()
        return f"{marker} " if marker else ""


def _iter_blocks(element: Any, parent: Any) -> Iterator[Any]:
    """Paragraphs and tables under a body or cell element, in order.

    Unlike python-docx's ``iter_inner_content`` this also looks inside block-level content
    controls (``w:sdt``), which review templates use for their form fields.
    """
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in element.iterchildren():
        if child.tag == qn("w:p"):
            yield Paragraph(child, parent)
        elif child.tag == qn("w:tbl"):
            yield Table(child, parent)
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _iter_blocks(content, parent)


def _unique_cells(row: Any) -> list[Any]:
    """The cells of a row, a merged cell counted once."""
    cells, seen = [], set()
    for cell in row.cells:
        if id(cell._tc) in seen:
            continue
        seen.add(id(cell._tc))
        cells.append(cell)
    return cells


def _cell_text(cell: Any, numbering: _Numbering) -> str:
    """All text of a table cell (nested tables included) on one line.

    The cell's paragraphs are joined by a space, each with its list marker, so a bulleted
    list in a cell reads "• First • Second" (normalisation then puts each item on a line).
    """
    from docx.table import Table

    parts: list[str] = []
    for item in _iter_blocks(cell._tc, cell):
        if isinstance(item, Table):
            for row in item.rows:
                parts.extend(_cell_text(c, numbering) for c in _unique_cells(row))
        else:
            parts.append(numbering.prefix(item) + item.text)
    return " ".join(" ".join(parts).split())


def _check_docx_size(path: object, data: bytes) -> None:
    """Refuse a Word file whose document, once unzipped, would take too much memory to
    parse: more than :data:`MAX_DOCX_XML_BYTES` of XML or :data:`MAX_PARAGRAPHS` paragraphs
    (python-docx holds an object per paragraph; 2 million empty ones fit in a 351 KB file)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            info = z.getinfo("word/document.xml")
            if info.file_size > MAX_DOCX_XML_BYTES:
                raise file_problem(
                    path,
                    f"unzips to {info.file_size / 1e6:,.0f} MB of document XML, over the "
                    f"{MAX_DOCX_XML_BYTES // 10**6} MB limit for one review; split it.",
                )
            paragraphs, tail = 0, b""
            with z.open(info) as fh:
                read = 0
                while chunk := fh.read(1 << 20):
                    read += len(chunk)
                    if read > MAX_DOCX_XML_BYTES:  # the size in the header lied
                        raise file_problem(path, f"unzips to more than {MAX_DOCX_XML_BYTES // 10**6} MB of document XML; split it.")
                    window = tail + chunk
                    paragraphs += window.count(b"</w:p>") + window.count(b"<w:p/>")
                    paragraphs -= tail.count(b"</w:p>") + tail.count(b"<w:p/>")
                    tail = window[-6:]
                    if paragraphs > MAX_PARAGRAPHS:
                        raise file_problem(
                            path, f"has over {MAX_PARAGRAPHS:,} paragraphs, the limit for one review; split it."
                        )
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, EOFError, NotImplementedError):
        return  # python-docx says what is wrong with it


def _read_docx(path: object, data: bytes) -> str:
    """Paragraphs and tables in document order.

    Paragraphs are separated by a blank line, each preceded by its list marker if it is a
    numbered or bulleted list item; a heading (style "Heading …" or "Title") is one line;
    each table row is one line with its cells separated by a tab.
    """
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise file_problem(
            path, "is not a .docx file (it looks like an old-format .doc or a password-protected Word file)."
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise file_problem(path, "is not a valid .docx file (it is not a zip archive).")
    _check_docx_size(path, data)
    try:
        import docx
        from docx.table import Table

        document = docx.Document(io.BytesIO(data))
        numbering = _Numbering(document)
        blocks: list[str] = []
        for item in _iter_blocks(document.element.body, document._body):
            if isinstance(item, Table):
                rows = ["\t".join(_cell_text(c, numbering) for c in _unique_cells(row)) for row in item.rows]
                rows = [r for r in rows if r.strip()]
                if rows:
                    blocks.append("\n".join(rows))
                continue
            text = item.text
            style = numbering.style(item)
            style = style.name if style is not None else ""
            if style.startswith(("Heading", "Title")):
                text = " ".join(text.split())
            else:
                text = numbering.prefix(item) + text
            if text.strip():
                blocks.append(text)
    except InputError:
        raise
    except Exception as exc:
        raise file_problem(
            path, "is not a valid .docx file (its Word document is damaged or missing)."
        ) from exc
    return "\n\n".join(blocks)


# A reader may drop markup, never a real share of the words: above these, it says so.
SWALLOW_MAX_SHARE = 0.2
SWALLOW_MIN_CHARS = 200
_WORD_CHAR_RE = re.compile(r"\w")


def _check_nothing_swallowed(path: object, raw: str, text: str, unclosed: list[tuple[str, int, int]]) -> None:
    """Refuse a document whose cleaning would drop a real share of its words.

    An element whose content is not text (``<script>``, ``<svg>`` ...) or a comment that is
    never closed hides everything after it, as it would in a browser; when that is more than
    a small share of the document it is far more likely a fragment pasted into the text than
    the page's intent. Any format: if the clean text keeps less than 80% of the word
    characters of the source, something went wrong and the file is named, not half-read.
    """
    for tag, start, length in unclosed:
        lost = len(_WORD_CHAR_RE.findall(raw, start, start + length))
        total = len(_WORD_CHAR_RE.findall(raw)) or 1
        if lost >= SWALLOW_MIN_CHARS and lost / total > SWALLOW_MAX_SHARE:
            line = raw.count("\n", 0, start) + 1
            raise file_problem(
                path,
                f"an unclosed {tag} at line {line} would hide the rest of the document "
                f"({lost / total:.0%} of its text); close or remove it.",
            )
    removed = len(raw) - len(text)
    if removed < SWALLOW_MIN_CHARS or removed < len(raw) * SWALLOW_MAX_SHARE / 2:
        return  # too little was removed to have taken a real share of the words (cheap: no count)
    before = len(_WORD_CHAR_RE.findall(raw))
    after = len(_WORD_CHAR_RE.findall(text))
    if before - after >= SWALLOW_MIN_CHARS and after < before * (1 - SWALLOW_MAX_SHARE) and not unclosed:
        if path is not None and str(path).lower().endswith((".html", ".htm")):
            return  # an HTML page's scripts and styles are not text
        raise file_problem(
            path, f"cleaning would drop {1 - after / before:.0%} of its text; it was not read, to lose nothing silently."
        )


def printable_path(path: str | os.PathLike[str]) -> str:
    """``path`` as valid Unicode text: a file name's bytes that are not UTF-8 (Python keeps
    them as lone surrogates, which JSON and terminals refuse) become U+FFFD."""
    text = os.fspath(path)
    if isinstance(text, bytes):  # pragma: no cover - bytes paths are not used
        return text.decode("utf-8", "replace")
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_document(path: str | os.PathLike[str]) -> Document:
    """Read one document and return it with clean text, offsets and sections.

    Supported: ``.txt``/``.md`` (UTF-8, UTF-8/UTF-16/UTF-32 with BOM, else cp1252 or
    Latin-1), ``.html``/``.htm`` (tags and script/style content removed, entities decoded;
    ``raw`` is the HTML source), ``.pdf`` (pypdf text layer, pages joined by a blank line)
    and ``.docx`` (paragraphs and tables in order, one line per table row, cells separated
    by tabs). ``raw`` is the extracted text; ``text`` is ``normalise(raw)`` (HTML-aware for
    HTML files); ``sha256`` is the hash of the file's bytes.

    Raises :class:`~graph_model.errors.InputError` (one sentence naming the file) for a
    missing, empty, whitespace-only, binary, oversized, encrypted, scanned or corrupt file,
    an unsupported suffix, or a document without readable text.
    """
    p = Path(path)
    if not p.exists():
        if p.is_symlink():
            raise file_problem(path, "is a symbolic link to nothing (a broken link or a loop).")
        raise file_problem(path, "does not exist.")
    if p.is_dir():
        raise file_problem(path, "is a folder, not a document.")
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise _unsupported(path, p.suffix)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise file_problem(path, f"is larger than the {MAX_BYTES // (1024 * 1024)} MB limit.")
        if size == 0:
            raise file_problem(path, "is empty.")
        data = p.read_bytes()
    except OSError as exc:
        raise file_problem(path, f"cannot be read ({exc.strerror or exc}).") from exc
    if not data:
        raise file_problem(path, "is empty.")
    if len(data) > MAX_BYTES:
        raise file_problem(path, f"is larger than the {MAX_BYTES // (1024 * 1024)} MB limit.")

    fmt = suffix[1:]
    if fmt == "pdf":
        raw = _read_pdf(path, data)
    elif fmt == "docx":
        raw = _read_docx(path, data)
        if not raw.strip():
            raise file_problem(path, "contains no text.")
    else:
        preferred = None
        if fmt in ("html", "htm"):
            found = _META_CHARSET_RE.search(data[:4096])
            preferred = found.group(1).decode("ascii") if found else None
        raw = _decode(path, data, preferred)
        if not raw.strip():
            raise file_problem(path, "contains only whitespace.")

    if len(raw) > MAX_RAW_CHARS:
        raise file_problem(
            path, f"holds {len(raw):,} characters, over the {MAX_RAW_CHARS:,} limit for one review; split it."
        )
    unclosed: list[tuple[str, int, int]] = []
    buf = _normalise(raw, html_mode=fmt in ("html", "htm"), unclosed=unclosed)
    text = buf.text()
    if len(text) > MAX_TEXT_CHARS:
        raise file_problem(
            path, f"holds {len(text):,} characters of text, over the {MAX_TEXT_CHARS:,} limit for one review "
            "(extraction needs about 1 GB of memory at that size); split it."
        )
    _check_nothing_swallowed(path, raw, text, unclosed)
    if not text.strip():
        raise file_problem(path, "has no readable text once markup is removed.")
    return Document(
        path=printable_path(path),
        name=printable_path(p.name),
        format=fmt,
        raw=raw,
        text=text,
        offsets=[*buf.offs, len(raw)],
        sections=detect_sections(text),
        sha256=hashlib.sha256(data).hexdigest(),
    )
