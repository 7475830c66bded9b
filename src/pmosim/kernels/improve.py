"""A better deterministic levelled plan: multi-pass sampling with forward-backward improvement.

The serial schedule generation scheme (SGS, :func:`pmosim.kernels.levelling.level_lane`)
levels one priority list. :func:`improve_plan` searches over lists for a shorter levelled
plan of the planned durations:

1. *Forward-backward improvement* (Tormos & Lova 2001, Ann. Oper. Res. 102:65-81; the
   double justification of Valls, Ballestin & Quintanilla 2005, EJOR 165(2):375-386).
   :func:`right_justify` moves the tasks of the list's SGS schedule, in decreasing
   order of finish, each as late as the makespan, its successors' links and the free
   resources allow (the mirror of FS is FS, of SS is FF, of FF is SS, of SF is SF:
   ``f_j <= s_w - lag``, ``s_j <= s_w - lag``, ``f_j <= f_w - lag``,
   ``s_j <= f_w - lag``). The schedule is then left-justified by the SGS itself, on
   the list of the tasks by their start in the right-justified schedule (ties in the
   previous list's order, made precedence-feasible): when that list is in start
   order no task starts later than it did right-justified, so the makespan does not
   grow. (With SS or SF links or negative lags a successor may start before its
   predecessor and the list must leave the start order; then the SGS may give a
   longer plan, which is simply not taken.) Repeated while the makespan shrinks.
2. *Multi-pass*: pass 0 takes ``lev.order``; pass ``k >= 1`` samples a list by
   regret-based biased random sampling (Drexl 1991, Management Sci. 37(10):1346-1361)
   on the ranks of a base list: each eligible task (every predecessor listed) is
   drawn with probability proportional to ``(max eligible rank - its rank + 1) **
   alpha``. Odd passes sample around ``lev.order`` (whatever rule made it), even ones
   around the best list found so far; alpha cycles through 1, 2, 4, 8, 16 (J30 does
   best near 1, J120 near 8; the cycle comes within 0.1 point of either). The draws are
   Philox keyed by ``(seed, pass, step)``: the same seed gives the same plan on any
   machine, and a pass does not depend on how many follow it, so more passes never
   give a longer plan.

Every plan kept is the plain SGS's schedule of its list: the list returned reproduces
the dates returned exactly (``level_lane`` with ``order=order``); they are feasible
exactly as the SGS's are (links of all types with their lags, releases, the start at 0,
completed tasks at their actual dates, ``free >= dem_need``, the demand less
``cap_eps``, at every time); and the plan is never longer than the single SGS pass of
``lev.order``, the first one tried. The right-justified schedules in between only
choose the next list: a right shift never breaks a release or the start at 0, and
completed tasks never move.

On PSPLIB with the LFT list (``benchmarks/psplib_improve.py``, all 2,040 instances):
the single pass is 5.6 % above the J30 optima and 13.0 % above the J120 best known
makespans; 3,000 passes (``DEFAULT_PASSES``) bring that to 0.17 % and 3.9 %, in 0.1 s
and 0.8 s per instance on one core.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from ..layout import FF, FS, SS, Levelling
from . import JIT
from .levelling import level_lane, make_lev_work
from .rng import philox4x64, to_unit

#: The sampling's bias: weight ``(regret + 1) ** alpha``, alpha cycling through
#: 1, 2, 4, ... 2 ** (BIAS_LEVELS - 1).
BIAS_LEVELS = 5
#: Passes for a caller with no reason to choose: about 1 s for a J120 instance (120
#: tasks, 4 resources) on one core. A pass costs about n ** 1.4 (on layered networks
#: with 4 resources: 0.16 ms at 120 tasks, 3 ms at 1,000, 31 ms at 5,000).
DEFAULT_PASSES = 3000
#: At most this many forward-backward rounds per pass (each must shorten the plan).
MAX_ROUNDS = 64
#: Every INTENSIFY-th pass samples around the best list found so far.
INTENSIFY = 2
#: Philox ``c2`` word of the sampling draws (the key is the seed).
_STREAM = np.uint64(0x1E7E11ED)
_KEY1 = np.uint64(0x9C0FFEE5EED5)
# improve_plan builds Levelling structs with their own lists as ``(order, rank, *rest)``
assert Levelling._fields[:2] == ("order", "rank")


class Profile(NamedTuple):
    """The resource profile of the right justification: a doubly linked list of
    intervals in a pool of nodes, as :class:`pmosim.kernels.levelling.LevWork`'s.
    Node ``i`` starts at ``evt[i]`` and ends where ``nxt[i]`` starts, with
    ``free[i, r]`` units of resource ``r`` free; node 0 starts at -inf, node
    ``cap_t.shape[0]`` is the end sentinel (+inf). A split adds a node, so a node
    keeps its start for ever: ``hs[p]``/``hf[p]`` are nodes at task ``p``'s start and
    finish once it is placed (``done[p]``), where its predecessors' searches start."""

    evt: np.ndarray       # float64[N]     node start (N = S + 2n + 2)
    nxt: np.ndarray       # int64[N]       next node (-1 after the sentinel)
    prv: np.ndarray       # int64[N]       previous node (-1 before node 0)
    free: np.ndarray      # float64[N, R]
    hs: np.ndarray        # int64[n]
    hf: np.ndarray        # int64[n]
    done: np.ndarray      # uint8[n]       placed in this justification


