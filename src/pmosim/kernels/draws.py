"""Everything drawn per iteration: base durations (with correlation), random lags,
existence and branches, risk events and drivers, costs; and how drivers, risks and
existence turn a sampled duration into the one the passes schedule.

Kernels here take ``draws`` (:class:`pmosim.layout.Draws`, ``d`` or ``m`` below),
``unc`` (:class:`~pmosim.layout.Uncertainty`) and ``costs``
(:class:`~pmosim.layout.Costs`); the last two may be None, and numba then compiles
nothing of their stage.
"""

import math

import numpy as np
from numba import njit

from ..layout import (
    FIXED, QTABLE, STREAM_BRANCH, STREAM_COST_FIXED, STREAM_COST_RATE, STREAM_DRIVER,
    STREAM_DRIVER_FACTOR, STREAM_DURATION, STREAM_EXIST, STREAM_LAG, STREAM_PROJECT_COST,
    STREAM_RISK, STREAM_RISK_COST, STREAM_RISK_IMPACT,
)
from ..distributions import QT_COEFS, QT_LOWER, QT_MID_CELLS, QT_OCT_CELLS, QT_UPPER
from . import INLINE_JIT, JIT, LANES
from .vector import prefetch
from .accumulate import add_fixed
from .rng import fill_uniforms, philox_uniforms
from .sampling import qtable_value, sample_row
from .work import N_SUB

#: Constant arguments go through this: numba compiles a callee once per combination of
#: literal argument values (Literal[int](0) and int64 are different types), which
#: cost seconds of a first run's compile for nothing.
_I = np.int64


@njit(**INLINE_JIT)
def adjust_duration(unc, w, p):
    """Apply drivers, risk events and existence to the sampled duration of task ``p``.

    duration = sampled * (factors of the drivers that occur)
               + sum over occurring risks of (impact, or impact% of that scaled duration)
    clamped at zero (opportunities have negative impacts), then zero when the task
    does not exist in the iteration (probabilistic task, branch not taken,
    condition false).
    """
    dur = w.dur
    for k in range(unc.task_drv_ptr[p], unc.task_drv_ptr[p + 1]):
        d = unc.task_drv_idx[k]
        for lane in range(LANES):
            dur[p, lane] *= w.fac[d, lane]
    if unc.task_risk_ptr[p + 1] > unc.task_risk_ptr[p]:
        for lane in range(LANES):
            w.base[lane] = dur[p, lane]
        for k in range(unc.task_risk_ptr[p], unc.task_risk_ptr[p + 1]):
            r = unc.task_risk_idx[k]
            if unc.risk_pct[r] > 0.0:
                for lane in range(LANES):
                    dur[p, lane] += w.occ[r, lane] * (0.01 * w.imp[r, lane] * w.base[lane])
            else:
                for lane in range(LANES):
                    dur[p, lane] += w.occ[r, lane] * w.imp[r, lane]
        for lane in range(LANES):
            dur[p, lane] = max(dur[p, lane], 0.0)
    if unc.exist_on:
        v = unc.ex_var[p]
        b = unc.br_of[p]
        q = unc.cond_task[p]
        for lane in range(LANES):
            e = 1.0
            if v >= 0 and not w.uex[v, lane] < unc.ex_p[p]:
                e = 0.0
            if b >= 0 and w.chosen[b, lane] != unc.br_opt[p]:
                e = 0.0
            if q >= 0:
                kind = unc.cond_kind[p]
                x = w.ef[q, lane] if kind < 2 else w.es[q, lane]
                after = x > unc.cond_value[p]
                if after != (kind == 0 or kind == 2):
                    e = 0.0
            w.ex[p, lane] = e
            dur[p, lane] *= e


@njit(**JIT)
def draw_block(draws, unc, costs, w, it0, k0, k1, n_lanes, rstat):
    """Everything drawn per iteration before the passes, for the ``LANES`` iterations
    from ``it0``, except the durations (see :func:`sample_durations`): random lags,
    existence and branch draws, risk occurrences and impacts, driver factors, costs.

    rstat : int64[3, R + D]   occurrences, and the exact sum of the impact (factor)
                              when occurring (times risk_scale / drv_scale), of every
                              risk then driver, over the first ``n_lanes`` lanes
    """
    d = draws
    if d.lag_code.shape[0] > 0:
        fill_uniforms(w.ulag, it0, _I(STREAM_LAG), k0, k1)
        for r in range(d.lag_code.shape[0]):
            sample_row(d.lag_code[r], d.lag_par, r, d.tables, w.ulag, d.lag_var[r], w.lag, r + 1, _I(1))
    if unc is not None:
        _draw_uncertainty(d, unc, w, it0, k0, k1, n_lanes, rstat)
    if costs is not None:
        draw_costs(d, costs, w, it0, k0, k1)


