"""The synth command: write a synthetic corpus of reviews with its ground truth."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import UsageError
from . import app, err


@app.command()
def synth(
    out_dir: Path = typer.Argument(..., help="Folder to write the documents and ground_truth.json into."),
    reviews: int = typer.Option(2000, "--reviews", "-n", help="How many reviews to write (at most 9999)."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed writes the same bytes."),
    formats: str = typer.Option(
        "txt,pdf,docx", "--formats", help="Comma-separated file types to write: txt, pdf, docx."
    ),
) -> None:
    """Write a synthetic corpus of review documents (for benchmarks and tests).

    Full-length reviews and short bulletins in txt (most), docx and pdf, plus
    ground_truth.json: per review id, its agencies, communication links, counts of
    learning points and missed opportunities, and each learning point's lesson family.

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
    truth = generate_corpus(out_dir, reviews, seed=seed, formats=wanted, mix=mix)
    counts: dict[str, int] = {}
    for r in truth.reviews.values():
        counts[r["format"]] = counts.get(r["format"], 0) + 1
    shown = ", ".join(f"{n} {f}" for f, n in sorted(counts.items()))
    err.print(
        f"Wrote {len(truth.reviews)} review(s) ({shown}; {truth.total_bytes / 1e6:.1f} MB) and "
        f"{truth.path.name} to {out_dir}/ in {truth.seconds:.1f} s.",
        markup=False,
    )
