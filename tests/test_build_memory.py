"""The build's handling of Python's cyclic garbage collector (graph_model.pipeline): paused
in the main process while it holds the growing graph, running in the workers with what
they keep frozen after their first document, and left as it was afterwards."""

from __future__ import annotations

import gc
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from graph_model import pipeline

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture
def collector_restored():
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.parametrize("enabled", [True, False])
def test_build_leaves_the_collector_as_it_found_it(tmp_path, collector_restored, enabled):
    seen = []
    (gc.enable if enabled else gc.disable)()
    pipeline.build([str(SEEDS)], home=tmp_path, jobs=1, embedded=False, progress=lambda _p: seen.append(gc.isenabled()))
    assert seen and not any(seen)  # paused while the reviews come in
    assert gc.isenabled() is enabled


def test_the_collector_comes_back_when_the_build_fails(tmp_path, collector_restored):
    gc.enable()
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(Exception, match="empty.txt"):
        pipeline.build([str(tmp_path / "empty.txt")], home=tmp_path / "home", jobs=1, embedded=False)
    assert gc.isenabled()


def _worker_state(path: str) -> tuple[bool, int, int, int]:
    before = gc.get_freeze_count()
    pipeline._extract_worker((path, None))
    after_first = gc.get_freeze_count()
    pipeline._extract_worker((path, None))
    return gc.isenabled(), before, after_first, gc.get_freeze_count()


def test_workers_collect_and_freeze_what_they_keep_after_their_first_document(collector_restored):
    seed = str(sorted(SEEDS.glob("*.txt"))[0])
    gc.disable()  # as in the build's main process when it forks the workers
    with ProcessPoolExecutor(max_workers=1, initializer=pipeline._ignore_sigint) as pool:
        enabled, before, after_first, after_second = pool.submit(_worker_state, seed).result()
    assert enabled
    # The first document froze the worker's long-lived objects (modules, taxonomy, patterns:
    # tens of thousands); the second froze nothing more.
    assert after_first - before > 10_000
    assert after_second == after_first


def test_reading_the_stored_graph_pauses_the_collector_and_restores_it(tmp_path, collector_restored, monkeypatch):
    from graph_model import build

    pipeline.build([str(SEEDS)], home=tmp_path, jobs=1, embedded=False)
    seen = []
    real = build.graph_from_data
    monkeypatch.setattr(build, "graph_from_data", lambda data: (seen.append(gc.isenabled()), real(data))[1])
    gc.enable()
    g = build.load_graph(tmp_path / "graph.json.gz")
    assert seen == [False] and gc.isenabled()
    assert g.number_of_nodes() > 100
    (tmp_path / "graph.json.gz").write_text("{not json")
    with pytest.raises(Exception, match="cannot be read"):
        build.load_graph(tmp_path / "graph.json.gz")
    assert gc.isenabled()
