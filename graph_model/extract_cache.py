"""The workspace's extraction cache: a document extracted once is not extracted again.

A document's extraction is known by a key made of

* the extractor's version (:data:`graph_model.extract_version.EXTRACTOR_VERSION`),
* the taxonomy: the shipped data files and the extension file, if any, byte for byte,
* the document's path as given to the build (a review's id and source come from it),
* the document's content, byte for byte.

The cache keeps no second copy of a review. ``cache/extract/manifest.json`` maps each key
of the last build to the SHA-256 of the review's JSON as it was extracted, and that JSON is
where the build wrote it anyway: a line of the workspace's ``records.json.gz``. Only a
review the build changed after extracting it (an annotation file applied, an id shared
with another review told apart) is kept in the cache itself, as ``<sha256>.json.gz``.

The next build (:meth:`ExtractCache.preload`) reads the manifest, then the old records
file once, keeping the lines of the documents it is building again whose digest matches;
each of them is rebuilt from its JSON (its part of the graph and its similarity tokens, by
the extraction workers when there are any) instead of being read and extracted. A damaged
or missing records file, manifest or kept review is only a miss: the document is extracted
again. JSON, not pickle: a workspace may come from elsewhere, and reading it must not run
code.

The lines a build takes from the old records go into a file in its staging folder (outside
the workspace, in the system's temporary folder, removed by the build or its reaper), which
the workers read by offset. Only once a build has replaced the workspace are its kept
reviews moved into the cache, those it did not use (documents removed or changed, an older
extractor or taxonomy) deleted, and the manifest written with the version and taxonomy it
was built with, so that the next build can say why it extracts everything again. A build
that fails or is interrupted changes nothing in the workspace, its cache included.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from . import reaper
from .extract_version import EXTRACTOR_VERSION
from .workspace import GZIP_MAGIC, OLD_RECORDS_FILE, READ_ERRORS, RECORDS_FILE

CACHE_DIR = ("cache", "extract")
KEPT_SUFFIX = ".json.gz"  # a review the build changed after extracting it, as extracted
OLD_SUFFIX = ".sgx"  # entries of the format before this one (a copy of every review): removed
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "sgraph-extract-cache"
MANIFEST_VERSION = 2
STAGING_PREFIX = "sgraph-extract-cache-"  # then the build's process id
HITS_FILE = "hits.json"  # in the staging folder: the JSON of the reviews taken from the old records


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


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_lines(path: Path):
    """The reviews' JSON in a records file, one ``bytes`` each, as the build writes them:
    ``{"reviews":[``, then each review on a line of its own (compact JSON holds no line
    break), each but the last followed by a comma, then ``]}``. Raises one of
    :data:`graph_model.workspace.READ_ERRORS` when the file cannot be read."""
    with open(path, "rb") as fh:
        gz = fh.read(2) == GZIP_MAGIC
    opened = gzip.open(path, "rb") if gz else open(path, "rb")
    with opened as fh:
        if fh.readline() != b'{"reviews":[\n':
            raise ValueError("not a records file")
        for line in fh:
            if line.startswith(b"]}"):
                return
            line = line.rstrip(b"\n")
            yield line[:-1] if line.endswith(b",") else line
    raise ValueError("the records file ends early")


@dataclass
class ExtractCache:
    """The extraction cache of one workspace, for one build."""

    home: Path  # the workspace
    folder: Path  # the cache in the workspace (it may not exist yet)
    staging: Path  # this build's kept reviews and hits, outside the workspace until it is replaced
    taxonomy: str  # taxonomy_fingerprint()
    read: bool = True  # False with --full: every document is extracted, the manifest rewritten
    used: set[str] = field(default_factory=set)  # the keys of this build's documents
    hits: int = 0
    misses: int = 0
    found: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (offset, length) in the hits file
    shas: dict[str, str] = field(default_factory=dict)  # key -> digest of the review's JSON as extracted, this build
    kept: set[str] = field(default_factory=set)  # digests this build keeps in the cache itself

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
        return cls(home, home.joinpath(*CACHE_DIR), staging, taxonomy_fingerprint(taxonomy_file), read)

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

    def _manifest(self) -> dict | None:
        try:
            last = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return last if isinstance(last, dict) else None

    @property
    def hits_path(self) -> Path:
        return self.staging / HITS_FILE

    def preload(self, keys: list[str | None]) -> None:
        """Find the reviews of ``keys`` the last build extracted the same way: their JSON
        is copied from the old records (or the cache's kept reviews) into the hits file,
        checked against the digest the manifest gives. Best effort: what cannot be read is
        a miss."""
        if not self.read:
            return
        last = self._manifest()
        if (
            last is None
            or last.get("format") != MANIFEST_FORMAT
            or last.get("extractor_version") != EXTRACTOR_VERSION
            or last.get("taxonomy") != self.taxonomy
            or not isinstance(last.get("entries"), dict)
        ):
            return
        entries: dict = last["entries"]
        wanted: dict[str, list[str]] = {}  # digest -> the keys that want it
        for k in keys:
            sha = entries.get(k) if k is not None else None
            if isinstance(sha, str):
                wanted.setdefault(sha, []).append(k)  # type: ignore[arg-type]
        if not wanted:
            return
        try:
            with open(self.hits_path, "wb") as out:
                end = 0

                def take(data: bytes) -> None:
                    nonlocal end
                    sha = digest(data)
                    for k in wanted.pop(sha, ()):
                        self.found[k] = (end, len(data))
                    out.write(data)
                    end += len(data)

                try:
                    records = self.home / RECORDS_FILE
                    if not records.is_file():
                        records = self.home / OLD_RECORDS_FILE
                    for line in record_lines(records):
                        if wanted and digest(line) in wanted:
                            take(line)
                except READ_ERRORS:
                    pass  # the reviews read before the damage are found; the others are misses
                for sha in list(wanted):
                    try:
                        data = gzip.decompress((self.folder / f"{sha}{KEPT_SUFFIX}").read_bytes())
                    except READ_ERRORS:
                        continue
                    if digest(data) == sha:
                        take(data)
        except OSError:
            self.found.clear()

    def has(self, key: str | None) -> bool:
        return key is not None and key in self.found

    def where(self, key: str) -> tuple[str, int, int]:
        """(hits file, offset, length) of a found review's JSON."""
        offset, length = self.found[key]
        return str(self.hits_path), offset, length

    def note(self, key: str | None, data: bytes) -> None:
        """The JSON of this build's review of ``key``, as extracted (or found)."""
        if key is not None:
            self.shas[key] = digest(data)

    def keep(self, data: bytes) -> None:
        """Keep a review's JSON as extracted in the cache itself: the build changed it
        before writing it to the records. Best effort."""
        sha = digest(data)
        if sha in self.kept:
            return
        try:
            (self.staging / f"{sha}{KEPT_SUFFIX}").write_bytes(gzip.compress(data, 3, mtime=0))
            self.kept.add(sha)
        except OSError:
            pass

    def status(self, count: int) -> str:
        """Why this build extracts what it extracts, in one sentence (before it starts)."""
        if not self.read:
            return f"--full: extracting all {count} document(s) again."
        last = self._manifest()
        if last is None:
            return ""
        if last.get("extractor_version") != EXTRACTOR_VERSION:
            return (
                f"The extractor changed since the last build (version {last.get('extractor_version')} -> "
                f"{EXTRACTOR_VERSION}): extracting all {count} document(s) again."
            )
        if last.get("taxonomy") != self.taxonomy:
            return f"The taxonomy changed since the last build: extracting all {count} document(s) again."
        if last.get("format") != MANIFEST_FORMAT:
            return f"The extraction cache is of an older format: extracting all {count} document(s) again."
        return ""

    def finish(self) -> None:
        """After the workspace was replaced: move this build's kept reviews in, drop what
        it did not use and write the manifest. Best effort: a cache that cannot be
        updated only costs time next build."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for sha in self.kept:
                shutil.move(self.staging / f"{sha}{KEPT_SUFFIX}", self.folder / f"{sha}{KEPT_SUFFIX}")
            for entry in self.folder.iterdir():
                name = entry.name
                if name.endswith(KEPT_SUFFIX) and name[: -len(KEPT_SUFFIX)] not in self.kept:
                    entry.unlink(missing_ok=True)
                elif name.endswith(OLD_SUFFIX) or (name.startswith(".") and ".tmp-" in name):
                    entry.unlink(missing_ok=True)  # the older format's entries; a process stopped mid-write
            manifest = {
                "format": MANIFEST_FORMAT,
                "version": MANIFEST_VERSION,
                "extractor_version": EXTRACTOR_VERSION,
                "taxonomy": self.taxonomy,
                "entries": dict(sorted(self.shas.items())),
            }
            tmp = self.folder / f".{MANIFEST}.tmp-{os.getpid()}"
            tmp.write_text(json.dumps(manifest, indent=0) + "\n", encoding="utf-8")
            os.replace(tmp, self.folder / MANIFEST)
        except OSError:
            pass
        finally:
            self.discard()
