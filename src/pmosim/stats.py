"""Pure functions on arrays: percentiles, exceedance, exact fixed-point moments, histogram quantiles,
confidence intervals of percentiles and probabilities."""

from __future__ import annotations

import functools
import os

import numpy as np

#: Percentiles reported by default (results JSON: "P1", "P5", ..., "P95", "P99").
REPORT_PERCENTILES = (1, *range(5, 100, 5), 99)
#: Percentiles whose dates the results give for every task.
DATE_PERCENTILES = (10, 50, 80, 90)


def percentile_key(q: float) -> str:
    """``5 -> "P5"``, ``2.5 -> "P2.5"``."""
    return f"P{q:g}"


def check_q(q):
    """Validate percentile(s) ``q`` in [0, 100] and return them as float array."""
    arr = np.asarray(q, dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 100):
        raise ValueError(f"percentiles must be within 0..100, got {q!r}")
    return arr


def percentile(samples: np.ndarray, q):
    """Percentile(s) of samples, linear interpolation between order statistics
    (numpy's default, Hyndman & Fan type 7)."""
    out = np.percentile(samples, check_q(q))
    return float(out) if np.ndim(out) == 0 else out


def probability_le(samples: np.ndarray, x) -> float:
    """Fraction of samples ``<= x`` (the empirical CDF at x)."""
    return float(np.count_nonzero(samples <= x)) / samples.shape[0]


def fixed_point_total(int_part: np.ndarray, frac_part: np.ndarray) -> np.ndarray:
    """Value of exact sums kept as an integer part plus a count of 2**-32 units."""
    return int_part.astype(np.float64) + frac_part.astype(np.float64) * 2.0 ** -32


def normalise_fixed_point(int_part: np.ndarray, frac_part: np.ndarray) -> None:
    """Carry whole units from ``frac_part`` into ``int_part`` in place (keeps int64 from overflowing)."""
    carry = frac_part >> 32
    int_part += carry
    frac_part -= carry << 32


def mean_std_from_sums(shift, s1, s2, n):
    """Mean and sample standard deviation of x from sums of d = x - shift and d**2."""
    mean_d = s1 / n
    var = np.maximum(s2 / n - mean_d * mean_d, 0.0) * (n / (n - 1) if n > 1 else 0.0)
    return shift + mean_d, np.sqrt(var)


def histogram_quantiles(hist, lo, scale, vmin, vmax, q):
    """Quantile estimates from per-row histograms with open-ended outer bins.

    Parameters
    ----------
    hist : int64[n_rows, n_bins + 2]
        Counts; column 0 counts values below ``lo``, the last column values at or
        above ``lo + n_bins / scale``.
    lo, scale : float64[n_rows]
        Lower edge of bin 1 and bins per unit.
    vmin, vmax : float64[n_rows]
        Exact extremes, used as the outer edges of the open-ended bins.
    q : float or array
        Percentiles in 0..100.

    Returns
    -------
    float64[n_rows] or float64[n_rows, len(q)]
        Linear interpolation within the bin holding the rank ``q/100 * count``,
        clipped to [vmin, vmax]; exact when all values are equal.
    """
    qa = np.atleast_1d(check_q(q))
    n_rows, n_cols = hist.shape
    n_bins = n_cols - 2
    inner = lo[:, None] + np.arange(n_bins + 1)[None, :] / scale[:, None]
    edges = np.concatenate([vmin[:, None], inner, vmax[:, None]], axis=1)
    edges = np.clip(edges, vmin[:, None], vmax[:, None])
    cum = np.cumsum(hist, axis=1)
    total = cum[:, -1].astype(float)
    out = np.empty((n_rows, qa.size))
    for j, qq in enumerate(qa):
        rank = qq / 100.0 * total
        b = np.minimum((cum < rank[:, None]).sum(axis=1), n_cols - 1)
        before = np.where(b > 0, cum[np.arange(n_rows), np.maximum(b - 1, 0)], 0)
        count = hist[np.arange(n_rows), b]
        frac = np.where(count > 0, (rank - before) / np.maximum(count, 1), 0.0)
        left = edges[np.arange(n_rows), b]
        right = edges[np.arange(n_rows), b + 1]
        out[:, j] = np.clip(left + frac * (right - left), vmin, vmax)
    return out[:, 0] if np.ndim(q) == 0 else out