@njit(**JIT)
def make_profile(lev, n):
    """Allocate a :class:`Profile` for ``n`` tasks."""
    size = lev.cap_t.shape[0] + 2 * n + 2
    return Profile(np.empty(size), np.empty(size, dtype=np.int64),
                   np.empty(size, dtype=np.int64), np.empty((size, lev.cap_final.shape[0])),
                   np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64),
                   np.zeros(n, dtype=np.uint8))


@njit(**JIT)
def _successors(links, n):
    """CSR of each position's outgoing links: ``succ_ptr`` int64[n + 1] and the link
    indices ``succ_link`` int64[m] (into ``links.pred_*``); and each link's successor
    ``link_succ`` int64[m]."""
    m = links.pred_idx.shape[0]
    succ_ptr = np.zeros(n + 1, dtype=np.int64)
    link_succ = np.empty(m, dtype=np.int64)
    for p in range(n):
        for k in range(links.pred_ptr[p], links.pred_ptr[p + 1]):
            succ_ptr[links.pred_idx[k] + 1] += 1
            link_succ[k] = p
    for p in range(n):
        succ_ptr[p + 1] += succ_ptr[p]
    fill = succ_ptr[:n].copy()
    succ_link = np.empty(m, dtype=np.int64)
    for p in range(n):
        for k in range(links.pred_ptr[p], links.pred_ptr[p + 1]):
            q = links.pred_idx[k]
            succ_link[fill[q]] = k
            fill[q] += 1
    return succ_ptr, succ_link, link_succ


@njit(**JIT)
def _reset(lev, pr):
    """The initial profile (capacities only); returns the number of nodes in use."""
    evt, nxt, prv, free = pr.evt, pr.nxt, pr.prv, pr.free
    n_init = lev.cap_t.shape[0]
    for i in range(n_init):
        evt[i] = lev.cap_t[i]
        nxt[i] = i + 1
        prv[i] = i - 1
        for r in range(free.shape[1]):
            free[i, r] = lev.cap_free[i, r]
    evt[n_init] = np.inf
    nxt[n_init] = -1
    prv[n_init] = n_init - 1
    pr.done[:] = 0
    return n_init + 1


@njit(**JIT)
def _walk(pr, h, t):
    """The node ``i`` with ``evt[i] <= t < evt[nxt[i]]``, walked to from node ``h``."""
    evt, nxt, prv = pr.evt, pr.nxt, pr.prv
    i = h
    while evt[i] > t:
        i = prv[i]
    while evt[nxt[i]] <= t:
        i = nxt[i]
    return i


@njit(**JIT)
def _split(pr, count, i, t):
    """Make ``t`` (inside node ``i``) a node start; returns (that node, nodes in use)."""
    evt, nxt, prv, free = pr.evt, pr.nxt, pr.prv, pr.free
    if evt[i] == t:
        return i, count
    k = count
    evt[k] = t
    for r in range(free.shape[1]):
        free[k, r] = free[i, r]
    j = nxt[i]
    nxt[k] = j
    prv[k] = i
    prv[j] = k
    nxt[i] = k
    return k, count + 1


