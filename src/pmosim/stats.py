"""Pure functions on arrays: percentiles, exceedance, exact fixed-point moments, histogram quantiles."""

from __future__ import annotations

import numpy as np

#: Percentiles reported by default (results JSON: "P1", "P5", ..., "P95", "P99").
REPORT_PERCENTILES = (1, *range(5, 100, 5), 99)


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
