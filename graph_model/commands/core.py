"""Core commands: build, extract, stats, taxonomy."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import UsageError
from ._app import HomeOption, TaxonomyOption, app, err, out, progress_bar


@app.command()
def build(
    documents: list[Path] = typer.Argument(..., metavar="DOCUMENTS", help="Review documents or folders of them."),
    home: Path = HomeOption,
    taxonomy: Path = TaxonomyOption,
    jobs: int = typer.Option(0, "--jobs", "-j", help="Worker processes (0: one per core)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    annotations: Path = typer.Option(
        None, "--annotations", help="A folder of annotation files (sgraph extract --out) applied over extraction."
    ),
    full: bool = typer.Option(
        False, "--full", help="Extract every document again, even those unchanged since the last build."
    ),
) -> None:
    """Read documents, extract their facts and store the graph in the workspace.

    Documents unchanged since the last build into the same workspace (same content,
    extractor and taxonomy) are not extracted again; --full extracts them all.

    Example: sgraph build seeds/ --annotations annotations/
    """
    if jobs < 0:
        raise UsageError(f"--jobs must be 0 (one per core) or more, not {jobs}.")
    from .. import pipeline
    from ..read import iter_document_paths

    files = iter_document_paths(documents)
    with progress_bar(quiet) as bar:
        task = bar.add_task("Extracting", total=len(files))
        result = pipeline.build(
            files,
            home=home,
            taxonomy_file=str(taxonomy) if taxonomy else None,
            jobs=jobs or None,
            progress=lambda _p: bar.advance(task),
            annotations=annotations,
            waiting=lambda message: err.print(message, markup=False),
            full=full,
        )
    if result.extraction:
        err.print(result.extraction, markup=False)
    for line in result.warnings:
        err.print(f"Warning: {line}", markup=False)
    if result.curation is not None:
        for line in result.curation.notes + result.curation.stale:
            err.print(f"Warning: {line}", markup=False)
    stats = result.counts or pipeline.graph_stats(result.graph)
    links = stats["links"]
    err.print(
        f"Built the graph of {result.review_count} review(s): {result.graph.number_of_nodes()} nodes, "
        f"{result.graph.number_of_edges()} relationships, {links.get('broken', 0)} broken and "
        f"{links.get('effective', 0)} effective communication links. Stored in {result.home}/.",
        markup=False,
    )
    if result.curation is not None:
        err.print(result.curation.line(), markup=False)


@app.command()
def extract(
    files: list[Path] = typer.Argument(..., metavar="FILES", help="Review documents (or folders)."),
    format: str = typer.Option("json", "--format", "-f", help="json or yaml."),
    taxonomy: Path = TaxonomyOption,
    out_dir: Path = typer.Option(
        None, "--out", "-o", help="Write one annotation file per review into this folder (docs/curation.md) instead."
    ),
    force: bool = typer.Option(False, "--force", help="With --out: overwrite existing annotation files."),
) -> None:
    """Print the facts extracted from documents, machine-readable (schema: docs/extract-json.md),
    or with --out write them as annotation files for analysts to correct (docs/curation.md).

    Example: sgraph extract seeds/004_cd261efeb7acd646.txt --format yaml
    Example: sgraph extract seeds/ --out annotations/
    """
    if format not in ("json", "yaml"):
        raise UsageError(f"Unknown format '{format}'; use json or yaml.")
    from .. import pipeline

    records = pipeline.extract_files(
        files, str(taxonomy) if taxonomy else None, jobs=1, warn=lambda line: err.print(f"Warning: {line}", markup=False)
    )
    if out_dir is not None:
        from ..curation import write_annotations

        written = write_annotations(records, out_dir, force)
        err.print(f"Wrote {len(written)} annotation file(s) to {out_dir}/.", markup=False)
        return
    data = {"schema_version": 1, "reviews": [r.model_dump(mode="json") for r in records]}
    if format == "json":
        import json

        out.print(json.dumps(data, ensure_ascii=False, indent=2), markup=False, soft_wrap=True)
    else:
        import yaml

        out.print(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100), markup=False, soft_wrap=True)


@app.command()
def stats(home: Path = HomeOption) -> None:
    """Counts of nodes and relationships in the stored graph (kept by the build, not recounted).

    Example: sgraph stats
    """
    from rich.table import Table

    from ..stored import stored_stats

    s = stored_stats(home)
    table = Table("kind", "name", "count")
    for kind in ("nodes", "relationships", "links"):
        for name, count in s[kind].items():
            table.add_row(kind, name, str(count))
    out.print(table)


@app.command()
def taxonomy(
    kind: str = typer.Option("all", "--kind", help="agency, role, theme or all."),
    taxonomy: Path = TaxonomyOption,
) -> None:
    """List the canonical agencies, family roles and themes.

    Example: sgraph taxonomy --kind agency
    """
    wanted = {"agency": "agency", "role": "family role", "theme": "theme", "all": None}
    if kind not in wanted:
        raise UsageError(f"Unknown kind '{kind}'; use agency, role, theme or all.")
    from rich.table import Table

    from ..taxonomy import iter_canonical, load_taxonomy

    tax = load_taxonomy(str(taxonomy) if taxonomy else None)
    table = Table("kind", "name", "sector / description")
    for row_kind, name, detail in iter_canonical(tax):
        if wanted[kind] in (None, row_kind):
            table.add_row(row_kind, name, detail)
    out.print(table)
