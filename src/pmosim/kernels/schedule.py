"""Forward/backward CPM passes over lanes of iterations, and the fused simulation driver.

Tasks are numbered by *position* in topological order. Links are stored per
successor in CSR form: the predecessors of position ``p`` are
``pred_idx[pred_ptr[p]:pred_ptr[p + 1]]`` with types ``pred_type`` (0 FS, 1 SS,
2 FF, 3 SF) and constant lags ``pred_lag``; ``pred_lagvar`` is -1 or the row of
that link's sampled lag. All time arrays are ``float64[n_tasks, LANES]``: lane
``l`` is one iteration and every inner loop runs over all ``LANES`` lanes (a
constant trip count, so it vectorises); lanes past the last iteration of a run
are computed and then ignored.
"""

import numpy as np
from numba import njit, prange

from . import CRITICAL_RTOL, JIT, LANES, N_MOMENT_ROWS, PARALLEL_JIT  # noqa: F401
from .rng import STREAM_DURATION, STREAM_LAG, fill_uniforms
from .sampling import sample_row

FS, SS, FF, SF = 0, 1, 2, 3
_TWO32 = 4294967296.0


@njit(**JIT)
def _link_lag(m, lag, k, lagv):
    """Lag of link ``k`` in every lane, into ``lagv`` (float64[LANES])."""
    rv = m.pred_lagvar[k]
    if rv < 0:
        c = m.pred_lag[k]
        for lane in range(LANES):
            lagv[lane] = c
    else:
        for lane in range(LANES):
            lagv[lane] = lag[rv, lane]


@njit(**JIT)
def forward_pass(m, u, sample, dur, lag, es, ef, pf, lagv):
    """Early start/finish and project finish of ``LANES`` iterations.

    Parameters
    ----------
    m : KernelModel
    u : float64[n_dur_vars, LANES]   uniforms of the durations (used when ``sample``)
    sample : bool   sample each duration from ``u`` just before it is needed (one
                    pass over the task arrays instead of two); otherwise use ``dur``
    dur : float64[n_tasks, LANES]   durations (out when ``sample``)
    lag : float64[n_rlags, LANES]   sampled lags of the links with random lags
    es, ef : float64[n_tasks, LANES]   out: early start and finish
    pf : float64[LANES]   out: project finish
    lagv : float64[LANES]   work space
    """
    for lane in range(LANES):
        pf[lane] = 0.0
    for p in range(dur.shape[0]):
        if sample:
            sample_row(m.dur_code[p], m.dur_par, p, m.tables, u, m.dur_var[p], dur, p)
        for lane in range(LANES):
            es[p, lane] = 0.0
        for k in range(m.pred_ptr[p], m.pred_ptr[p + 1]):
            q = m.pred_idx[k]
            t = m.pred_type[k]
            _link_lag(m, lag, k, lagv)
            if t == FS:
                for lane in range(LANES):
                    es[p, lane] = max(es[p, lane], ef[q, lane] + lagv[lane])
            elif t == SS:
                for lane in range(LANES):
                    es[p, lane] = max(es[p, lane], es[q, lane] + lagv[lane])
            elif t == FF:
                for lane in range(LANES):
                    es[p, lane] = max(es[p, lane], ef[q, lane] + lagv[lane] - dur[p, lane])
            else:
                for lane in range(LANES):
                    es[p, lane] = max(es[p, lane], es[q, lane] + lagv[lane] - dur[p, lane])
        for lane in range(LANES):
            ef[p, lane] = es[p, lane] + dur[p, lane]
            pf[lane] = max(pf[lane], ef[p, lane])