@njit(**JIT)
def _take(lev, pr, count, i, p, s, f):
    """Take task ``p``'s demands over ``[s, f)`` (``s`` inside node ``i``); sets its
    nodes ``hs[p]``, ``hf[p]``; returns the nodes in use."""
    evt, nxt, free = pr.evt, pr.nxt, pr.free
    k, count = _split(pr, count, i, s)
    pr.hs[p] = k
    while evt[k] < f:
        if evt[nxt[k]] > f:
            _, count = _split(pr, count, k, f)
        for d in range(lev.dem_ptr[p], lev.dem_ptr[p + 1]):
            free[k, lev.dem_res[d]] -= lev.dem_amt[d]
        k = nxt[k]
    pr.hf[p] = k
    return count


@njit(**JIT)
def _latest_fit(lev, pr, h, p, t, d, lo):
    """The latest start ``<= t`` (and ``>= lo``) at which task ``p`` (duration ``d > 0``)
    fits the profile for its whole duration, searched from node ``h``; ``lo`` when none
    later does."""
    evt, nxt, prv, free = pr.evt, pr.nxt, pr.prv, pr.free
    k0, k1 = lev.dem_ptr[p], lev.dem_ptr[p + 1]
    f = t + d
    k = _walk(pr, h, f)
    if evt[k] >= f:
        k = prv[k]
    # node k holds the instant just before f (node 0, from -inf, has no previous)
    while k >= 0 and evt[nxt[k]] > t:
        ok = True
        for c in range(k0, k1):
            if free[k, lev.dem_res[c]] < lev.dem_need[c]:   # the SGS's test
                ok = False
                break
        if not ok:
            # no window that overlaps node k fits: the window must end where it starts
            f = evt[k]
            t = f - d
            if not t > lo:
                return lo
        k = prv[k]
    return t


@njit(**JIT)
def right_justify(lev, links, succ_ptr, succ_link, link_succ, dur, lag, es, ef, pf, by_finish,
                  pr):
    """Right-justify the schedule ``es``/``ef`` (float64[n, 1]) in place within the
    makespan ``pf``: tasks in the order ``by_finish`` (int64[n], decreasing finish),
    each as late as its successors' current dates, their links and the free resources
    allow. Completed tasks stay. ``pr`` is scratch.

    Each task is placed on a profile of the completed tasks and the tasks placed
    before it, and only at or after its current start: that is the same as moving
    it with every other task where it is (Valls et al. 2005's shift), since a task
    not yet placed ends by this one's current finish and, where the two overlap,
    this one already ran beside it.
    """
    n = dur.shape[0]
    count = _reset(lev, pr)
    sentinel = lev.cap_t.shape[0]
    prv = pr.prv
    dem_ptr = lev.dem_ptr
    fixed_on, fixed_start = links.fixed_on, links.fixed_start
    if fixed_on:
        for p in range(n):
            if not np.isnan(fixed_start[p]):
                i = _walk(pr, 0, es[p, 0])
                if dur[p, 0] > 0.0 and dem_ptr[p + 1] > dem_ptr[p]:
                    count = _take(lev, pr, count, i, p, es[p, 0], ef[p, 0])
                else:
                    pr.hs[p] = i
                    pr.hf[p] = i
                pr.done[p] = 1
    for i in range(n):
        j = by_finish[i]
        if fixed_on and not np.isnan(fixed_start[j]):
            continue
        d = dur[j, 0]
        s0 = es[j, 0]
        ls = pf - d
        h = prv[sentinel]
        for c in range(succ_ptr[j], succ_ptr[j + 1]):
            k = succ_link[c]
            w = link_succ[k]
            if fixed_on and not np.isnan(fixed_start[w]):
                continue   # a completed task's incoming links do not bind it
            lk = links.pred_lag[k] + lag[links.pred_lagrow[k], 0]
            kind = links.pred_type[k]
            if kind == FS:
                b = (es[w, 0] - lk) - d
                hb = pr.hs[w]
            elif kind == SS:
                b = es[w, 0] - lk
                hb = pr.hs[w]
            elif kind == FF:
                b = (ef[w, 0] - lk) - d
                hb = pr.hf[w]
            else:
                b = ef[w, 0] - lk
                hb = pr.hf[w]
            if b < ls:
                ls = b
                h = hb if pr.done[w] else h
        t = s0
        uses = d > 0.0 and dem_ptr[j + 1] > dem_ptr[j]
        if ls > s0:
            t = _latest_fit(lev, pr, h, j, ls, d, s0) if uses else ls
        node = _walk(pr, h, t)
        if uses:
            count = _take(lev, pr, count, node, j, t, t + d)
        else:
            pr.hs[j] = node
            pr.hf[j] = _walk(pr, node, t + d)
        pr.done[j] = 1
        es[j, 0] = t
        ef[j, 0] = t + d


