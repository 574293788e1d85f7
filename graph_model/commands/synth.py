"""The synth command: write a synthetic corpus of reviews with its ground truth."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import OutputError, SgraphError, UsageError
from ._app import app, err

if TYPE_CHECKING:
    from ..synth import GroundTruth


@app.command()
def synth(
    out_dir: Path = typer.Argument(..., metavar="OUT_DIR", help="Folder to write the documents and ground_truth.json into."),
    reviews: int = typer.Option(2000, "--reviews", "-n", help="How many reviews to write (at most 9999)."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed writes the same bytes."),
    formats: str = typer.Option(
        "txt,pdf,docx", "--formats", help="Comma-separated file types to write: txt, pdf, docx."
    ),
    force: bool = typer.Option(False, "--force", help="Replace a corpus written there before."),
) -> None:
    """Write a synthetic corpus of review documents (for benchmarks and tests).

    Full-length reviews and short bulletins in txt (most), docx and pdf, plus
    ground_truth.json: per review id, its agencies, communication links, counts of
    learning points and missed opportunities, and each learning point's lesson family.

    The corpus is written whole or not at all: into a temporary folder beside OUT_DIR,
    renamed into place at the end. An existing OUT_DIR is replaced only with --force, and
    only if it is a corpus sgraph wrote (it holds ground_truth.json).

    Example: sgraph synth /tmp/corpus --reviews 200 --seed 1
    """
    from ..synth import generate_corpus

    wanted = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    unknown = sorted(set(wanted) - {"txt", "pdf", "docx"})
    if unknown or not wanted:
        raise UsageError(f"Unknown format(s) {', '.join(unknown) or '(none)'}; use txt, pdf and/or docx.")
    if not 0 < reviews <= 9999:
        raise UsageError("--reviews must be between 1 and 9999.")
    mix = None if set(wanted) == {"txt", "pdf", "docx"} else {f: 1.0 for f in wanted}
    if mix and len(wanted) > 1:
        from ..synth import DEFAULT_MIX

        mix = {f: DEFAULT_MIX[f] for f in wanted}
    truth = _generate_whole(out_dir, force, wanted, lambda folder: generate_corpus(folder, reviews, seed=seed, formats=wanted, mix=mix))
    counts: dict[str, int] = {}
    for r in truth.reviews.values():
        counts[r["format"]] = counts.get(r["format"], 0) + 1
    shown = ", ".join(f"{n} {f}" for f, n in sorted(counts.items()))
    err.print(
        f"Wrote {len(truth.reviews)} review(s) ({shown}; {truth.total_bytes / 1e6:.1f} MB) and "
        f"{truth.path.name} to {out_dir}/ in {truth.seconds:.1f} s.",
        markup=False,
    )


def _generate_whole(out_dir: Path, force: bool, formats: tuple[str, ...], generate: Callable[[Path], GroundTruth]) -> GroundTruth:
    """Run ``generate`` on a temporary folder beside ``out_dir``, then rename it into place."""
    from .. import reaper
    from ..outpath import check_out_folder
    from ..synth import GROUND_TRUTH_FILE

    if "pdf" in formats:
        try:
            import fpdf  # noqa: F401
        except ImportError:
            raise SgraphError(
                "writing PDFs needs the fpdf2 package: pip install fpdf2, or choose --formats txt,docx."
            ) from None
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: is a file; give a folder for the corpus.")
    check_out_folder(out)
    old = out.exists() and any(out.iterdir())
    if old and not force:
        raise OutputError(f"{out}: the folder exists and is not empty; use --force to replace a corpus written there.")
    if old and not (out / GROUND_TRUTH_FILE).is_file():
        raise OutputError(f"{out}: the folder is not a corpus written by sgraph synth, so even --force will not replace it.")
    parent = out.parent
    import secrets  # here, not at the top: every command's start-up would pay for it

    tmp = parent / f".{out.name}.tmp-{os.getpid()}_{secrets.token_hex(4)}"
    trash = parent / f".{out.name}.old-{os.getpid()}_{secrets.token_hex(4)}"
    reaper.watch(path=tmp)
    reaper.watch(path=trash)
    try:
        try:
            parent.mkdir(parents=True, exist_ok=True)
            tmp.mkdir()
            truth = generate(tmp)
            if out.exists():
                os.replace(out, trash)
            os.replace(tmp, out)
        except OSError as exc:
            if trash.exists() and not out.exists():
                os.replace(trash, out)  # the old corpus back where it was
            raise OutputError(f"{out}: the corpus cannot be written ({exc.strerror or exc}); nothing was replaced.") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(trash, ignore_errors=True)
        reaper.unwatch(path=tmp)
        reaper.unwatch(path=trash)
    truth.out_dir = out
    return truth