@njit(**JIT)
def backward_pass(m, dur, lag, es, ef, pf, lf, lagv, n_lanes, acc, crit, mom, hist, tmin, tmax):
    """Late finish of every task given the project finish ``pf`` (push style).

    ``lf`` (float64[n_tasks, LANES]) is overwritten; late start is ``lf - dur``.
    A task's late finish is final once the pass reaches it (all its successors
    come later in topological order), so with ``acc`` its statistics are added
    there and then, while its rows are still in cache (see :func:`accumulate_task`).
    """
    n = dur.shape[0]
    tol = np.empty(LANES)
    for lane in range(LANES):
        tol[lane] = CRITICAL_RTOL * max(1.0, pf[lane])
    for p in range(n):
        for lane in range(LANES):
            lf[p, lane] = pf[lane]
    for p in range(n - 1, -1, -1):
        if acc:
            accumulate_task(m, p, dur, es, ef, lf, tol, n_lanes, crit, mom, hist, tmin, tmax)
        for k in range(m.pred_ptr[p], m.pred_ptr[p + 1]):
            q = m.pred_idx[k]
            t = m.pred_type[k]
            _link_lag(m, lag, k, lagv)
            if t == FS:
                for lane in range(LANES):
                    lf[q, lane] = min(lf[q, lane], lf[p, lane] - dur[p, lane] - lagv[lane])
            elif t == SS:
                for lane in range(LANES):
                    lf[q, lane] = min(lf[q, lane],
                                      lf[p, lane] - dur[p, lane] - lagv[lane] + dur[q, lane])
            elif t == FF:
                for lane in range(LANES):
                    lf[q, lane] = min(lf[q, lane], lf[p, lane] - lagv[lane])
            else:
                for lane in range(LANES):
                    lf[q, lane] = min(lf[q, lane], lf[p, lane] - lagv[lane] + dur[q, lane])


@njit(**JIT)
def draw_block(m, it0, k0, k1, u, ulag, scratch, lag):
    """Uniforms of the durations, and sampled random lags, of the ``LANES`` iterations from ``it0``."""
    fill_uniforms(u, scratch, it0, STREAM_DURATION, k0, k1)
    if lag.shape[0] > 0:
        fill_uniforms(ulag, scratch, it0, STREAM_LAG, k0, k1)
        for r in range(lag.shape[0]):
            sample_row(m.lag_code[r], m.lag_par, r, m.tables, ulag, m.lag_var[r], lag, r)


@njit(**JIT)
def accumulate_task(m, p, dur, es, ef, lf, tol, n_lanes, crit, mom, hist, tmin, tmax):
    """Add task ``p`` of the first ``n_lanes`` lanes to the streaming accumulators.

    tol : float64[LANES]                   critical when total float <= tol (per lane)
    crit : int64[n_tasks]                  iterations in which the task was critical
    mom : int64[N_MOMENT_ROWS, n_tasks]    exact sums of d = (start - shift) * mom_scale,
                                           d**2, and the same for the finish: each as an
                                           integer part and a count of 2**-32 units
                                           (rounded to nearest); mom_scale is a power of
                                           two that makes |d| <~ 1, so the resolution is
                                           relative to each task's spread
    hist : int64[n_tasks, n_bins + 2]      finish histogram (under/overflow at the ends)
    tmin, tmax : float64[n_tasks]          extreme finishes

    Integer addition is associative, so the totals are the same whatever the
    order in which threads and chunks add their parts: the key to bit-identical
    results on any thread count and chunk size.
    """
    n_bins = hist.shape[1] - 2
    s_shift = m.start_shift[p]
    f_shift = m.finish_shift[p]
    sc = m.mom_scale[p]
    lo = m.hist_lo[p]
    scale = m.hist_scale[p]
    n_crit = 0
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0
    fmin = tmin[p]
    fmax = tmax[p]
    for lane in range(n_lanes):
        n_crit += lf[p, lane] - dur[p, lane] - es[p, lane] <= tol[lane]
        ds = (es[p, lane] - s_shift) * sc
        df = (ef[p, lane] - f_shift) * sc
        ds2 = ds * ds
        df2 = df * df
        x = np.floor(ds)
        a0 += np.int64(x)
        a1 += np.int64((ds - x) * _TWO32 + 0.5)
        x = np.floor(ds2)
        a2 += np.int64(x)
        a3 += np.int64((ds2 - x) * _TWO32 + 0.5)
        x = np.floor(df)
        a4 += np.int64(x)
        a5 += np.int64((df - x) * _TWO32 + 0.5)
        x = np.floor(df2)
        a6 += np.int64(x)
        a7 += np.int64((df2 - x) * _TWO32 + 0.5)
        fmin = min(fmin, ef[p, lane])
        fmax = max(fmax, ef[p, lane])
    crit[p] += n_crit
    mom[0, p] += a0
    mom[1, p] += a1
    mom[2, p] += a2
    mom[3, p] += a3
    mom[4, p] += a4
    mom[5, p] += a5
    mom[6, p] += a6
    mom[7, p] += a7
    tmin[p] = fmin
    tmax[p] = fmax
    for lane in range(n_lanes):
        b = (ef[p, lane] - lo) * scale
        if b < 0.0:
            hist[p, 0] += 1
        elif b >= n_bins:
            hist[p, n_bins + 1] += 1
        else:
            hist[p, int(b) + 1] += 1


