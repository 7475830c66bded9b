"""Immutable, validated probability distributions for durations, lags and costs.

Every distribution is sampled by inversion: ``x = ppf(u)`` with one uniform
``u`` in (0, 1). That is what lets pmosim key every draw to (seed, iteration,
variable), and later plug Latin hypercube draws or copulas in without touching
the distributions. Each class gives

- ``mean``, ``std`` and ``mode`` (``None`` where the mode is not defined);
- ``support``: the (low, high) range, infinite where unbounded;
- ``ppf(u)`` and ``cdf(x)``: exact, vectorised numpy/scipy reference versions;
- ``kernel_code`` and ``kernel_params(tables)``: how the compiled kernels sample it.

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

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from scipy import special

from .errors import ModelError

# Kernel distribution codes; the kernels in pmosim.kernels.sampling switch on them.
FIXED, UNIFORM, TRIANGULAR, BETA_TABLE, NORMAL, LOGNORMAL, EXPONENTIAL, DISCRETE = range(8)

#: Cells of the tabulated Beta inverse CDF used by the kernels for PERT.
BETA_TABLE_CELLS = 2048


def _finite(name, value, what):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ModelError(f"{what}: {name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ModelError(f"{what}: {name} must be finite, got {value!r}")
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

    def kernel_params(self, tables: list, nonnegative: bool = False) -> tuple:
        """Return ``(code, p0, p1, p2, p3)`` for the kernels.

        ``tables`` is a list of float64 arrays that the compiler concatenates;
        table-based distributions append theirs and store its offset, which is
        the total length of the tables already in the list.
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
        vals = ", ".join(
            f"{getattr(self, f):g}" if isinstance(getattr(self, f), (int, float))
            else str(getattr(self, f)) for f in self.__dataclass_fields__
        )
        return f"{self.kind}({vals})"

    def __str__(self):
        return self.describe()


def _offset(tables):
    return float(sum(len(t) for t in tables))


