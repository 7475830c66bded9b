"""Immutable, validated probability distributions for durations, lags and costs.

Every distribution is sampled by inversion: ``x = ppf(u)`` with one uniform
``u`` in (0, 1). That is what lets pmosim key every draw to (seed, iteration,
variable), and later plug Latin hypercube draws or copulas in without touching
the distributions. Each class gives

- ``mean``, ``std`` and ``mode`` (``None`` where the mode is not defined);
- ``support``: the (low, high) range, infinite where unbounded;
- ``ppf(u)`` and ``cdf(x)``: exact, vectorised numpy/scipy reference versions;
- ``kernel_params(tables)``: how the compiled kernels sample it (their code and parameters).

Durations and costs can never be negative. Bounded distributions must have
``low >= 0`` when used for a duration (a clear :class:`~pmosim.errors.ModelError`
otherwise). :class:`Normal` is the one family whose support always reaches
below zero: used as a duration it is **truncated at zero** (sampled as
``ppf(F(0) + u * (1 - F(0)))``, i.e. conditioned on being non-negative), so it
has no point mass at zero and its mean is the truncated mean
(:meth:`Normal.nonnegative_mean`). Used as a lag it is not truncated.

Examples
--------
>>> from pmosim.distributions import Pert, Triangular
>>> Pert(10, 15, 30).mean
16.666666666666668
>>> float(Triangular(0, 5, 10).ppf(0.5))
5.0
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from .errors import ModelError
from .layout import DISCRETE, FIXED, N_KERNEL_PARAMS, QTABLE, TRIANGULAR, UNIFORM


class _LazySpecial:
    """``scipy.special``, imported on first use: keeps ``import pmosim`` fast."""

    def __getattr__(self, name):
        from scipy import special as module
        return getattr(module, name)


special = _LazySpecial()

# Kernel distribution codes (the kernels in pmosim.kernels.sampling switch on them) and
# the parameters per variable in the kernels' parameter arrays: see pmosim.layout.


#: Largest magnitude of any distribution parameter (a duration, lag, cost, impact or
#: factor): no real project comes near it, and every sum and product a model implies
#: (a finish over thousands of tasks, a percentage impact on a duration, costs summed
#: over a project) then stays far from float overflow, so results are finite and
#: their fixed-point sums exact to the documented precision.
MAX_MAGNITUDE = 1e15
#: Largest standard deviation of log(x) of a lognormal (sd / mean about 1e4): wider
#: spreads its quantile table cannot hold in float64.
MAX_LOG_SD = 4.0


def _finite(name, value, what):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ModelError(f"{what}: {name} must be a number, got {value!r}") from None
    except OverflowError:
        raise ModelError(f"{what}: {name} is too large ({str(value)[:20]}...); values must "
                         f"be within +-{MAX_MAGNITUDE:g}") from None
    if not math.isfinite(v):
        raise ModelError(f"{what}: {name} must be finite, got {value!r}")
    if abs(v) > MAX_MAGNITUDE:
        raise ModelError(f"{what}: {name} must be within +-{MAX_MAGNITUDE:g}, got {v:g}; no "
                         "real duration, lag, cost or factor comes near it (check the unit)")
    return v


class Distribution:
    """Base class of all distributions; see the module docstring.

    Subclasses are frozen dataclasses that provide ``mean``, ``std``, ``mode``
    (``None`` where undefined), ``support``, ``ppf``, ``cdf`` and ``kernel_params``.
    """

    kernel_code: ClassVar[int]
    #: Short name used in scenario files (``dist = "pert"``) and messages.
    kind: ClassVar[str]

    def ppf(self, u):
        """Inverse CDF (percent point function) at ``u`` in [0, 1], vectorised."""
        raise NotImplementedError

    def cdf(self, x):
        """Cumulative distribution function at ``x``, vectorised."""
        raise NotImplementedError

    def kernel_params(self, tables: "TableStore", nonnegative: bool = False) -> tuple:
        """Return ``(code, p0, ..., p4)`` for the kernels.

        Table-based distributions add their table to ``tables`` and pass its
        offset; ``nonnegative`` asks for the version used for durations and costs
        (normals truncated at zero).
        """
        raise NotImplementedError

    def check_nonnegative(self, what: str) -> None:
        """Raise :class:`ModelError` if this cannot be used for a duration or cost."""
        low = self.support[0]
        if low < 0:
            raise ModelError(
                f"{what}: {self.describe()} can be negative (low end {low:g}); "
                "durations and costs must be >= 0"
            )

    def describe(self) -> str:
        """A short human form, e.g. ``triangular(20, 25, 60)``."""
        values = [getattr(self, f.name) for f in dataclasses.fields(self) if f.init]
        vals = ", ".join(f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in values)
        return f"{self.kind}({vals})"

    def __str__(self):
        return self.describe()


@dataclass(frozen=True)
class Fixed(Distribution):
    """A constant: ``Fixed(5)`` is always 5."""

    value: float
    kind: ClassVar[str] = "fixed"

    def __post_init__(self):
        object.__setattr__(self, "value", _finite("value", self.value, "fixed"))

    mean = property(lambda self: self.value)
    std = property(lambda self: 0.0)
    mode = property(lambda self: self.value)
    support = property(lambda self: (self.value, self.value))

    def ppf(self, u):
        return np.full(np.shape(u), self.value, dtype=float)

    def cdf(self, x):
        return (np.asarray(x, dtype=float) >= self.value).astype(float)

    def kernel_params(self, tables, nonnegative=False):
        return (FIXED, self.value, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Uniform(Distribution):
    """Continuous uniform on [low, high]."""

    low: float
    high: float
    kind: ClassVar[str] = "uniform"

    def __post_init__(self):
        lo = _finite("low", self.low, "uniform")
        hi = _finite("high", self.high, "uniform")
        if not lo <= hi:
            raise ModelError(f"uniform needs low <= high, got {lo:g}, {hi:g}")
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "high", hi)

    mean = property(lambda self: 0.5 * (self.low + self.high))
    std = property(lambda self: (self.high - self.low) / math.sqrt(12.0))
    mode = property(lambda self: None)
    support = property(lambda self: (self.low, self.high))

    def ppf(self, u):
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)

    def cdf(self, x):
        if self.high == self.low:
            return (np.asarray(x, dtype=float) >= self.low).astype(float)
        return np.clip((np.asarray(x, dtype=float) - self.low) / (self.high - self.low), 0, 1)

    def kernel_params(self, tables, nonnegative=False):
        return (UNIFORM, self.low, self.high - self.low, 0.0, 0.0, 0.0)


def _check_three_point(kind, low, mode, high):
    lo = _finite("low", low, kind)
    mo = _finite("mode", mode, kind)
    hi = _finite("high", high, kind)
    if not lo <= mo <= hi:
        raise ModelError(f"{kind} needs low <= mode <= high, got {lo:g}, {mo:g}, {hi:g}")
    return lo, mo, hi


def _triangular_ppf(u, a, c, b):
    # the same operations, in the same order, as the kernel's sampler
    u = np.asarray(u, dtype=float)
    if b == a:
        return np.full(u.shape, a)
    fc = (c - a) / (b - a)
    left = u < fc
    root = np.sqrt(np.where(left, u * ((b - a) * (c - a)), (1.0 - u) * ((b - a) * (b - c))))
    return np.where(left, a + root, b - root)


def _triangular_cdf(x, a, c, b):
    x = np.asarray(x, dtype=float)
    if b == a:
        return (x >= a).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        left = (x - a) ** 2 / ((b - a) * (c - a)) if c > a else np.ones_like(x)
        right = 1.0 - (b - x) ** 2 / ((b - a) * (b - c)) if b > c else np.ones_like(x)
    return np.where(x <= a, 0.0, np.where(x >= b, 1.0, np.where(x <= c, left, right)))


@dataclass(frozen=True)
class Triangular(Distribution):
    """Triangular distribution with minimum ``low``, most likely ``mode``, maximum ``high``."""

    low: float
    mode: float
    high: float
    kind: ClassVar[str] = "triangular"

    def __post_init__(self):
        lo, mo, hi = _check_three_point("triangular", self.low, self.mode, self.high)
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "mode", mo)
        object.__setattr__(self, "high", hi)

    mean = property(lambda self: (self.low + self.mode + self.high) / 3.0)
    support = property(lambda self: (self.low, self.high))

    @property
    def std(self):
        a, c, b = self.low, self.mode, self.high
        return math.sqrt(max(a * a + b * b + c * c - a * b - a * c - b * c, 0.0) / 18.0)

    def ppf(self, u):
        return _triangular_ppf(u, self.low, self.mode, self.high)

    def cdf(self, x):
        return _triangular_cdf(x, self.low, self.mode, self.high)

    def kernel_params(self, tables, nonnegative=False):
        return _triangular_kernel(self.low, self.mode, self.high)


def _triangular_kernel(a, c, b):
    if b == a:
        return (FIXED, a, 0.0, 0.0, 0.0, 0.0)
    return (TRIANGULAR, a, c, b, (c - a) / (b - a), 0.0)


@dataclass(frozen=True)
class Pert(Distribution):
    """(Modified) PERT: a Beta on [low, high] with the given mode.

    Shape parameters are ``alpha = 1 + lamb * (mode - low) / (high - low)`` and
    ``beta = 1 + lamb * (high - mode) / (high - low)``; ``lamb = 4`` is classic PERT,
    so the mean is ``(low + lamb * mode + high) / (lamb + 2)``.

    The kernels sample it from a quantile table of the exact Beta inverse CDF
    (see :func:`quantile_table`).
    """

    low: float
    mode: float
    high: float
    lamb: float = 4.0
    kind: ClassVar[str] = "pert"

    def __post_init__(self):
        lo, mo, hi = _check_three_point("pert", self.low, self.mode, self.high)
        lamb = _finite("lamb", self.lamb, "pert")
        if lamb <= 0:
            raise ModelError(f"pert needs lamb > 0, got {lamb:g}")
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "mode", mo)
        object.__setattr__(self, "high", hi)
        object.__setattr__(self, "lamb", lamb)

    @property
    def alpha(self):
        r = self.high - self.low
        return 1.0 + self.lamb * (self.mode - self.low) / r if r > 0 else 1.0

    @property
    def beta(self):
        r = self.high - self.low
        return 1.0 + self.lamb * (self.high - self.mode) / r if r > 0 else 1.0

    support = property(lambda self: (self.low, self.high))

    @property
    def mean(self):
        return (self.low + self.lamb * self.mode + self.high) / (self.lamb + 2.0)

    @property
    def std(self):
        a, b = self.alpha, self.beta
        return (self.high - self.low) * math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0)))

    def ppf(self, u):
        u = np.asarray(u, dtype=float)
        if self.high == self.low:
            return np.full(u.shape, self.low)
        return self.low + (self.high - self.low) * special.betaincinv(self.alpha, self.beta, u)

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        if self.high == self.low:
            return (x >= self.low).astype(float)
        z = np.clip((x - self.low) / (self.high - self.low), 0.0, 1.0)
        return special.betainc(self.alpha, self.beta, z)

    def kernel_params(self, tables, nonnegative=False):
        if self.high == self.low:
            return (FIXED, self.low, 0.0, 0.0, 0.0, 0.0)
        a, b = self.alpha, self.beta
        offset = tables.add(("beta", a, b), lambda: beta_table(a, b))
        return (QTABLE, self.low, self.high - self.low, float(offset), 0.0, 0.0)


# -- tabulated inverse CDFs for the kernels ---------------------------------------------
#
# The kernels sample PERT, normal, log-normal and exponential variables from a
# table of the exact inverse CDF (computed here with scipy). Each table cell holds
# the monomial coefficients of the quintic Hermite polynomial that matches value,
# first and second derivative at both ends of the cell, so the kernel evaluates
# it with one Horner chain. Cells are uniform in u on the middle [1/8, 7/8] (96
# cells) and, in each tail, 12 cells per octave of the tail probability (2**-4..
# 2**-3, 2**-5..2**-4, ... down to 2**-54), so the singular or unbounded ends of
# an inverse CDF are resolved as finely as the uniforms themselves. The error
# against scipy is below 5e-10 of max(std, |x|) over the whole range of the
# uniforms (tested). Tables are built once per shape and process (cached), shared
# between variables of the same shape (all normals share one); each is 62 KiB,
# of which sampling mostly touches the middle and the first octaves (~8 KiB).

QT_TAIL = 1.0 / 8.0
QT_MID_CELLS = 96
QT_OCT_FIRST = 3
QT_OCT_LAST = 53
QT_OCT_CELLS = 12
QT_COEFS = 6
_QT_N_OCT = QT_OCT_LAST - QT_OCT_FIRST + 1
#: Offsets (in float64 words) of the lower and upper tail blocks within a table.
QT_LOWER = QT_COEFS * QT_MID_CELLS
QT_UPPER = QT_LOWER + QT_COEFS * _QT_N_OCT * QT_OCT_CELLS
QT_SIZE = QT_UPPER + QT_COEFS * _QT_N_OCT * QT_OCT_CELLS


def _octave_knots():
    """Tail probabilities of the octave knots, shape [n_octaves, cells + 1], and cell widths."""
    e = np.arange(QT_OCT_FIRST, QT_OCT_LAST + 1, dtype=float)[:, None]
    base = 2.0 ** -(e + 1)
    j = np.arange(QT_OCT_CELLS + 1)[None, :]
    return base * (1.0 + j / QT_OCT_CELLS), base / QT_OCT_CELLS


def _cell_coefficients(x, d1, d2, width):
    """Monomial coefficients (in the cell's local coordinate s in [0, 1]) of the quintic
    Hermite interpolant per cell, from knot values and derivatives; shape [cells, 6]."""
    f0, f1 = x[..., :-1], x[..., 1:]
    g0, g1 = d1[..., :-1] * width, d1[..., 1:] * width
    c0, c1 = d2[..., :-1] * width * width, d2[..., 1:] * width * width
    return np.stack([
        f0, g0, 0.5 * c0,
        -10 * f0 - 6 * g0 - 1.5 * c0 + 0.5 * c1 - 4 * g1 + 10 * f1,
        15 * f0 + 8 * g0 + 1.5 * c0 - c1 + 7 * g1 - 15 * f1,
        -6 * f0 - 3 * g0 - 0.5 * c0 + 0.5 * c1 - 3 * g1 + 6 * f1,
    ], axis=-1).reshape(-1, QT_COEFS)


def quantile_table(lower, upper) -> np.ndarray:
    """Build a kernel quantile table.

    Parameters
    ----------
    lower : callable
        ``lower(u) -> (x, dx/du, d2x/du2)`` for u in (0, 7/8]: the inverse CDF.
    upper : callable
        ``upper(v) -> (x, dx/dv, d2x/dv2)`` for v in (0, 1/8]: the inverse CDF at
        ``u = 1 - v``, written in terms of the upper tail probability ``v`` so the
        far right tail keeps full precision.

    Returns
    -------
    float64[QT_SIZE]
        Six polynomial coefficients per cell: the middle cells, then the lower-tail
        octaves, then the upper-tail octaves.
    """
    out = np.empty(QT_SIZE)
    h = (1.0 - 2.0 * QT_TAIL) / QT_MID_CELLS
    u = QT_TAIL + h * np.arange(QT_MID_CELLS + 1)
    out[:QT_LOWER] = _cell_coefficients(*lower(u), h).ravel()
    v, w = _octave_knots()
    for start, side in ((QT_LOWER, lower), (QT_UPPER, upper)):
        x, d1, d2 = (a.reshape(v.shape) for a in side(v.ravel()))
        out[start:start + QT_COEFS * _QT_N_OCT * QT_OCT_CELLS] = _cell_coefficients(
            x, d1, d2, w).ravel()
    if not np.all(np.isfinite(out)):
        raise ModelError("internal error: non-finite inverse-CDF table; please report this")
    out.flags.writeable = False     # tables are cached and shared
    return out


def _horner5(table, b, s):
    return table[b] + s * (table[b + 1] + s * (table[b + 2] + s * (
        table[b + 3] + s * (table[b + 4] + s * table[b + 5]))))


def quantile_table_eval(table: np.ndarray, u) -> np.ndarray:
    """Evaluate a :func:`quantile_table` at ``u`` in numpy, exactly as the kernel does."""
    u = np.atleast_1d(np.asarray(u, dtype=float))
    out = np.empty(u.shape)
    mid = (u >= QT_TAIL) & (u <= 1.0 - QT_TAIL)
    t = (u[mid] - QT_TAIL) * (QT_MID_CELLS / (1.0 - 2.0 * QT_TAIL))
    k = np.minimum(t.astype(np.int64), QT_MID_CELLS - 1)
    out[mid] = _horner5(table, QT_COEFS * k, t - k)
    for sel, start, v in ((u < QT_TAIL, QT_LOWER, u), (u > 1.0 - QT_TAIL, QT_UPPER, 1.0 - u)):
        m, ex = np.frexp(v[sel])
        e = np.minimum(-ex, QT_OCT_LAST)
        tt = np.where(-ex > QT_OCT_LAST, 0.0, (2.0 * m - 1.0) * QT_OCT_CELLS)
        kk = np.minimum(tt.astype(np.int64), QT_OCT_CELLS - 1)
        bb = start + QT_COEFS * ((e - QT_OCT_FIRST) * QT_OCT_CELLS + kk)
        out[sel] = _horner5(table, bb, tt - kk)
    return out


def _beta_parts(a, b):
    """Inverse CDF of Beta(a, b) with its first two derivatives, as a function of u."""
    lbeta = special.betaln(a, b)

    def parts(u):
        x = special.betaincinv(a, b, u)
        with np.errstate(divide="ignore", invalid="ignore"):
            logpdf = (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - lbeta
            d1 = np.exp(-logpdf)
            dlog = np.where(a == 1, 0.0, (a - 1) / x) - np.where(b == 1, 0.0, (b - 1) / (1 - x))
        return x, d1, -dlog * d1 * d1
    return parts


@functools.lru_cache(maxsize=4096)
def beta_table(a: float, b: float) -> np.ndarray:
    """Kernel quantile table of Beta(a, b) on [0, 1]."""
    lower = _beta_parts(a, b)
    mirror = _beta_parts(b, a)

    def upper(v):
        y, d1, d2 = mirror(v)
        return 1.0 - y, -d1, -d2
    return quantile_table(lower, upper)


def _normal_parts(u):
    z = special.ndtri(u)
    d1 = math.sqrt(2 * math.pi) * np.exp(0.5 * z * z)
    return z, d1, z * d1 * d1


@functools.lru_cache(maxsize=1)
def normal_table() -> np.ndarray:
    """Kernel quantile table of the standard normal."""
    def upper(v):
        z, d1, d2 = _normal_parts(v)
        return -z, -d1, -d2
    return quantile_table(_normal_parts, upper)


@functools.lru_cache(maxsize=1024)
def lognormal_table(sigma: float) -> np.ndarray:
    """Kernel quantile table of exp(sigma * Z), Z standard normal."""
    def lower(u):
        z, d1, d2 = _normal_parts(u)
        g = np.exp(sigma * z)
        return g, sigma * g * d1, sigma * g * (sigma * d1 * d1 + d2)

    def upper(v):
        z, d1, d2 = _normal_parts(v)
        g = np.exp(-sigma * z)
        return g, -sigma * g * d1, sigma * g * (sigma * d1 * d1 - d2)
    return quantile_table(lower, upper)


@functools.lru_cache(maxsize=1)
def exponential_table() -> np.ndarray:
    """Kernel quantile table of the standard exponential."""
    def lower(u):
        r = 1.0 / (1.0 - u)
        return -np.log1p(-u), r, r * r

    def upper(v):
        return -np.log(v), -1.0 / v, 1.0 / (v * v)
    return quantile_table(lower, upper)


class TableStore:
    """Kernel tables, deduplicated by key and concatenated into one float64 array."""

    def __init__(self):
        self._parts: list[np.ndarray] = []
        self._size = 0
        self._offsets: dict = {}

    def add(self, key, build) -> int:
        """Offset of the table for ``key``, building it with ``build()`` the first time."""
        if key not in self._offsets:
            table = np.asarray(build(), dtype=np.float64)
            self._offsets[key] = self._size
            self._parts.append(table)
            self._size += table.size
        return self._offsets[key]

    def array(self) -> np.ndarray:
        return np.concatenate(self._parts) if self._parts else np.zeros(1)


def _solve_trigen(low, mode, high, p, q):
    """True (a, b) of a triangular with mode ``mode`` and F(low)=p, F(high)=q."""
    d1, d2 = mode - low, high - mode
    qq = 1.0 - q
    s, e = d1, d2
    scale = max(high - low, abs(mode), 1.0)
    for _ in range(1000):
        s_new = d1 if p == 0 else (
            (2 * d1 + p * e) + math.sqrt((2 * d1 + p * e) ** 2 - 4 * (1 - p) * d1 * d1)
        ) / (2 * (1 - p))
        e_new = d2 if qq == 0 else (
            (2 * d2 + qq * s_new) + math.sqrt((2 * d2 + qq * s_new) ** 2 - 4 * (1 - qq) * d2 * d2)
        ) / (2 * (1 - qq))
        done = abs(s_new - s) <= 1e-14 * scale and abs(e_new - e) <= 1e-14 * scale
        s, e = s_new, e_new
        if done:
            break
    return mode - s, mode + e


@dataclass(frozen=True)
class Trigen(Distribution):
    """Triangular given by two percentiles and the mode (as in Primavera Risk, @RISK).

    ``low`` is the ``low_pct`` percentile and ``high`` the ``high_pct`` percentile of
    a triangular with mode ``mode``; the triangular's own minimum and maximum
    (:attr:`abs_low`, :attr:`abs_high`) are solved for when the object is made.
    """

    low: float
    mode: float
    high: float
    low_pct: float = 10.0
    high_pct: float = 90.0
    kind: ClassVar[str] = "trigen"
    abs_low: float = field(init=False, repr=False, compare=False)
    abs_high: float = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        lo, mo, hi = _check_three_point("trigen", self.low, self.mode, self.high)
        lp = _finite("low_pct", self.low_pct, "trigen")
        hp = _finite("high_pct", self.high_pct, "trigen")
        if not 0 <= lp < hp <= 100:
            raise ModelError(f"trigen needs 0 <= low_pct < high_pct <= 100, got {lp:g}, {hp:g}")
        for name, v in (("low", lo), ("mode", mo), ("high", hi), ("low_pct", lp), ("high_pct", hp)):
            object.__setattr__(self, name, v)
        a, b = (lo, hi) if hi == lo else _solve_trigen(lo, mo, hi, lp / 100.0, hp / 100.0)
        object.__setattr__(self, "abs_low", a)
        object.__setattr__(self, "abs_high", b)

    support = property(lambda self: (self.abs_low, self.abs_high))
    mean = property(lambda self: (self.abs_low + self.mode + self.abs_high) / 3.0)

    @property
    def std(self):
        return Triangular(self.abs_low, self.mode, self.abs_high).std

    def describe(self):
        return (f"trigen({self.low:g}, {self.mode:g}, {self.high:g}, "
                f"P{self.low_pct:g}/P{self.high_pct:g})")

    def ppf(self, u):
        return _triangular_ppf(u, self.abs_low, self.mode, self.abs_high)

    def cdf(self, x):
        return _triangular_cdf(x, self.abs_low, self.mode, self.abs_high)

    def kernel_params(self, tables, nonnegative=False):
        return _triangular_kernel(self.abs_low, self.mode, self.abs_high)


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal with the given mean and standard deviation.

    Used as a duration or cost it is truncated at zero (see the module docstring).
    """

    mean: float
    sd: float
    kind: ClassVar[str] = "normal"

    def __post_init__(self):
        m = _finite("mean", self.mean, "normal")
        s = _finite("sd", self.sd, "normal")
        if s < 0:
            raise ModelError(f"normal needs sd >= 0, got {s:g}")
        object.__setattr__(self, "mean", m)
        object.__setattr__(self, "sd", s)

    std = property(lambda self: self.sd)
    support = property(lambda self: (-math.inf, math.inf) if self.sd > 0 else (self.mean, self.mean))

    @property
    def mode(self):
        return self.mean

    def ppf(self, u):
        u = np.asarray(u, dtype=float)
        if self.sd == 0:
            return np.full(u.shape, self.mean)
        return self.mean + self.sd * special.ndtri(u)

    def cdf(self, x):
        if self.sd == 0:
            return (np.asarray(x, dtype=float) >= self.mean).astype(float)
        return special.ndtr((np.asarray(x, dtype=float) - self.mean) / self.sd)

    def _mass_below_zero(self):
        return float(special.ndtr(-self.mean / self.sd)) if self.sd > 0 else float(self.mean < 0)

    def nonnegative_ppf(self, u):
        """Inverse CDF of this normal conditioned on being >= 0 (durations, costs)."""
        u0 = self._mass_below_zero()
        return np.maximum(self.ppf(u0 + np.asarray(u, dtype=float) * (1.0 - u0)), 0.0)

    def nonnegative_mean(self):
        """Mean of this normal conditioned on being >= 0."""
        if self.sd == 0:
            return max(self.mean, 0.0)
        a = -self.mean / self.sd
        return self.mean + self.sd * math.exp(-0.5 * a * a) / math.sqrt(2 * math.pi) / (
            1.0 - float(special.ndtr(a)))

    def check_nonnegative(self, what):
        if self.mean < 0:
            raise ModelError(
                f"{what}: {self.describe()} has a negative mean; durations and costs must be >= 0"
            )

    def kernel_params(self, tables, nonnegative=False):
        if self.sd == 0:
            return (FIXED, max(self.mean, 0.0) if nonnegative else self.mean, 0.0, 0.0, 0.0, 0.0)
        u0 = self._mass_below_zero() if nonnegative else 0.0
        offset = tables.add(("normal",), normal_table)
        return (QTABLE, self.mean, self.sd, float(offset), u0, 1.0 if nonnegative else 0.0)


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Log-normal given by the arithmetic ``mean`` and ``sd`` of the variable itself."""

    mean: float
    sd: float
    kind: ClassVar[str] = "lognormal"

    def __post_init__(self):
        m = _finite("mean", self.mean, "lognormal")
        s = _finite("sd", self.sd, "lognormal")
        if m <= 0 or s < 0:
            raise ModelError(f"lognormal needs mean > 0 and sd >= 0, got {m:g}, {s:g}")
        try:
            sigma = math.sqrt(math.log1p((s / m) ** 2))
        except OverflowError:
            sigma = math.inf
        if not sigma <= MAX_LOG_SD:
            raise ModelError(f"lognormal({m:g}, {s:g}): sd / mean = {s / m:g} is too large "
                             f"(the sd of log(x) would be {sigma:g}, more than {MAX_LOG_SD:g}); "
                             "lower sd or raise the mean")
        object.__setattr__(self, "mean", m)
        object.__setattr__(self, "sd", s)

    std = property(lambda self: self.sd)
    support = property(lambda self: (0.0, math.inf))

    @property
    def sigma(self):
        """Standard deviation of log(X)."""
        return math.sqrt(math.log1p((self.sd / self.mean) ** 2))

    @property
    def mu(self):
        """Mean of log(X)."""
        return math.log(self.mean) - 0.5 * self.sigma ** 2

    @property
    def mode(self):
        return math.exp(self.mu - self.sigma ** 2)

    def ppf(self, u):
        return np.exp(self.mu + self.sigma * special.ndtri(np.asarray(u, dtype=float)))

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        if self.sigma == 0:
            return (x >= self.mean).astype(float)
        with np.errstate(divide="ignore"):
            return np.where(x > 0, special.ndtr((np.log(np.maximum(x, 1e-300)) - self.mu) / self.sigma), 0.0)

    def kernel_params(self, tables, nonnegative=False):
        if self.sd == 0:
            return (FIXED, self.mean, 0.0, 0.0, 0.0, 0.0)
        sigma = self.sigma
        offset = tables.add(("lognormal", sigma), lambda: lognormal_table(sigma))
        return (QTABLE, 0.0, math.exp(self.mu), float(offset), 0.0, 0.0)


@dataclass(frozen=True)
class Exponential(Distribution):
    """Exponential with the given mean (rate 1/mean), support [0, inf)."""

    mean: float
    kind: ClassVar[str] = "exponential"

    def __post_init__(self):
        m = _finite("mean", self.mean, "exponential")
        if m <= 0:
            raise ModelError(f"exponential needs mean > 0, got {m:g}")
        object.__setattr__(self, "mean", m)

    std = property(lambda self: self.mean)
    mode = property(lambda self: 0.0)
    support = property(lambda self: (0.0, math.inf))

    def ppf(self, u):
        with np.errstate(divide="ignore"):
            return -self.mean * np.log1p(-np.asarray(u, dtype=float))

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        return np.where(x > 0, -np.expm1(-np.maximum(x, 0) / self.mean), 0.0)

    def kernel_params(self, tables, nonnegative=False):
        offset = tables.add(("exponential",), exponential_table)
        return (QTABLE, 0.0, self.mean, float(offset), 0.0, 0.0)


@dataclass(frozen=True)
class Discrete(Distribution):
    """Finitely many ``values`` with relative ``weights`` (normalised to sum 1).

    ``ppf(u)`` is the smallest value whose cumulative probability exceeds ``u``,
    values taken in ascending order.
    """

    values: tuple
    weights: tuple
    kind: ClassVar[str] = "discrete"

    def __post_init__(self):
        try:
            vals = [float(v) for v in self.values]
            wts = [float(w) for w in self.weights]
        except (TypeError, ValueError):
            raise ModelError(
                f"discrete needs lists of numbers for values and weights, got "
                f"{self.values!r}, {self.weights!r}") from None
        if not vals or len(vals) != len(wts):
            raise ModelError(
                f"discrete needs as many weights as values (at least one), got "
                f"{len(vals)} values and {len(wts)} weights")
        if not all(math.isfinite(v) for v in vals + wts) or min(wts) < 0 or sum(wts) <= 0:
            raise ModelError(
                f"discrete needs finite values and non-negative weights with a positive sum, "
                f"got values {vals}, weights {wts}")
        order = sorted(range(len(vals)), key=lambda i: vals[i])
        total = sum(wts)
        object.__setattr__(self, "values", tuple(vals[i] for i in order))
        object.__setattr__(self, "weights", tuple(wts[i] / total for i in order))

    @property
    def _cum(self):
        cum = np.cumsum(self.weights)
        cum[-1] = 1.0
        return cum

    mean = property(lambda self: float(np.dot(self.values, self.weights)))
    support = property(lambda self: (self.values[0], self.values[-1]))

    @property
    def std(self):
        v = np.asarray(self.values)
        return float(np.sqrt(max(np.dot(self.weights, (v - self.mean) ** 2), 0.0)))

    @property
    def mode(self):
        return self.values[int(np.argmax(self.weights))]

    def describe(self):
        return f"discrete(values={list(self.values)}, weights={[round(w, 6) for w in self.weights]})"

    def ppf(self, u):
        idx = np.searchsorted(self._cum, np.asarray(u, dtype=float), side="right")
        return np.asarray(self.values)[np.minimum(idx, len(self.values) - 1)]

    def cdf(self, x):
        idx = np.searchsorted(self.values, np.asarray(x, dtype=float), side="right")
        return np.concatenate([[0.0], self._cum])[idx]

    def kernel_params(self, tables, nonnegative=False):
        if len(self.values) == 1:
            return (FIXED, self.values[0], 0.0, 0.0, 0.0, 0.0)
        offset = tables.add(("discrete", self.values, self.weights),
                            lambda: np.concatenate([self._cum, self.values]))
        return (DISCRETE, float(offset), float(len(self.values)), 0.0, 0.0, 0.0)


def as_distribution(value, what: str = "value") -> Distribution:
    """Return ``value`` as a :class:`Distribution` (a plain number becomes :class:`Fixed`)."""
    if isinstance(value, Distribution):
        return value
    if isinstance(value, bool) or value is None:
        raise ModelError(f"{what}: expected a number or a distribution, got {value!r}")
    try:
        return Fixed(value)
    except ModelError as exc:
        if "within" in str(exc) or "too large" in str(exc):
            raise ModelError(f"{what}: {str(exc).removeprefix('fixed: value ')}") from None
        raise ModelError(f"{what}: expected a finite number or a distribution, got {value!r}") from None


def nonnegative_mean(dist: Distribution) -> float:
    """Mean of ``dist`` as used for a duration or cost (normals truncated at zero)."""
    return dist.nonnegative_mean() if isinstance(dist, Normal) else dist.mean


def nonnegative_ppf(dist: Distribution, u):
    """Inverse CDF of ``dist`` as used for a duration or cost (normals truncated at zero)."""
    return dist.nonnegative_ppf(u) if isinstance(dist, Normal) else dist.ppf(u)


def kernel_ppf(dist: Distribution, u, nonnegative: bool = False) -> np.ndarray:
    """What the kernels sample for uniforms ``u``, computed in numpy.

    Equal to ``dist.ppf(u)`` (``nonnegative_ppf`` with ``nonnegative=True``) up
    to the documented table accuracy; the kernels reproduce it bit for bit
    except for the last few ulps of the floating-point evaluation order.
    """
    store = TableStore()
    code, p0, p1, p2, p3, p4 = as_distribution(dist).kernel_params(store, nonnegative=nonnegative)
    tables = store.array()
    u = np.asarray(u, dtype=float)
    if code == FIXED:
        return np.full(u.shape, p0)
    if code == UNIFORM:
        return p0 + p1 * u
    if code == TRIANGULAR:
        return _triangular_ppf(u, p0, p1, p2)
    if code == DISCRETE:
        n = int(p1)
        cum = tables[int(p0):int(p0) + n]
        idx = np.minimum(np.searchsorted(cum, u, side="right"), n - 1)
        return tables[int(p0) + n + idx]
    table = tables[int(p2):int(p2) + QT_SIZE]
    x = p0 + p1 * quantile_table_eval(table, p3 + u * (1.0 - p3)).reshape(u.shape)
    return np.maximum(x, 0.0) if p4 > 0 else x


__all__ = [
    "Distribution", "Fixed", "Uniform", "Triangular", "Pert", "Trigen", "Normal",
    "LogNormal", "Exponential", "Discrete", "as_distribution",
    "nonnegative_mean", "nonnegative_ppf", "kernel_ppf",
]
