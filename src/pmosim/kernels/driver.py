"""The driver: simulate a span of iterations into totals and rows; what every backend calls.

:func:`run_span` is serial and releases the GIL (``nogil``): the threads backend runs
one call per thread, each on its own slot of chunks and its own :class:`Totals`, and
a Dask worker runs one call per range. No numba parallel region is involved, so the
compiled code is the same whatever runs it, and numba compiles it in a fraction of
the time a ``prange`` region took (the parallel lowering of the old fused driver was
~40 s of a 118 s cold start, measured with benchmarks/compile_profile.py).
"""

import numpy as np
from numba import njit

from . import JIT, LANES, SUPER
from .accumulate import flush_lane_sums, normalise_fixed
from .costs import add_task_costs, cost_of_lanes
from .draws import draw_block, sample_durations
from .levelling import level_lanes, make_lev_work
from .passes import backward_pass, forward_pass
from .passes_cal import passes_cal
from .sensitivity import add_sensitivity, flush_sensitivity
from .work import make_work


@njit(**JIT)
def run_span(draws, links, unc, costs, cal, lev, grid, span, totals, rows):
    """Simulate the chunks of ``span`` that belong to its slot.

    Parameters
    ----------
    draws, links : pmosim.layout.Draws, pmosim.layout.Links
    unc, costs, cal : Uncertainty, Costs, Calendars, or None
        None when the model has no risks, drivers or existence rules, no costs, or
        is scheduled on the working-day axis: numba then compiles nothing of that
        stage (a model's first run compiles only what it uses).
    lev : pmosim.layout.Levelling or None
        Resources and priority list of a levelled run (working-day axis only): each
        iteration is then levelled by :func:`.levelling.level_lanes` after the
        unlevelled forward pass, which also gives ``rows.free``.
    grid : pmosim.layout.Grid
    span : pmosim.layout.Span
        Iterations ``it_start .. it_start + n_iter - 1`` in chunks of ``chunk`` (a
        multiple of SUPER); this call takes chunks ``slot, slot + n_slots, ...``.
    totals : pmosim.layout.Totals
        Added to (the caller merges the totals of its calls).
    rows : pmosim.layout.Rows
        Row ``i`` is iteration ``it_start + i``; only this slot's rows are written.
    """
    k0, k1, it_start = span.k0, span.k1, span.it_start
    n_iter, chunk = span.n_iter, span.chunk
    n_chunks = (n_iter + chunk - 1) // chunk
    hist_top = totals.hist.shape[1] - 1.0    # the overflow column
    sens_on = totals.sens.dur.shape[1] > 0
    n_sens = 0
    if sens_on:
        n_sens = totals.sens.dur.shape[0] // 2 * draws.dur_code.shape[0] + \
            totals.sens.cost.shape[0] // 2 * totals.sens.cost.shape[1]
    w = make_work(draws, unc, costs, cal, n_sens)
    if lev is not None:
        lw = make_lev_work(lev, draws.dur_code.shape[0])
    exist_on = False
    if unc is not None:
        exist_on = unc.exist_on
    for c in range(span.slot, n_chunks, span.n_slots):
        c0 = c * chunk
        c1 = min(c0 + chunk, n_iter)
        for s0 in range(c0, c1, SUPER):
            n_sub = (min(SUPER, c1 - s0) + LANES - 1) // LANES
            sample_durations(draws, w, it_start + s0, n_sub, k0, k1)
            for sub in range(n_sub):
                b0 = s0 + sub * LANES
                nl = min(LANES, c1 - b0)
                draw_block(draws, unc, costs, w, it_start + b0, k0, k1, nl, totals.rstat)
                if lev is not None:
                    forward_pass(links, unc, w, sub)
                    level_lanes(lev, links, unc, grid, w, lw, nl, sub, hist_top, totals)
                    for lane in range(nl):
                        rows.free[b0 + lane] = lw.pf0[lane]
                elif cal is None:
                    forward_pass(links, unc, w, sub)
                    backward_pass(links, unc, grid, w, nl, True, sub, hist_top)
                else:
                    # np.bool_: the type deterministic_pass_cal passes (one compile)
                    passes_cal(links, unc, cal, grid, w, sub, nl, np.bool_(True), hist_top)
                if costs is not None:
                    add_task_costs(costs, grid, exist_on, w)
                    cost_of_lanes(costs, grid, w, nl, totals)
                if sens_on:
                    add_sensitivity(grid.sens, w, nl, lev is None, costs is not None, b0, rows)
                _write_rows(draws, w, b0, nl, costs is not None, rows)
            flush_lane_sums(w.lsum, w.hbin, min(SUPER, c1 - s0), totals)
            if sens_on:
                flush_sensitivity(w.ssum, totals)
            if lev is not None:
                normalise_fixed(totals.lev.delay)


@njit(**JIT)
def _write_rows(draws, w, b0, nl, cost_on, rows):
    """The per-iteration outputs of the ``nl`` lanes from row ``b0``."""
    for lane in range(nl):
        rows.finish[b0 + lane] = w.pf[lane]
    if cost_on:
        for lane in range(nl):
            rows.cost[b0 + lane] = w.costs.cost[lane]
    if rows.dur.shape[0] > 0:
        for p in range(w.dur.shape[0]):
            for lane in range(nl):
                rows.dur[b0 + lane, p] = w.dur[p, lane]
                rows.es[b0 + lane, p] = w.es[p, lane]
                rows.ef[b0 + lane, p] = w.ef[p, lane]
    n_corr = rows.corr.shape[0]
    if b0 < n_corr:
        corr_pos = draws.corr_pos
        for lane in range(min(nl, n_corr - b0)):
            for j in range(corr_pos.shape[0]):
                rows.corr[b0 + lane, j] = w.dur[corr_pos[j], lane]