@dataclass(frozen=True)
class Fixed(Distribution):
    """A constant: ``Fixed(5)`` is always 5."""

    value: float
    kernel_code: ClassVar[int] = FIXED
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
        return (FIXED, self.value, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Uniform(Distribution):
    """Continuous uniform on [low, high]."""

    low: float
    high: float
    kernel_code: ClassVar[int] = UNIFORM
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
        return (UNIFORM, self.low, self.high - self.low, 0.0, 0.0)


def _check_three_point(kind, low, mode, high):
    lo = _finite("low", low, kind)
    mo = _finite("mode", mode, kind)
    hi = _finite("high", high, kind)
    if not lo <= mo <= hi:
        raise ModelError(f"{kind} needs low <= mode <= high, got {lo:g}, {mo:g}, {hi:g}")
    return lo, mo, hi


def _triangular_ppf(u, a, c, b):
    u = np.asarray(u, dtype=float)
    if b == a:
        return np.full(u.shape, a)
    fc = (c - a) / (b - a)
    left = a + np.sqrt(u * (b - a) * (c - a))
    right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
    return np.where(u < fc, left, right)


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
    kernel_code: ClassVar[int] = TRIANGULAR
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
        return (FIXED, a, 0.0, 0.0, 0.0)
    return (TRIANGULAR, a, c, b, (c - a) / (b - a))


@dataclass(frozen=True)
class Pert(Distribution):
    """(Modified) PERT: a Beta on [low, high] with the given mode.

    Shape parameters are ``alpha = 1 + lamb * (mode - low) / (high - low)`` and
    ``beta = 1 + lamb * (high - mode) / (high - low)``; ``lamb = 4`` is classic PERT,
    so the mean is ``(low + lamb * mode + high) / (lamb + 2)``.

    The kernels sample it from a table of the exact inverse CDF at
    ``BETA_TABLE_CELLS + 1`` knots, interpolated by cubic Hermite polynomials with
    the exact slopes, and by the power-law tail ``F(x) ~ x**alpha`` in the first and
    last cells; the absolute error against scipy's exact ``betaincinv`` is below
    1e-9 of ``high - low`` (tested).
    """

    low: float
    mode: float
    high: float
    lamb: float = 4.0
    kernel_code: ClassVar[int] = BETA_TABLE
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
            return (FIXED, self.low, 0.0, 0.0, 0.0)
        offset = _offset(tables)
        tables.append(beta_ppf_table(self.alpha, self.beta))
        return (BETA_TABLE, self.low, self.high - self.low, offset, 0.0)


def beta_ppf_table(alpha: float, beta: float, cells: int = BETA_TABLE_CELLS) -> np.ndarray:
    """Tabulate the Beta(alpha, beta) inverse CDF for the kernels.

    Layout (float64): ``[cells, 1/alpha, 1/beta, x_0..x_cells, s_0..s_cells]``
    where ``x_k = ppf(k / cells)`` and ``s_k = dx/du = 1 / pdf(x_k)`` times the cell
    width (slopes at the end knots are unused: those cells use the power-law tail).
    """
    u = np.arange(cells + 1) / cells
    x = special.betaincinv(alpha, beta, u)
    x[0], x[-1] = 0.0, 1.0
    with np.errstate(divide="ignore"):
        logpdf = ((alpha - 1) * np.log(x) + (beta - 1) * np.log1p(-x)
                  - special.betaln(alpha, beta))
        slope = np.exp(-logpdf) / cells
    slope[0] = slope[-1] = 0.0
    return np.concatenate([[float(cells), 1.0 / alpha, 1.0 / beta], x, slope])


def beta_table_ppf(table: np.ndarray, u) -> np.ndarray:
    """Evaluate a :func:`beta_ppf_table` at ``u`` in numpy, exactly as the kernel does."""
    u = np.asarray(u, dtype=float)
    cells = int(table[0])
    inv_a, inv_b = table[1], table[2]
    xs = table[3:3 + cells + 1]
    ss = table[3 + cells + 1:]
    t = u * cells
    k = np.minimum(t.astype(np.int64), cells - 1)
    f = t - k
    x0, x1 = xs[k], xs[k + 1]
    s0, s1 = ss[k], ss[k + 1]
    f2 = f * f
    f3 = f2 * f
    out = ((2 * f3 - 3 * f2 + 1) * x0 + (f3 - 2 * f2 + f) * s0
           + (-2 * f3 + 3 * f2) * x1 + (f3 - f2) * s1)
    with np.errstate(divide="ignore", invalid="ignore"):
        head = xs[1] * np.power(np.maximum(t, 0.0), inv_a)
        tail = 1.0 - (1.0 - xs[cells - 1]) * np.power(np.maximum(cells - t, 0.0), inv_b)
    out = np.where(k == 0, head, np.where(k == cells - 1, tail, out))
    return np.clip(out, 0.0, 1.0)


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
    kernel_code: ClassVar[int] = TRIANGULAR
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
    kernel_code: ClassVar[int] = NORMAL
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
        return self.mean + self.sd * special.ndtri(np.asarray(u, dtype=float))

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
            return (FIXED, max(self.mean, 0.0) if nonnegative else self.mean, 0.0, 0.0, 0.0)
        u0 = self._mass_below_zero() if nonnegative else 0.0
        return (NORMAL, self.mean, self.sd, u0, 1.0 if nonnegative else 0.0)


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Log-normal given by the arithmetic ``mean`` and ``sd`` of the variable itself."""

    mean: float
    sd: float
    kernel_code: ClassVar[int] = LOGNORMAL
    kind: ClassVar[str] = "lognormal"

    def __post_init__(self):
        m = _finite("mean", self.mean, "lognormal")
        s = _finite("sd", self.sd, "lognormal")
        if m <= 0 or s < 0:
            raise ModelError(f"lognormal needs mean > 0 and sd >= 0, got {m:g}, {s:g}")
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
            return (FIXED, self.mean, 0.0, 0.0, 0.0)
        return (LOGNORMAL, self.mu, self.sigma, 0.0, 0.0)


@dataclass(frozen=True)
class Exponential(Distribution):
    """Exponential with the given mean (rate 1/mean), support [0, inf)."""

    mean: float
    kernel_code: ClassVar[int] = EXPONENTIAL
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
        return -self.mean * np.log1p(-np.asarray(u, dtype=float))

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        return np.where(x > 0, -np.expm1(-np.maximum(x, 0) / self.mean), 0.0)

    def kernel_params(self, tables, nonnegative=False):
        return (EXPONENTIAL, self.mean, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Discrete(Distribution):
    """Finitely many ``values`` with relative ``weights`` (normalised to sum 1).

    ``ppf(u)`` is the smallest value whose cumulative probability exceeds ``u``,
    values taken in ascending order.
    """

    values: tuple
    weights: tuple
    kernel_code: ClassVar[int] = DISCRETE
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
            return (FIXED, self.values[0], 0.0, 0.0, 0.0)
        offset = _offset(tables)
        tables.append(np.concatenate([self._cum, self.values]))
        return (DISCRETE, offset, float(len(self.values)), 0.0, 0.0)


def as_distribution(value, what: str = "value") -> Distribution:
    """Return ``value`` as a :class:`Distribution` (a plain number becomes :class:`Fixed`)."""
    if isinstance(value, Distribution):
        return value
    if isinstance(value, bool) or value is None:
        raise ModelError(f"{what}: expected a number or a distribution, got {value!r}")
    try:
        return Fixed(value)
    except ModelError:
        raise ModelError(f"{what}: expected a finite number or a distribution, got {value!r}") from None


def nonnegative_mean(dist: Distribution) -> float:
    """Mean of ``dist`` as used for a duration or cost (normals truncated at zero)."""
    return dist.nonnegative_mean() if isinstance(dist, Normal) else dist.mean


def nonnegative_ppf(dist: Distribution, u):
    """Inverse CDF of ``dist`` as used for a duration or cost (normals truncated at zero)."""
    return dist.nonnegative_ppf(u) if isinstance(dist, Normal) else dist.ppf(u)


__all__ = [
    "Distribution", "Fixed", "Uniform", "Triangular", "Pert", "Trigen", "Normal",
    "LogNormal", "Exponential", "Discrete", "as_distribution",
    "nonnegative_mean", "nonnegative_ppf",
]