@njit(**JIT)
def _draw_uncertainty(draws, m, w, it0, k0, k1, n_lanes, rstat):
    """Existence and branch draws, risk occurrences and impacts, driver factors."""
    tables = draws.tables
    if m.n_ex_vars > 0:
        fill_uniforms(w.uex, it0, _I(STREAM_EXIST), k0, k1)
    n_br = m.br_ptr.shape[0] - 1
    if n_br > 0:
        fill_uniforms(w.ubr, it0, _I(STREAM_BRANCH), k0, k1)
        for b in range(n_br):
            lo, hi = m.br_ptr[b], m.br_ptr[b + 1]
            for lane in range(LANES):
                j = 0
                while j < hi - lo - 1 and w.ubr[b, lane] >= m.br_cum[lo + j]:
                    j += 1
                w.chosen[b, lane] = j
    n_risk = m.risk_p.shape[0]
    if n_risk > 0:
        fill_uniforms(w.urisk, it0, _I(STREAM_RISK), k0, k1)
        fill_uniforms(w.uimp, it0, _I(STREAM_RISK_IMPACT), k0, k1)
        for r in range(n_risk):
            sample_row(m.risk_code[r], m.risk_par, r, tables, w.uimp, m.risk_var[r], w.imp, r, _I(1))
            for lane in range(LANES):
                w.occ[r, lane] = 1.0 if w.urisk[r, lane] < m.risk_p[r] else 0.0
            for lane in range(n_lanes):
                if w.occ[r, lane] > 0.0:
                    rstat[0, r] += 1
                    add_fixed(rstat, 1, r, w.imp[r, lane] * m.risk_scale[r])
    n_drv = m.drv_p.shape[0]
    if n_drv > 0:
        fill_uniforms(w.udrv, it0, _I(STREAM_DRIVER), k0, k1)
        fill_uniforms(w.udf, it0, _I(STREAM_DRIVER_FACTOR), k0, k1)
        for d in range(n_drv):
            sample_row(m.drv_code[d], m.drv_par, d, tables, w.udf, d, w.fac, d, _I(1))
            for lane in range(LANES):
                if not w.udrv[d, lane] < m.drv_p[d]:
                    w.fac[d, lane] = 1.0
            for lane in range(n_lanes):
                if w.udrv[d, lane] < m.drv_p[d]:
                    rstat[0, n_risk + d] += 1
                    add_fixed(rstat, 1, n_risk + d, w.fac[d, lane] * m.drv_scale[d])


#: The sampler inlined into draw_costs, which calls it once per random cost row and 16
#: iterations: measured on the cost benchmark, inlining saves ~18 ns per row there
#: (draw_costs 2.5 -> 2.1 ns per task-iteration), though a bare call in a tight loop
#: costs only ~4 ns; sample_durations keeps the called version.
#: (sample_row is a plain function under NUMBA_DISABLE_JIT, without py_func.)
_sample_row_inline = njit(**INLINE_JIT)(getattr(sample_row, "py_func", sample_row))