# -- correlation ---------------------------------------------------------------------------

#: Repaired matrices are rounded to multiples of this, so that LAPACK builds that
#: differ in the last bits of an eigen-decomposition still give the same draws.
CORRELATION_GRID = 2.0 ** -40


def nearest_correlation(a: np.ndarray, *, min_eigenvalue: float = 1e-10,
                        tol: float = 1e-12, max_iter: int = 10_000) -> np.ndarray:
    """The nearest correlation matrix to symmetric ``a`` (Higham 2002, alternating
    projections with Dykstra's correction), with eigenvalues at least ``min_eigenvalue``.

    Returns ``a`` itself (a copy) when it already is one.
    """
    a = np.array(a, dtype=float)
    if np.linalg.eigvalsh(a).min() >= min_eigenvalue:
        return a
    y = a.copy()
    ds = np.zeros_like(a)
    for _ in range(max_iter):
        r = y - ds
        w, v = np.linalg.eigh(r)
        x = (v * np.maximum(w, min_eigenvalue)) @ v.T
        ds = x - r
        y_new = x.copy()
        np.fill_diagonal(y_new, 1.0)
        done = np.linalg.norm(y_new - y, "fro") <= tol * max(1.0, np.linalg.norm(y, "fro"))
        y = y_new
        if done and np.linalg.eigvalsh(y).min() > 0:
            break
    return (y + y.T) / 2


def round_to_grid(a: np.ndarray) -> np.ndarray:
    return np.round(a / CORRELATION_GRID) * CORRELATION_GRID


def spearman_to_pearson(s):
    """Pearson correlation of a bivariate normal with Spearman correlation ``s``."""
    return 2.0 * np.sin(np.pi * np.asarray(s, dtype=float) / 6.0)


def pearson_to_spearman(r):
    """Spearman correlation of a bivariate normal with Pearson correlation ``r``."""
    return 6.0 / np.pi * np.arcsin(np.asarray(r, dtype=float) / 2.0)