@njit(**JIT)
def _heap_push(hk, ht, hp, size, key, tie, p):
    """Push ``p`` with ``(key, tie)`` onto the binary min-heap of ``size`` entries."""
    i = size
    while i > 0:
        up = (i - 1) // 2
        if hk[up] < key or (hk[up] == key and ht[up] <= tie):
            break
        hk[i], ht[i], hp[i] = hk[up], ht[up], hp[up]
        i = up
    hk[i], ht[i], hp[i] = key, tie, p
    return size + 1


@njit(**JIT)
def _heap_pop(hk, ht, hp, size):
    """Pop the smallest ``(key, tie)``; returns (its position, the new size)."""
    top = hp[0]
    size -= 1
    key, tie, p = hk[size], ht[size], hp[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and (hk[c + 1] < hk[c] or (hk[c + 1] == hk[c] and ht[c + 1] < ht[c])):
            c += 1
        if key < hk[c] or (key == hk[c] and tie <= ht[c]):
            break
        hk[i], ht[i], hp[i] = hk[c], ht[c], hp[c]
        i = c
    hk[i], ht[i], hp[i] = key, tie, p
    return top, size


@njit(**JIT)
def list_by_key(links, succ_ptr, succ_link, link_succ, key, tie, waiting, hk, ht, hp, out):
    """Write into ``out`` (int64[n]) the precedence-feasible list that repeatedly takes
    the eligible position (every predecessor listed) with the smallest ``(key, tie)``
    (float64[n], int64[n]). ``waiting``, ``hp``, ``ht`` (int64[n]), ``hk`` (float64[n])
    are scratch."""
    n = key.shape[0]
    size = 0
    for p in range(n):
        waiting[p] = links.pred_ptr[p + 1] - links.pred_ptr[p]
        if waiting[p] == 0:
            size = _heap_push(hk, ht, hp, size, key[p], tie[p], p)
    for i in range(n):
        p, size = _heap_pop(hk, ht, hp, size)
        out[i] = p
        for c in range(succ_ptr[p], succ_ptr[p + 1]):
            w = link_succ[succ_link[c]]
            waiting[w] -= 1
            if waiting[w] == 0:
                size = _heap_push(hk, ht, hp, size, key[w], tie[w], w)


@njit(**JIT)
def sample_list(links, succ_ptr, succ_link, link_succ, base_rank, squarings, k0, k1, pass_idx,
                waiting, elig, weight, out):
    """Regret-based biased random sampling: write into ``out`` (int64[n]) a
    precedence-feasible list that draws each next task among the eligible ones (every
    predecessor listed) with probability proportional to ``(max eligible rank - its
    rank + 1) ** (2 ** squarings)`` (ranks ``base_rank``, int64[n]). Draw ``i`` is Philox
    at counter ``(pass_idx, i)`` under the key ``(k0, k1)``. ``waiting``, ``elig``
    (int64[n]) and ``weight`` (float64[n]) are scratch."""
    n = base_rank.shape[0]
    n_elig = 0
    for p in range(n):
        waiting[p] = links.pred_ptr[p + 1] - links.pred_ptr[p]
        if waiting[p] == 0:
            elig[n_elig] = p
            n_elig += 1
    for i in range(n):
        top = base_rank[elig[0]]
        for e in range(1, n_elig):
            top = max(top, base_rank[elig[e]])
        total = 0.0
        for e in range(n_elig):
            x = top - base_rank[elig[e]] + 1.0
            for _ in range(squarings):
                x *= x
            weight[e] = x
            total += x
        u = to_unit(philox4x64(np.uint64(pass_idx), np.uint64(i), _STREAM, np.uint64(0),
                               k0, k1)[0]) * total
        pick = n_elig - 1
        acc = 0.0
        for e in range(n_elig):
            acc += weight[e]
            if u < acc:
                pick = e
                break
        p = elig[pick]
        n_elig -= 1
        elig[pick] = elig[n_elig]
        out[i] = p
        for c in range(succ_ptr[p], succ_ptr[p + 1]):
            w = link_succ[succ_link[c]]
            waiting[w] -= 1
            if waiting[w] == 0:
                elig[n_elig] = w
                n_elig += 1


@njit(**JIT)
def improve_plan(lev, links, dur1, lag1, passes, seed):
    """The shortest levelled plan found by ``passes`` passes of sampling plus
    forward-backward improvement (see the module docstring).

    lev : Levelling; links : Links
    dur1 : float64[n]           durations by position (planned)
    lag1 : float64[n_rlags]     the random lags' values (planned)
    passes : int64              number of lists tried (>= 1); pass 0 is ``lev.order``
    seed : int64                key of the sampling draws

    Returns ``(es, ef, finish, order)``: early start and finish (float64[n], by
    position), the makespan (float64; at most the single pass's), and the
    precedence-feasible priority list (int64[n]) whose plain serial SGS
    (``level_lane`` with ``order=order``) gives exactly ``es``/``ef``.
    """
    n = dur1.shape[0]
    dur = np.empty((n, 1))
    dur[:, 0] = dur1
    lag = np.zeros((1 + lag1.shape[0], 1))
    lag[1:, 0] = lag1
    es, ef = np.empty((n, 1)), np.empty((n, 1))         # the current schedule
    es2, ef2 = np.empty((n, 1)), np.empty((n, 1))       # the next one
    es_r, ef_r = np.empty((n, 1)), np.empty((n, 1))     # right-justified
    lw = make_lev_work(lev, n)
    pr = make_profile(lev, n)
    succ_ptr, succ_link, link_succ = _successors(links, n)
    # two copies of the struct whose lists (``order``) the SGS reads: current and next
    lev_cur = Levelling(np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64), *lev[2:])
    lev_nxt = Levelling(np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64), *lev[2:])
    by_finish = np.empty(n, dtype=np.int64)
    waiting = np.empty(n, dtype=np.int64)
    elig = np.empty(n, dtype=np.int64)
    hk = np.empty(n)
    ht = np.empty(n, dtype=np.int64)
    hp = np.empty(n, dtype=np.int64)
    weight = np.empty(n)
    key = np.empty(n)
    best_es = np.empty(n)
    best_ef = np.empty(n)
    best_order = lev.order.copy()
    best_rank = lev.rank.copy()
    best_pf = np.inf
    k0, k1 = np.uint64(seed), _KEY1
    lane = np.int64(0)
    for pass_idx in range(max(passes, 1)):
        if pass_idx == 0:
            lev_cur.order[:] = lev.order
        else:
            base = best_rank if pass_idx % INTENSIFY == 0 else lev.rank
            squarings = (pass_idx // INTENSIFY) % BIAS_LEVELS
            sample_list(links, succ_ptr, succ_link, link_succ, base, squarings, k0, k1, pass_idx,
                        waiting, elig, weight, lev_cur.order)
        pf = level_lane(lev_cur, links, dur, lag, es, ef, lane, lw)
        for _round in range(MAX_ROUNDS):
            order = lev_cur.order
            for i in range(n):
                lev_cur.rank[order[i]] = i
            # right-justify a copy: by decreasing finish, ties later-listed first
            for i in range(n):
                p = order[n - 1 - i]
                key[i] = -ef[p, 0]
                es_r[p, 0] = es[p, 0]
                ef_r[p, 0] = ef[p, 0]
            rev = np.argsort(key, kind="mergesort")
            for i in range(n):
                by_finish[i] = order[n - 1 - rev[i]]
            right_justify(lev, links, succ_ptr, succ_link, link_succ, dur, lag, es_r, ef_r,
                          pf, by_finish, pr)
            # left-justify: the SGS on the start order (ties in the current list's order)
            for p in range(n):
                key[p] = es_r[p, 0]
            list_by_key(links, succ_ptr, succ_link, link_succ, key, lev_cur.rank, waiting, hk,
                        ht, hp, lev_nxt.order)
            pf2 = level_lane(lev_nxt, links, dur, lag, es2, ef2, lane, lw)
            if not pf2 < pf:
                break
            pf = pf2
            lev_cur, lev_nxt = lev_nxt, lev_cur
            es, es2 = es2, es
            ef, ef2 = ef2, ef
        if pf < best_pf:
            best_pf = pf
            order = lev_cur.order
            for i in range(n):
                best_es[i] = es[i, 0]
                best_ef[i] = ef[i, 0]
                best_order[i] = order[i]
                best_rank[order[i]] = i
    return best_es, best_ef, best_pf, best_order