@njit(**PARALLEL_JIT)
def simulate_chunks(m, k0, k1, it_start, n_iter, chunk, n_slots, finish_out,
                    crit, mom, hist, tmin, tmax, keep, dur_out, es_out, ef_out):
    """Simulate iterations ``it_start .. it_start + n_iter - 1``; the fused parallel driver.

    Iterations are cut into chunks of ``chunk``; slot ``s`` (one per thread) takes
    chunks ``s, s + n_slots, ...`` and adds into its own accumulator row, so
    nothing races; the caller sums the rows (integers: any order gives the same bits).

    Parameters
    ----------
    m : KernelModel
    k0, k1 : uint64                      Philox key
    finish_out : float64[n_iter]         out: project finish of every iteration
    crit : int64[n_slots, n_tasks]
    mom : int64[n_slots, N_MOMENT_ROWS, n_tasks]
    hist : int64[n_slots, n_tasks, n_bins + 2]
    tmin, tmax : float64[n_slots, n_tasks]
    keep : bool                          also write per-iteration samples
    dur_out, es_out, ef_out : float64[n_iter, n_tasks] (or [0, 0] when not kept)
    """
    n = m.dur_code.shape[0]
    n_rlag = m.lag_code.shape[0]
    n_chunks = (n_iter + chunk - 1) // chunk
    for s in prange(n_slots):
        u = np.empty((m.n_dur_vars, LANES))
        ulag = np.empty((m.n_lag_vars, LANES))
        scratch = np.empty((4, LANES), dtype=np.uint64)
        dur = np.empty((n, LANES))
        lag = np.empty((n_rlag, LANES))
        es = np.empty((n, LANES))
        ef = np.empty((n, LANES))
        lf = np.empty((n, LANES))
        pf = np.empty(LANES)
        lagv = np.empty(LANES)
        crit_s, mom_s, hist_s, tmin_s, tmax_s = crit[s], mom[s], hist[s], tmin[s], tmax[s]
        for c in range(s, n_chunks, n_slots):
            c0 = c * chunk
            c1 = min(c0 + chunk, n_iter)
            for b0 in range(c0, c1, LANES):
                nl = min(LANES, c1 - b0)
                draw_block(m, it_start + b0, k0, k1, u, ulag, scratch, lag)
                forward_pass(m, u, True, dur, lag, es, ef, pf, lagv)
                backward_pass(m, dur, lag, es, ef, pf, lf, lagv, nl, True,
                              crit_s, mom_s, hist_s, tmin_s, tmax_s)
                for lane in range(nl):
                    finish_out[b0 + lane] = pf[lane]
                if keep:
                    for p in range(n):
                        for lane in range(nl):
                            dur_out[b0 + lane, p] = dur[p, lane]
                            es_out[b0 + lane, p] = es[p, lane]
                            ef_out[b0 + lane, p] = ef[p, lane]


@njit(**JIT)
def deterministic_pass(m, dur1, lag1):
    """CPM on given durations/lags (float64[n_tasks], float64[n_rlags]).

    Returns early start, early finish, late finish (float64[n_tasks] each) and the
    project finish.
    """
    n = dur1.shape[0]
    dur = np.empty((n, LANES))
    lag = np.empty((lag1.shape[0], LANES))
    for p in range(n):
        dur[p, :] = dur1[p]
    for r in range(lag1.shape[0]):
        lag[r, :] = lag1[r]
    es = np.empty((n, LANES))
    ef = np.empty((n, LANES))
    lf = np.empty((n, LANES))
    pf = np.empty(LANES)
    lagv = np.empty(LANES)
    none_i = np.zeros((1, 1), dtype=np.int64)
    none_f = np.zeros(1)
    forward_pass(m, dur, False, dur, lag, es, ef, pf, lagv)
    backward_pass(m, dur, lag, es, ef, pf, lf, lagv, 1, False,
                  none_i[0], none_i, none_i, none_f, none_f)
    return es[:, 0].copy(), ef[:, 0].copy(), lf[:, 0].copy(), pf[0]