def cholesky(a: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of a positive definite matrix, in a fixed order of
    floating-point operations (the same bits on every machine, unlike LAPACK)."""
    k = a.shape[0]
    low = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1):
            s = float(a[i, j])
            for m in range(j):
                s -= low[i, m] * low[j, m]
            if i == j:
                if s <= 0:
                    raise np.linalg.LinAlgError("matrix is not positive definite")
                low[i, i] = np.sqrt(s)
            else:
                low[i, j] = s / low[j, j]
    return low


def spearman(x: np.ndarray) -> np.ndarray:
    """Spearman rank correlation matrix of the columns of ``x`` (average ranks for ties)."""
    from scipy.stats import rankdata
    ranks = rankdata(x, axis=0)
    return np.atleast_2d(np.corrcoef(ranks, rowvar=False))


# -- confidence intervals ------------------------------------------------------------------

#: Confidence level of the intervals reported beside P-values and probabilities.
CI_LEVEL = 0.95


def check_level(level) -> float:
    """Validate a confidence level in (0, 1) and return it as float."""
    try:
        value = float(level)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.0 < value < 1.0:
        raise ValueError(f"level must be a confidence level between 0 and 1 (e.g. 0.95), "
                         f"got {level!r}")
    return value


def _last_cdf_at_most(n: int, p: float, limit: float) -> int:
    """Largest j in -1..n with ``P(Binomial(n, p) <= j) <= limit`` (-1 when even
    ``P(B <= 0)`` exceeds it): a binary search on the monotone cdf."""
    from scipy.special import bdtr

    lo, hi = -1, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if float(bdtr(mid, n, p)) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def quantile_ci_ranks(n: int, q: float, level: float = CI_LEVEL) -> tuple[int, int, float]:
    """Ranks of the order statistics that bound the distribution-free interval of a quantile.

    With ``B ~ Binomial(n, q/100)`` (how many of n independent samples fall below the
    true quantile), the lower rank ``r`` is the largest with ``P(B <= r - 1) <= alpha/2``
    and the upper rank ``s`` the smallest with ``P(B >= s) <= alpha/2``,
    ``alpha = 1 - level``: each tail is at most alpha/2 (equal-tailed), so
    ``[X_(r), X_(s)]`` covers the true quantile with probability at least
    ``P(r <= B <= s - 1) >= level`` for any distribution, continuous or not.

    Parameters
    ----------
    n : int
        Number of samples (>= 1).
    q : float
        Percentile in 0..100.
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    (r, s, coverage)
        1-based ranks; ``r == 0`` means no order statistic is low enough (the interval
        is unbounded below: too few samples for that level), ``s == n + 1`` unbounded
        above. ``coverage`` is the guaranteed coverage ``P(r <= B <= s - 1)``.

    Examples
    --------
    >>> quantile_ci_ranks(10, 50)     # [X_(2), X_(9)]: 1 - 2 * 11/1024
    (2, 9, 0.978515625)
    """
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be a whole number >= 1, got {n!r}")
    return _ranks(int(n), float(check_q(q)) / 100.0, check_level(level))


@functools.lru_cache(maxsize=1024)
def _ranks(n: int, p: float, level: float) -> tuple[int, int, float]:
    # the same few (n, q, level) come back for every result of a run and in every report;
    # scipy.special, not scipy.stats: importing that took 0.45 s of every warm run
    from scipy.special import bdtr, bdtrc

    tail = (1.0 - level) / 2.0
    below = _last_cdf_at_most(n, p, tail)
    r = below + 1
    # by symmetry (n - B ~ Binomial(n, 1 - p)) the upper rank mirrors the lower one
    s = n - _last_cdf_at_most(n, 1.0 - p, tail)
    low_tail = float(bdtr(r - 1, n, p)) if r >= 1 else 0.0
    high_tail = float(bdtrc(s - 1, n, p)) if s <= n else 0.0
    return r, s, 1.0 - low_tail - high_tail


def quantile_ci(samples: np.ndarray, q, level: float = CI_LEVEL):
    """Distribution-free confidence interval of the ``q``-th percentile from samples.

    The interval runs between two order statistics of the samples chosen from the
    binomial distribution of how many samples fall below the true quantile
    (:func:`quantile_ci_ranks`; e.g. Hahn & Meeker, *Statistical Intervals*, 2nd ed.,
    sec. 5.2). Its coverage is at least ``level`` whatever the distribution (exact
    binomial arithmetic, no normal approximation, each tail at most
    ``(1 - level) / 2``), so it is conservative: for n = 10,000 and P80 at 95 % the
    coverage is about 95.2 %. It assumes independent samples, which Monte Carlo
    iterations are (every draw is keyed by its own iteration).

    Parameters
    ----------
    samples : float64[n]
    q : float or sequence of float
        Percentile(s) in 0..100.
    level : float
        Confidence level in (0, 1), default 0.95.

    Returns
    -------
    (lo, hi)
        Floats for a scalar ``q``, float64 arrays for a sequence. An end that no order
        statistic can bound at this level (too few samples, e.g. P1 of 100 samples)
        is ``-inf`` (``lo``) or ``+inf`` (``hi``).

    Examples
    --------
    >>> import numpy as np
    >>> quantile_ci(np.arange(1.0, 11.0), 50)
    (2.0, 9.0)
    """
    x = np.asarray(samples, dtype=float).ravel()
    n = x.shape[0]
    if n == 0:
        raise ValueError("quantile_ci needs at least one sample")
    qa = np.atleast_1d(check_q(q))
    ranks = [quantile_ci_ranks(n, qq, level)[:2] for qq in qa]
    kth = sorted({k - 1 for pair in ranks for k in pair if 1 <= k <= n})
    ordered = np.partition(x, kth) if kth else x

    def at(rank):
        if rank < 1:
            return -np.inf
        if rank > n:
            return np.inf
        return float(ordered[rank - 1])

    lo = np.array([at(r) for r, _ in ranks])
    hi = np.array([at(s) for _, s in ranks])
    if np.ndim(q) == 0:
        return float(lo[0]), float(hi[0])
    return lo, hi


def proportion_ci(k: int, n: int, level: float = CI_LEVEL) -> tuple[float, float]:
    """Clopper-Pearson ("exact") confidence interval of a probability from ``k`` of ``n``.

    Used for P(finish <= target), P(cost <= budget) and the joint confidence level.
    Clopper-Pearson rather than Wilson because its coverage is at least ``level`` for
    every true probability (the same guarantee as :func:`quantile_ci`); Wilson is
    narrower but its coverage dips below the level for some probabilities, worst
    near 0 and 1, which is where schedule targets and budgets often sit. The ends
    solve ``P(Bin(n, lo) >= k) = alpha/2`` and ``P(Bin(n, hi) <= k) = alpha/2``
    (beta quantiles), with ``lo = 0`` for ``k = 0`` and ``hi = 1`` for ``k = n``.

    Examples
    --------
    >>> lo, hi = proportion_ci(0, 10)
    >>> lo, round(hi, 4)                   # hi = 1 - 0.025 ** (1/10) = 0.30850
    (0.0, 0.3085)
    """
    from scipy.special import betaincinv

    for name, value in (("k", k), ("n", n)):
        if isinstance(value, bool) or int(value) != value:
            raise ValueError(f"{name} must be a whole number, got {value!r}")
    k, n = int(k), int(n)
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    tail = (1.0 - check_level(level)) / 2.0
    lo = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, tail))
    hi = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1.0 - tail))
    return lo, hi


def suggested_iterations(n: int, width: float, wanted: float, *, margin: float = 1.2,
                         multiple: int = 512) -> int:
    """Iterations for an interval ``width`` measured at ``n`` to shrink to ``wanted``.

    Interval widths of percentiles and probabilities shrink as 1/sqrt(n) (the
    asymptotic normal law of sample quantiles and proportions), so
    ``n * (width / wanted) ** 2``, times a safety ``margin``, rounded up to a
    ``multiple`` (and at least ``n``).

    Examples
    --------
    >>> suggested_iterations(10_000, 2.0, 1.0)    # 4x, then x1.2: 48,000 -> 48,128
    48128
    """
    if not np.isfinite(width):
        return int(-(-16 * n // multiple) * multiple)
    need = n * (width / wanted) ** 2 * margin if wanted > 0 else float(n)
    need = max(float(n), need)
    return int(-(-int(np.ceil(need)) // multiple) * multiple)


def histogram_cdf(hist, lo, scale, vmin, vmax, x):
    """Estimated ``P(value <= x)`` per row of histograms with open-ended outer bins
    (the layout of :func:`histogram_quantiles`), with the bounds the counts allow.

    Parameters
    ----------
    hist : int64[n_rows, n_bins + 2]
    lo, scale, vmin, vmax : float64[n_rows]
        As in :func:`histogram_quantiles`.
    x : float or float64[n_rows]

    Returns
    -------
    (estimate, low, high) : three float64[n_rows]
        ``low`` counts the bins wholly at or below ``x``, ``high`` adds the bin holding
        ``x``; ``estimate`` interpolates linearly within that bin (the inverse of
        :func:`histogram_quantiles`). The bounds are apart by that bin's share: wide
        where many values sit exactly on one number (a finish that often equals its
        plan), where no interpolation can tell how many lie at or below ``x``. Below
        ``vmin`` all three are 0, at or above ``vmax`` all are 1.
    """
    hist = np.asarray(hist)
    n_rows, n_cols = hist.shape
    n_bins = n_cols - 2
    x = np.broadcast_to(np.asarray(x, dtype=float), (n_rows,))
    inner = lo[:, None] + np.arange(n_bins + 1)[None, :] / scale[:, None]
    edges = np.concatenate([vmin[:, None], inner, vmax[:, None]], axis=1)
    edges = np.clip(edges, vmin[:, None], vmax[:, None])
    cum = np.cumsum(hist, axis=1).astype(float)
    total = np.maximum(cum[:, -1], 1.0)
    rows = np.arange(n_rows)
    # the bin holding x: the last one whose left edge is <= x (empty bins skipped back)
    b = np.clip((edges[:, :-1] <= x[:, None]).sum(axis=1) - 1, 0, n_cols - 1)
    before = np.where(b > 0, cum[rows, np.maximum(b - 1, 0)], 0.0)
    count = hist[rows, b].astype(float)
    left, right = edges[rows, b], edges[rows, b + 1]
    width = right - left
    frac = np.where(width > 0, np.clip((x - left) / np.where(width > 0, width, 1.0), 0, 1),
                    1.0)
    low, high = before / total, (before + count) / total
    est = (before + frac * count) / total
    below, above = x < vmin, x >= vmax
    out = []
    for arr in (est, low, high):
        arr = np.where(below, 0.0, np.where(above, 1.0, arr))
        out.append(arr)
    return tuple(out)


def rank_cruciality(x: np.ndarray, y: np.ndarray, threads: int | None = None) -> tuple:
    """|Spearman rho| and |Kendall tau-b| of each column of ``x`` (float64[k, m]) against
    ``y`` (float64[k]): two float64[m].

    Ties get average ranks (Spearman) and the tau-b correction (Kendall), as scipy's
    ``spearmanr`` and ``kendalltau``. A column that never varies gives 0 (no
    sensitivity); every column gives NaN when ``y`` never varies or ``k < 2``. The
    columns are split over ``threads`` threads (default: the CPU count; the kernel
    releases the GIL), which changes nothing in the result.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .kernels.rank import spearman_kendall

    x = np.asarray(x, dtype=float)
    y = np.ascontiguousarray(y, dtype=float)
    k, m = x.shape
    rho, tau = np.zeros(m), np.zeros(m)
    if k < 2 or np.all(y == y[0]):
        return np.full(m, np.nan), np.full(m, np.nan)
    cols = np.flatnonzero(~np.all(x == x[:1], axis=0))
    xt = np.ascontiguousarray(x[:, cols].T)
    oy = np.argsort(y, kind="stable")
    n_threads = max(1, min(threads or os.cpu_count() or 1, len(cols) // 64 or 1))
    parts = np.array_split(np.arange(len(cols)), n_threads)
    if n_threads == 1:
        out = [spearman_kendall(xt, y, oy)]
    else:
        with ThreadPoolExecutor(n_threads) as pool:
            out = list(pool.map(lambda idx: spearman_kendall(xt[idx[0]:idx[-1] + 1], y, oy),
                                parts))
    rho[cols] = np.abs(np.concatenate([o[0] for o in out]))
    tau[cols] = np.abs(np.concatenate([o[1] for o in out]))
    return np.minimum(rho, 1.0), np.minimum(tau, 1.0)


def correlation_noise_level(method: str, n: int, m: int = 1, alpha: float = 0.05) -> float:
    """The |correlation| that ``m`` independent pairs of samples of size ``n`` all stay
    below with probability about ``1 - alpha``: the noise floor of a cruciality ranking.

    A task whose duration does not affect the finish still shows a sample correlation
    of order 1/sqrt(n), and the largest of thousands such tasks is several times that:
    a ranking of 4,000 tasks on 500 iterations puts noise at 0.13 in Kendall's tau.
    Under independence the coefficient is about normal with mean 0 and variance
    1/(n - 1) (Pearson r, Spearman rho) or 2(2n + 5) / (9n(n - 1)) (Kendall tau-b,
    no ties; Kendall 1938); the level is that standard deviation times the normal
    quantile 1 - alpha / (2m) (two-sided, Bonferroni over the ``m`` tasks).

    Parameters
    ----------
    method : {"pearson", "spearman", "kendall"}
    n : int
        Iterations the coefficients were measured on (>= 3).
    m : int
        Tasks ranked (>= 1).
    alpha : float
        Family-wise chance that some independent task exceeds the level.

    Examples
    --------
    >>> round(correlation_noise_level("kendall", 500, 4000), 3)
    0.131
    """
    from statistics import NormalDist
    if n < 3:
        return 1.0
    if method == "kendall":
        sd = float(np.sqrt(2.0 * (2 * n + 5) / (9.0 * n * (n - 1))))
    elif method in ("pearson", "spearman"):
        sd = 1.0 / float(np.sqrt(n - 1))
    else:
        raise ValueError(f"method must be 'pearson', 'spearman' or 'kendall', got {method!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be within (0, 1), got {alpha!r}")
    z = NormalDist().inv_cdf(1.0 - alpha / (2.0 * max(int(m), 1)))
    return min(sd * z, 1.0)
