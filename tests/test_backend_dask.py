"""The Dask backend against the threads backend: the same bits for any worker count and
range size, a worker killed in the middle of a run, progress as ranges complete, and
the errors a user meets. One 2-worker LocalCluster (separate processes, each with a
nanny) serves the module."""

import json
import os
import signal
import time

import numpy as np
import pytest

import pmosim
from pmosim.synthetic import layered_network

distributed = pytest.importorskip("distributed")

from pmosim.backends.dask import DaskBackend  # noqa: E402

from _data import data_dir  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _same(a, b):
    assert np.array_equal(a.finish.samples.view(np.int64), b.finish.samples.view(np.int64))
    if a.cost is not None:
        assert np.array_equal(a.cost.samples.view(np.int64), b.cost.samples.view(np.int64))
    assert (json.dumps(a.to_dict(), sort_keys=True, default=str)
            == json.dumps(b.to_dict(), sort_keys=True, default=str))


def _risky_costed():
    p = layered_network(60, seed=3)
    ids = p.tasks
    p.add_risk("late", 0.3, ids[5:9], schedule_impact=pmosim.Triangular(1, 3, 8),
               cost_impact=pmosim.Uniform(1e3, 4e3))
    p.add_driver("prod", 0.5, pmosim.Triangular(0.9, 1.0, 1.4), ids[10:30])
    p.add_correlation(ids[30:34], 0.7)
    for i, t in enumerate(ids):
        p.graph.nodes[t]["cost_rate"] = 100.0 + i
    p.cost_rate = 500.0
    return p


@pytest.mark.parametrize("range_size", [None, 512, 1000, 1536])
def test_dask_equals_threads_bit_for_bit(client, range_size):
    project = _risky_costed()
    want = pmosim.simulate(project, 5_000, seed=21, threads=2, keep_samples=True)
    backend = DaskBackend(scheduler=client, chunk=range_size)
    got = pmosim.simulate(project, 5_000, seed=21, keep_samples=True, backend=backend)
    _same(want, got)
    for name in ("durations", "starts", "finishes"):
        assert np.array_equal(getattr(want, name), getattr(got, name))


def test_dask_with_a_scheduler_address_and_rank_risks(client):
    project = _risky_costed()
    address = client.scheduler.address
    want = pmosim.rank_risks(project, 2_000, seed=5)
    got = pmosim.rank_risks(project, 2_000, seed=5, backend="dask", scheduler=address)
    assert [(e.id, e.percentile_shift, e.mean_shift) for e in want.entries] == \
        [(e.id, e.percentile_shift, e.mean_shift) for e in got.entries]


def test_wall_clock_model_on_dask(client):
    project = pmosim.load(str(data_dir("projectlibre", "New Product.xml")))
    want = pmosim.simulate(project, 1_200, seed=2)
    got = pmosim.simulate(project, 1_200, seed=2, backend="dask", scheduler=client)
    _same(want, got)


def test_progress_reports_ranges_as_they_complete(client):
    calls = []
    pmosim.simulate(layered_network(30, seed=1), 4_096, seed=1, chunk_size=1024,
                    backend="dask", scheduler=client, progress=lambda d, t: calls.append((d, t)))
    assert [d for d, _ in calls] == [1024, 2048, 3072, 4096]
    assert {t for _, t in calls} == {4_096}


def test_a_killed_worker_loses_nothing(client):
    """SIGKILL one worker process once the first range is in: the nanny restarts it,
    the scheduler runs the lost ranges again, and the result is the same bits."""
    project = layered_network(1_000, seed=7)
    want = pmosim.simulate(project, 65_536, seed=9, threads=2)
    pids = client.run(os.getpid)
    killed = []

    def progress(done, total):
        if not killed:
            # the worker that did not just finish a range is in the middle of one
            victim = max(pids.values())
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    got = pmosim.simulate(project, 65_536, seed=9, chunk_size=4096, backend="dask",
                          scheduler=client, progress=progress)
    assert killed
    _same(want, got)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = client.run(os.getpid)
        if len(now) == 2 and killed[0] not in now.values():
            break
        time.sleep(0.5)
    assert len(client.run(os.getpid)) == 2, "the nanny did not restart the killed worker"


def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    import pmosim.backends.dask as backend_module
    monkeypatch.setattr(backend_module, "CONNECT_TIMEOUT", 1)
    with pytest.raises(pmosim.PmosimError, match="cannot reach the Dask scheduler at "
                                                 "'tcp://127.0.0.1:9'.*dask scheduler"):
        pmosim.simulate(layered_network(5, seed=0), 100, seed=1, backend="dask",
                        scheduler="tcp://127.0.0.1:9")


def test_backend_argument_errors():
    p = layered_network(5, seed=0)
    with pytest.raises(pmosim.PmosimError, match="backend must be one of threads, dask"):
        pmosim.simulate(p, 10, backend="spark")
    with pytest.raises(pmosim.PmosimError, match="threads= is for backend='threads'"):
        pmosim.simulate(p, 10, backend="dask", threads=2)
    with pytest.raises(pmosim.PmosimError, match="scheduler= is for backend='dask'"):
        pmosim.simulate(p, 10, scheduler="tcp://127.0.0.1:8786")


def test_a_worker_with_other_kernels_is_refused(client):
    """A job stamped with other kernel sources (another pmosim version on a worker) fails
    with a message that says what to do, instead of giving other numbers."""
    from pmosim import engine
    from pmosim.backends import RangeJob, simulate_range
    from pmosim.layout import identity_grid

    project = layered_network(20, seed=0)
    job = engine._prepare(project, 512, 1, "pre")
    rj = RangeJob(job.compiled.kernel, identity_grid(20), job.key[0], job.key[1], 254, False, 0,
                  sources="0" * 64)
    with pytest.raises(pmosim.PmosimError, match="runs pmosim .* with other simulation kernels "
                                                 "than the process that submitted the run; "
                                                 "install the same pmosim version"):
        client.submit(simulate_range, rj, 0, 512, pure=False).result()
    totals, rows = client.submit(simulate_range, rj._replace(sources=""), 0, 512,
                                 pure=False).result()
    assert rows.finish.shape == (512,)
