"""The workspace's extraction cache: a document extracted once is not extracted again.

Each entry is one document's extraction as the build uses it (its review's JSON, its
learning points' similarity tokens and its part of the graph, see
:class:`graph_model.pipeline.Extracted`), under a key made of

* the extractor's version (:data:`graph_model.extract_version.EXTRACTOR_VERSION`),
* the taxonomy: the shipped data files and the extension file, if any, byte for byte,
* the document's path as given to the build (a review's id and source come from it),
* the document's content, byte for byte.

An entry is a file ``cache/extract/<key>.sgx`` in the workspace: zlib-compressed, a JSON
header line (id, source, tokens, fragment) then the review's JSON. It is written by the
process that extracted the document (an extraction worker, so the main process of a full
build does no more work than before), whole or not at all (temporary file, then rename),
into a staging folder outside the workspace; a damaged or unreadable entry is only a miss:
the document is extracted again. JSON, not pickle: a workspace may come from elsewhere, and
reading it must not run code.

Only once a build has replaced the workspace are its new entries moved into the cache, the
entries it did not use (documents removed or changed, an older extractor or taxonomy)
deleted, and ``manifest.json`` written with the version and taxonomy it was built with, so
that the next build can say why it extracts everything again. A build that fails or is
interrupted changes nothing in the workspace, its cache included.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from . import reaper
from .extract_version import EXTRACTOR_VERSION

CACHE_DIR = ("cache", "extract")
SUFFIX = ".sgx"
MANIFEST = "manifest.json"
ENTRY_VERSION = 1
STAGING_PREFIX = "sgraph-extract-cache-"  # then the build's process id


def _sweep_stale_staging() -> None:
    """Remove the staging folders of builds that were killed (their process is gone)."""
    try:
        folders = list(Path(tempfile.gettempdir()).glob(f"{STAGING_PREFIX}*-*"))
    except OSError:
        return
    for folder in folders:
        pid_text = folder.name[len(STAGING_PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit() or not folder.is_dir() or folder.is_symlink():
            continue
        try:
            if folder.stat().st_uid != os.getuid():
                continue
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def taxonomy_fingerprint(taxonomy_file: str | os.PathLike[str] | None) -> str:
    """A digest of everything the taxonomy is loaded from: the shipped data files
    (``graph_model/data/*.yaml``) and the extension file (``taxonomy_file`` or
    ``$SGRAPH_TAXONOMY``), if any."""
    h = hashlib.sha256()
    data = resources.files("graph_model").joinpath("data")
    for entry in sorted(data.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            h.update(f"shipped:{entry.name}\0".encode())
            h.update(entry.read_bytes())
            h.update(b"\0")
    extra = taxonomy_file or os.environ.get("SGRAPH_TAXONOMY") or None
    if extra:
        try:
            path = Path(extra).resolve()
        except (OSError, RuntimeError):  # a symbolic link loop: load_taxonomy reports it
            path = Path(extra)
        h.update(f"extra:{path}\0".encode("utf-8", "surrogateescape"))
        try:
            h.update(path.read_bytes())
        except OSError:  # load_taxonomy reports it
            h.update(b"<unreadable>")
    return h.hexdigest()


@dataclass
class ExtractCache:
    """The extraction cache of one workspace, for one build."""

    folder: Path  # the cache in the workspace (it may not exist yet)
    staging: Path  # this build's new entries, outside the workspace until it is replaced
    taxonomy: str  # taxonomy_fingerprint()
    read: bool = True  # False with --full: every document is extracted, the entries rewritten
    used: set[str] = field(default_factory=set)  # the keys of this build's documents
    hits: int = 0
    misses: int = 0

    @classmethod
    def open(cls, home: Path, taxonomy_file: str | None, read: bool = True) -> ExtractCache | None:
        """The cache of the workspace ``home``, with a new staging folder (in the system's
        temporary folder); None when there is nowhere to stage (the build then extracts
        everything, caching nothing). :meth:`discard` removes the staging folder."""
        _sweep_stale_staging()
        try:
            staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-"))
        except OSError:
            return None
        reaper.watch(path=staging)  # removed even if this process is killed outright
        return cls(home.joinpath(*CACHE_DIR), staging, taxonomy_fingerprint(taxonomy_file), read)

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        reaper.unwatch(path=self.staging)

    def key(self, path: str, content: bytes) -> str:
        h = hashlib.sha256()
        h.update(f"sgraph-extract\0{EXTRACTOR_VERSION}\0{self.taxonomy}\0{path}\0".encode("utf-8", "surrogateescape"))
        h.update(content)
        return h.hexdigest()

    def key_of(self, path: str) -> str | None:
        """The key of the document at ``path``, or None when it cannot be read (its
        extraction then reports the problem)."""
        try:
            content = Path(path).read_bytes()
        except OSError:
            return None
        k = self.key(path, content)
        self.used.add(k)
        return k

    def entry_path(self, key: str) -> Path:
        return self.folder / f"{key}{SUFFIX}"

    def staging_path(self, key: str) -> Path:
        """Where this build writes the new entry ``key``."""
        return self.staging / f"{key}{SUFFIX}"

    def has(self, key: str | None) -> bool:
        return key is not None and self.read and self.entry_path(key).is_file()

    def get(self, key: str | None) -> tuple[str, str, bytes, dict[str, str] | None, Any] | None:
        """(id, source, json, tokens, (nodes, edges)) of a cached document, or None."""
        if key is None or not self.read:
            return None
        try:
            raw = zlib.decompress(self.entry_path(key).read_bytes())
            head, sep, record = raw.partition(b"\n")
            h = json.loads(head)
            if not sep or h.get("v") != ENTRY_VERSION or h.get("key") != key or not record:
                return None
            # Equal strings as one object, as unpickling a worker's fragment gives them (the
            # JSON decoder makes a copy for every occurrence of a node id or review id): 40%
            # less memory for the fragments, 0.7 GB of the main process at 2,000 reviews.
            memo: dict[str, str] = {}

            def one(x: Any) -> Any:
                return memo.setdefault(x, x) if type(x) is str else x

            nodes = [(one(n), {k: one(x) for k, x in d.items()}) for n, d in h["nodes"]]
            edges = [(one(u), one(v), one(k), {p: one(x) for p, x in d.items()}) for u, v, k, d in h["edges"]]
            return h["id"], h["source"], record, h["tokens"], (nodes, edges)
        except (OSError, ValueError, TypeError, KeyError, zlib.error):
            return None

    def status(self, count: int) -> str:
        """Why this build extracts what it extracts, in one sentence (before it starts)."""
        if not self.read:
            return f"--full: extracting all {count} document(s) again."
        try:
            last = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            last = None
        if not isinstance(last, dict):
            return ""
        if last.get("extractor_version") != EXTRACTOR_VERSION:
            return (
                f"The extractor changed since the last build (version {last.get('extractor_version')} -> "
                f"{EXTRACTOR_VERSION}): extracting all {count} document(s) again."
            )
        if last.get("taxonomy") != self.taxonomy:
            return f"The taxonomy changed since the last build: extracting all {count} document(s) again."
        return ""

    def finish(self) -> None:
        """After the workspace was replaced: move this build's new entries in, drop the
        entries it did not use and record the version and taxonomy it was built with.
        Best effort: a cache that cannot be updated only costs time next build."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for entry in self.staging.iterdir():
                if entry.name.endswith(SUFFIX):
                    shutil.move(entry, self.folder / entry.name)  # a rename, or a copy across file systems
            for entry in self.folder.iterdir():
                name = entry.name
                if name.endswith(SUFFIX) and name[: -len(SUFFIX)] not in self.used:
                    entry.unlink(missing_ok=True)
                elif name.startswith(".") and ".tmp-" in name:
                    entry.unlink(missing_ok=True)  # left by a process stopped mid-write
            manifest = {"extractor_version": EXTRACTOR_VERSION, "taxonomy": self.taxonomy, "entries": len(self.used)}
            tmp = self.folder / f".{MANIFEST}.tmp-{os.getpid()}"
            tmp.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
            os.replace(tmp, self.folder / MANIFEST)
        except OSError:
            pass
        finally:
            self.discard()


def write_entry(
    path: Path,
    key: str,
    rid: str,
    source: str,
    record_json: bytes,
    tokens: dict[str, str] | None,
    fragment: tuple[Iterable, Iterable] | None,
) -> None:
    """Write one cache entry at ``path``, whole or not at all. Best effort: a failure only
    means the document is extracted again next time."""
    if fragment is None:
        return
    nodes, edges = fragment
    head = json.dumps(
        {"v": ENTRY_VERSION, "key": key, "id": rid, "source": source, "tokens": tokens, "nodes": nodes, "edges": edges},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(zlib.compress(head + b"\n" + record_json, 1))
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