@njit(**JIT)
def draw_costs(d, m, w, it0, k0, k1):
    """Sample the random fixed costs, cost rates, risk cost impacts and project cost rate
    (the constant ones are in place since :func:`make_work`).

    Row r's uniforms are word r % 4 of Philox block r // 4 (as :func:`fill_uniforms`
    draws them); a block is drawn only when one of its four rows is random (skipping
    the others changes no draw), and its rows are sampled at once from ``w.ucost``,
    so the uniforms never travel through memory.
    """
    ucost, tables = w.costs.ucost, d.tables
    for stream, code, par, out in ((STREAM_COST_FIXED, m.cfix_code, m.cfix_par, w.costs.cfix),
                                   (STREAM_COST_RATE, m.crate_code, m.crate_par, w.costs.crate),
                                   (STREAM_RISK_COST, m.rcost_code, m.rcost_par, w.costs.rcost),
                                   (STREAM_PROJECT_COST, m.pcost_code, m.pcost_par, w.costs.pcost)):
        rows = code.shape[0]
        for g in range((rows + 3) // 4):
            r0 = 4 * g
            r1 = min(r0 + 4, rows)
            n_random = 0
            for r in range(r0, r1):
                n_random += code[r] != FIXED
            if n_random == 0:
                continue
            philox_uniforms(it0, g, _I(stream), k0, k1, ucost, _I(0), _I(1), _I(0), r1 - r0)
            for r in range(r0, r1):
                if code[r] != FIXED:
                    _sample_row_inline(code[r], par, r, tables, ucost, r - r0, out, r, _I(1))


_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_U_MIN = 2.0 ** -53


#: Octaves of each tail prefetched with a table's middle cells: they hold 31/32 of
#: the tail draws. Lines are 8 words; the table's own alignment is ignored (a line
#: more or less).
_PREFETCH_OCTAVES = 3
_MID_LINES = QT_COEFS * QT_MID_CELLS // 8
_TAIL_LINES = QT_COEFS * QT_OCT_CELLS * _PREFETCH_OCTAVES // 8
_PREFETCH_LINES = _MID_LINES + 2 * _TAIL_LINES
#: The prefetches are issued in this many batches between parts of the current
#: variable's rows (1,000 distinct PERT tables, ns per draw: all at once 15.4, 4 parts
#: 11.2, 8 parts 9.6, 16 parts 11.1; one sample_row call per row and batch: 12.4).
_PREFETCH_PARTS = 8


@njit(**JIT)
def _prefetch_word(q):
    """Word offset in a quantile table of its ``q``-th hot cache line (middle, then
    the first octaves of the lower tail, then of the upper tail)."""
    if q < _MID_LINES:
        return 8 * q
    if q < _MID_LINES + _TAIL_LINES:
        return QT_LOWER + 8 * (q - _MID_LINES)
    return QT_UPPER + 8 * (q - _MID_LINES - _TAIL_LINES)


@njit(**JIT)
def sample_durations(m, w, it0, n_sub, k0, k1):
    """Base durations of ``n_sub * LANES`` iterations from ``it0`` into ``dsb``.

    Philox group by group (four duration variables per block), each variable's
    ``n_sub`` sub-blocks sampled in a row, so its inverse-CDF table stays in cache;
    correlated variables are left to :func:`sample_correlated`.
    """
    n_vars = m.n_dur_vars
    # hoisted: each w.x or m.x in a loop costs a refcount
    ug, dsb, tables, dur_code, dur_par = w.ug, w.dsb, m.tables, m.dur_code, m.dur_par
    var_corr, var_pos = m.var_corr, m.var_pos
    for g in range((n_vars + 3) // 4):
        n_in = min(4, n_vars - 4 * g)
        # fixed durations were written once by make_work; correlated ones come later
        drawn = 0
        for j in range(n_in):
            v = 4 * g + j
            drawn += not var_corr[v] and dur_code[var_pos[v]] != FIXED
        if drawn == 0:
            continue
        for sub in range(n_sub):
            philox_uniforms(it0 + sub * LANES, g, _I(STREAM_DURATION), k0, k1, ug, sub, n_sub, _I(0),
                            _I(4))
        for j in range(n_in):
            v = 4 * g + j
            p = var_pos[v]
            code = dur_code[p]
            if var_corr[v] or code == FIXED:
                continue
            # the next variable's table comes into cache while this one is sampled: with
            # hundreds of distinct tables (one per PERT shape) the draws otherwise wait
            # on memory for most of their time (measured: 1,000 PERT tasks 25 ns per
            # draw, one shared table 10.5 ns)
            nxt = -1
            if v + 1 < n_vars:
                pn = var_pos[v + 1]
                if dur_code[pn] == QTABLE:
                    nxt = int(dur_par[pn, 2])
            if nxt < 0:
                sample_row(code, dur_par, p, tables, ug, j * n_sub, dsb, p * N_SUB, n_sub)
                continue
            per_part = (n_sub + _PREFETCH_PARTS - 1) // _PREFETCH_PARTS
            per_pf = (_PREFETCH_LINES + _PREFETCH_PARTS - 1) // _PREFETCH_PARTS
            for part in range(_PREFETCH_PARTS):
                for q in range(part * per_pf, min((part + 1) * per_pf, _PREFETCH_LINES)):
                    prefetch(tables, nxt + _prefetch_word(q))
                r0 = part * per_part
                nr = min(per_part, n_sub - r0)
                if nr > 0:
                    sample_row(code, dur_par, p, tables, ug, j * n_sub + r0, dsb, p * N_SUB + r0, nr)
    if m.corr_ptr.shape[0] > 1:
        sample_correlated(m, w, it0, n_sub, k0, k1)


@njit(**JIT)
def sample_correlated(m, w, it0, n_sub, k0, k1):
    """Base durations of the correlated variables: a Gaussian copula on their uniforms.

    For a group's uniforms u (the same draws as uncorrelated variables would get):
    z = Phi^-1(u) (the standard normal quantile table), z' = L z with L the Cholesky
    factor of the group's Pearson matrix, u' = Phi(z'). u' is exactly uniform, so
    every marginal distribution is kept, and the rank correlation of the durations
    is (6/pi) asin(r/2) for the Pearson r of L L^T.
    """
    for g in range(m.corr_ptr.shape[0] - 1):
        v0 = m.corr_ptr[g]
        k = m.corr_ptr[g + 1] - v0
        l0 = m.corr_lptr[g]
        for sub in range(n_sub):
            for i in range(k):
                v = m.corr_var[v0 + i]
                philox_uniforms(it0 + sub * LANES, v // 4, _I(STREAM_DURATION), k0, k1, w.ucorr, i, _I(1),
                                v % 4, _I(1))
                for lane in range(LANES):
                    w.zc[i, lane] = 0.0
            for j in range(k):
                for lane in range(LANES):
                    z = qtable_value(m.tables, m.normal_off, w.ucorr[j, lane])
                    for i in range(j, k):
                        w.zc[i, lane] += m.corr_l[l0 + i * k + j] * z
            for i in range(k):
                for lane in range(LANES):
                    x = 0.5 * math.erfc(-w.zc[i, lane] * _INV_SQRT2)
                    w.ucorr[i, lane] = min(max(x, _U_MIN), 1.0 - _U_MIN)
                v = m.corr_var[v0 + i]
                p = m.var_pos[v]
                sample_row(m.dur_code[p], m.dur_par, p, m.tables, w.ucorr, i, w.dsb, p * N_SUB + sub,
                           _I(1))


