"""Property tests of the distributions, scipy.stats style, plus the kernels' sampling.

Tolerances come from theory: a sample mean is within k * sigma / sqrt(n) of the
mean, a sample std within k times its delta-method standard error, an empirical
CDF within the Dvoretzky-Kiefer-Wolfowitz bound of the true one.
"""

import dataclasses
import math

import numpy as np
import pytest
import scipy.stats as ss
from numpy.testing import assert_allclose, assert_array_equal

from pmosim import distributions as D
from pmosim.distributions import (
    Discrete, Exponential, Fixed, LogNormal, Normal, Pert, Triangular, Trigen, Uniform,
    as_distribution, nonnegative_mean, nonnegative_ppf,
)
from pmosim.errors import ModelError

K = 5.0            # sigmas: a false alarm about once in 1.7 million
N = 200_000
U_GRID = np.linspace(0.0, 1.0, 2001)
U_OPEN = U_GRID[1:-1]

CONTINUOUS = [
    Uniform(2, 7), Uniform(0, 1),
    Triangular(1, 3, 10), Triangular(0, 0, 5), Triangular(0, 5, 5), Triangular(-2, 1, 3),
    Pert(10, 15, 30), Pert(0, 0, 10), Pert(0, 10, 10), Pert(2, 3, 9, lamb=2), Pert(1, 2, 3, lamb=8),
    Trigen(10, 15, 30), Trigen(10, 15, 30, 5, 95), Trigen(3, 4, 7, 20, 80), Trigen(2, 5, 8, 0, 100),
    Normal(10, 2), Normal(-1, 0.5),
    LogNormal(10, 3), LogNormal(1, 2),
    Exponential(4), Exponential(0.25),
]
DISCRETE = [
    Fixed(5), Fixed(0), Fixed(-1.5),
    Discrete([1, 2, 5], [0.2, 0.5, 0.3]), Discrete([5, 1, 2], [3, 2, 5]),
    Discrete([0, 10], [1, 0]), Discrete([7], [1]),
]
ALL = CONTINUOUS + DISCRETE


def ids(dists):
    return [d.describe() for d in dists]


def uniforms(seed=20261127, n=N):
    return np.random.default_rng(seed).random(n)


def assert_mean_std(x, mean, std):
    """Sample mean and std of x within K standard errors of the theoretical values."""
    n = len(x)
    se_mean = std / math.sqrt(n)
    assert abs(x.mean() - mean) <= K * se_mean + 1e-12 * max(1, abs(mean)), (x.mean(), mean)
    # delta method: se(s) = sqrt(Var((X - mu)^2) / n) / (2 sigma), from the sample's 4th moment
    if std > 0:
        se_std = np.sqrt(np.var((x - x.mean()) ** 2) / n) / (2 * std)
        assert abs(x.std() - std) <= K * se_std, (x.std(), std, se_std)
    else:
        assert x.std() == 0


def dkw_eps(n, alpha=1e-6):
    """P(sup |F_n - F| > eps) <= 2 exp(-2 n eps^2) = alpha (Dvoretzky-Kiefer-Wolfowitz-Massart)."""
    return math.sqrt(math.log(2 / alpha) / (2 * n))


# -- generic properties -------------------------------------------------------------------

@pytest.mark.parametrize("dist", ALL, ids=ids(ALL))
def test_ppf_ends_are_the_support(dist):
    lo, hi = dist.support
    assert lo <= hi
    assert_array_equal(dist.ppf(np.array([0.0, 1.0])), [lo, hi])


@pytest.mark.parametrize("dist", ALL, ids=ids(ALL))
def test_ppf_is_monotone_and_in_support(dist):
    x = dist.ppf(U_GRID)
    assert x.shape == U_GRID.shape
    assert np.all(np.diff(x) >= 0)
    lo, hi = dist.support
    assert np.all((x >= lo) & (x <= hi))


@pytest.mark.parametrize("dist", ALL, ids=ids(ALL))
def test_ppf_vectorised_and_scalar_agree(dist):
    u = np.array([[0.1, 0.5], [0.7, 0.99]])
    x = dist.ppf(u)
    assert x.shape == (2, 2)
    for idx in np.ndindex(u.shape):
        assert float(dist.ppf(u[idx])) == x[idx]


@pytest.mark.parametrize("dist", CONTINUOUS, ids=ids(CONTINUOUS))
def test_cdf_inverts_ppf(dist):
    assert_allclose(dist.cdf(dist.ppf(U_OPEN)), U_OPEN, rtol=0, atol=1e-10)
    lo, hi = dist.support
    if math.isfinite(lo):
        assert dist.cdf(lo - 1.0) == 0.0
    if math.isfinite(hi):
        assert dist.cdf(hi) == 1.0 and dist.cdf(hi + 1.0) == 1.0


@pytest.mark.parametrize("dist", ALL, ids=ids(ALL))
def test_cdf_is_monotone_in_0_1(dist):
    lo, hi = dist.support
    lo = lo if math.isfinite(lo) else float(dist.ppf(1e-9))
    hi = hi if math.isfinite(hi) else float(dist.ppf(1 - 1e-9))
    x = np.linspace(lo - 1, hi + 1, 5001)
    c = dist.cdf(x)
    assert np.all(np.diff(c) >= 0) and c.min() >= 0 and c.max() <= 1


@pytest.mark.parametrize("dist", ALL, ids=ids(ALL))
def test_sample_mean_and_std_match(dist):
    x = dist.ppf(uniforms())
    assert_mean_std(x, dist.mean, dist.std)


@pytest.mark.parametrize("dist", ALL, ids=ids(ALL))
def test_sample_ecdf_matches_cdf(dist):
    x = np.sort(dist.ppf(uniforms(seed=7)))
    grid = np.unique(np.quantile(x, np.linspace(0, 1, 201)))
    ecdf = np.searchsorted(x, grid, side="right") / len(x)
    assert np.max(np.abs(ecdf - dist.cdf(grid))) <= dkw_eps(len(x))


@pytest.mark.parametrize("dist", ALL, ids=ids(ALL))
def test_immutable_hashable_and_described(dist):
    field = dataclasses.fields(dist)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(dist, field, 1.0)
    assert hash(dist) == hash(dataclasses.replace(dist))
    assert dist == dataclasses.replace(dist)
    assert isinstance(dist.describe(), str) and dist.kind in dist.describe()
    assert str(dist) == dist.describe()


@pytest.mark.parametrize("dist, text", [
    (Triangular(20, 25, 60), "triangular(20, 25, 60)"),
    (Uniform(1, 2.5), "uniform(1, 2.5)"),
    (Fixed(-3), "fixed(-3)"),
    (Pert(10, 15, 30), "pert(10, 15, 30, 4)"),
    (Normal(5, 1), "normal(5, 1)"),
    (Trigen(10, 15, 30), "trigen(10, 15, 30, P10/P90)"),
])
def test_describe_is_the_short_human_form(dist, text):
    # the documented form (Distribution.describe): the parameters only, nothing else
    assert dist.describe() == text


# -- each family against scipy.stats --------------------------------------------------------

def scipy_equivalent(dist):
    if isinstance(dist, Uniform):
        return ss.uniform(loc=dist.low, scale=dist.high - dist.low)
    if isinstance(dist, (Triangular, Trigen)):
        a, b = (dist.low, dist.high) if isinstance(dist, Triangular) else dist.support
        return ss.triang(c=(dist.mode - a) / (b - a), loc=a, scale=b - a)
    if isinstance(dist, Pert):
        r = dist.high - dist.low
        alpha = 1 + dist.lamb * (dist.mode - dist.low) / r
        beta = 1 + dist.lamb * (dist.high - dist.mode) / r
        return ss.beta(alpha, beta, loc=dist.low, scale=r)
    if isinstance(dist, Normal):
        return ss.norm(loc=dist.mean, scale=dist.sd)
    if isinstance(dist, LogNormal):
        sigma2 = math.log1p((dist.sd / dist.mean) ** 2)
        return ss.lognorm(s=math.sqrt(sigma2), scale=dist.mean * math.exp(-0.5 * sigma2))
    if isinstance(dist, Exponential):
        return ss.expon(scale=dist.mean)
    raise AssertionError(dist)


@pytest.mark.parametrize("dist", CONTINUOUS, ids=ids(CONTINUOUS))
def test_matches_scipy(dist):
    ref = scipy_equivalent(dist)
    assert_allclose(dist.ppf(U_OPEN), ref.ppf(U_OPEN), rtol=1e-10, atol=1e-10)
    x = ref.ppf(np.linspace(0.001, 0.999, 999))
    assert_allclose(dist.cdf(x), ref.cdf(x), rtol=1e-10, atol=1e-12)
    assert dist.mean == pytest.approx(ref.mean(), rel=1e-12, abs=1e-12)
    assert dist.std == pytest.approx(ref.std(), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("low, mode, high", [(10, 15, 30), (0, 0, 10), (0, 10, 10), (2, 2.5, 3)])
def test_pert_mean_and_shape(low, mode, high):
    p = Pert(low, mode, high)
    assert p.mean == pytest.approx((low + 4 * mode + high) / 6, rel=1e-14)
    assert p.mode == mode
    ref = ss.beta(1 + 4 * (mode - low) / (high - low), 1 + 4 * (high - mode) / (high - low),
                  loc=low, scale=high - low)
    assert_allclose(p.ppf(U_GRID), ref.ppf(U_GRID), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("lamb", [0.5, 2, 4, 10])
def test_pert_lambda_mean(lamb):
    p = Pert(3, 5, 12, lamb=lamb)
    assert p.mean == pytest.approx((3 + lamb * 5 + 12) / (lamb + 2), rel=1e-14)


def test_pert_degenerate_is_constant():
    p = Pert(4, 4, 4)
    assert_array_equal(p.ppf(U_GRID), 4.0)
    assert p.mean == 4 and p.std == 0


@pytest.mark.parametrize("low, mode, high, lp, hp", [
    (10, 15, 30, 10, 90), (10, 15, 30, 5, 95), (3, 4, 7, 20, 80), (0, 0.5, 1, 1, 99),
    (10, 10, 20, 10, 90), (10, 20, 20, 10, 90), (5, 6, 7, 0, 90), (5, 6, 7, 10, 100),
])
def test_trigen_low_high_are_percentiles(low, mode, high, lp, hp):
    t = Trigen(low, mode, high, lp, hp)
    assert float(t.cdf(low)) == pytest.approx(lp / 100, abs=1e-12)
    assert float(t.cdf(high)) == pytest.approx(hp / 100, abs=1e-12)
    assert float(t.ppf(lp / 100)) == pytest.approx(low, abs=1e-9 * (high - low))
    assert float(t.ppf(hp / 100)) == pytest.approx(high, abs=1e-9 * (high - low))
    a, b = t.support
    assert a <= low <= mode <= high <= b
    tri = Triangular(a, mode, b)
    assert_allclose(t.ppf(U_GRID), tri.ppf(U_GRID), rtol=0, atol=0)
    assert t.mean == pytest.approx(tri.mean) and t.std == pytest.approx(tri.std)


def test_trigen_full_range_is_triangular():
    assert Trigen(2, 5, 8, 0, 100).support == (2, 8)


@pytest.mark.parametrize("mean, sd", [(10, 3), (1, 2), (100, 1), (5, 0)])
def test_lognormal_arithmetic_mean_and_sd(mean, sd):
    d = LogNormal(mean, sd)
    assert d.mean == mean and d.std == sd
    if sd > 0:
        ref = scipy_equivalent(d)
        assert ref.mean() == pytest.approx(mean, rel=1e-12)
        assert ref.std() == pytest.approx(sd, rel=1e-10)
        sigma2 = math.log1p((sd / mean) ** 2)
        assert d.mode == pytest.approx(math.exp(math.log(mean) - 1.5 * sigma2))
        x = d.ppf(uniforms(seed=mean))
        assert_mean_std(x, mean, sd)
    else:
        assert_allclose(d.ppf(U_OPEN), mean, rtol=1e-15)


def test_discrete_ppf_cdf_and_normalisation():
    d = Discrete([5, 1, 2], [3, 2, 5])
    assert d.values == (1, 2, 5)
    assert d.weights == pytest.approx((0.2, 0.5, 0.3))
    assert sum(d.weights) == pytest.approx(1.0, abs=1e-15)
    # smallest value whose cumulative probability exceeds u
    assert_array_equal(d.ppf([0.0, 0.1999, 0.2 + 1e-12, 0.69, 0.7 + 1e-12, 0.999, 1.0]),
                       [1, 1, 2, 2, 5, 5, 5])
    assert_allclose(d.cdf([0, 1, 1.5, 2, 4.9, 5, 6]), [0, 0.2, 0.2, 0.7, 0.7, 1, 1])
    assert d.mean == pytest.approx(0.2 * 1 + 0.5 * 2 + 0.3 * 5)
    assert d.mode == 2
    assert d.support == (1, 5)


def test_discrete_frequencies_binomial():
    d = Discrete([1, 2, 5], [0.2, 0.5, 0.3])
    x = d.ppf(uniforms(seed=11))
    for v, p in zip(d.values, d.weights):
        freq = np.mean(x == v)
        assert abs(freq - p) <= K * math.sqrt(p * (1 - p) / len(x))


def test_discrete_zero_weight_is_never_drawn_inside_0_1():
    d = Discrete([1, 2, 3], [0.5, 0, 0.5])
    assert 2.0 not in set(d.ppf(U_OPEN))


def test_fixed_is_constant():
    f = Fixed(3.5)
    assert_array_equal(f.ppf(U_GRID), 3.5)
    assert f.mean == f.mode == 3.5 and f.std == 0 and f.support == (3.5, 3.5)


def test_exponential_mode_and_memoryless_quantiles():
    e = Exponential(3)
    assert e.mode == 0 and e.std == 3
    assert float(e.ppf(1 - math.exp(-1))) == pytest.approx(3.0, rel=1e-12)


def test_as_distribution():
    assert as_distribution(4) == Fixed(4)
    assert as_distribution(2.5) == Fixed(2.5)
    t = Triangular(1, 2, 3)
    assert as_distribution(t) is t
    for bad in (None, True, "x", float("nan"), float("inf")):
        with pytest.raises(ModelError):
            as_distribution(bad)


# -- Normal as a duration: truncated at zero -------------------------------------------------

@pytest.mark.parametrize("mean, sd", [(1, 2), (0, 1), (3, 1), (10, 2), (5, 0)])
def test_normal_duration_is_truncated_at_zero(mean, sd):
    d = Normal(mean, sd)
    x = nonnegative_ppf(d, U_GRID)
    assert np.all(x >= 0)
    assert np.all(np.diff(x) >= 0)
    if sd == 0:
        assert_array_equal(x, mean)
        assert nonnegative_mean(d) == mean
        return
    ref = ss.truncnorm(a=-mean / sd, b=np.inf, loc=mean, scale=sd)
    assert nonnegative_mean(d) == pytest.approx(ref.mean(), rel=1e-10)
    assert d.nonnegative_mean() == nonnegative_mean(d)
    assert_allclose(x[1:-1], ref.ppf(U_OPEN), rtol=1e-8, atol=1e-10)
    assert x[0] == 0.0
    sample = nonnegative_ppf(d, uniforms(seed=int(10 * mean + sd)))
    assert_mean_std(sample, ref.mean(), ref.std())
    # no point mass at zero: conditioned on >= 0, not clipped
    assert np.mean(sample == 0.0) == 0.0


def test_nonnegative_helpers_leave_other_families_alone():
    for d in (Triangular(1, 2, 3), Exponential(2), LogNormal(2, 1), Pert(0, 1, 5)):
        assert nonnegative_mean(d) == d.mean
        assert_array_equal(nonnegative_ppf(d, U_GRID), d.ppf(U_GRID))


def test_normal_is_not_truncated_as_itself():
    d = Normal(1, 2)
    assert d.mean == 1 and float(d.ppf(0.5)) == 1.0
    assert float(d.ppf(0.01)) < 0


# -- the kernels' inverse-CDF tables ----------------------------------------------------------

# every uniform the kernels can draw lies in [2**-54, 1 - 2**-53]; cover both tails octave
# by octave down to those ends, and the middle densely
KERNEL_U = np.unique(np.concatenate([
    np.linspace(0, 1, 200_001)[1:-1],
    np.geomspace(2.0 ** -54, 0.125, 4000),
    1.0 - np.geomspace(2.0 ** -53, 0.125, 4000),
]))


@pytest.mark.parametrize("name, table, exact, std", [
    ("beta(3, 3)", lambda: D.beta_table(3.0, 3.0), ss.beta(3, 3), ss.beta(3, 3).std()),
    ("beta(1, 5)", lambda: D.beta_table(1.0, 5.0), ss.beta(1, 5), ss.beta(1, 5).std()),
    ("beta(5, 1)", lambda: D.beta_table(5.0, 1.0), ss.beta(5, 1), ss.beta(5, 1).std()),
    ("beta(1.4, 4.6)", lambda: D.beta_table(1.4, 4.6), ss.beta(1.4, 4.6), ss.beta(1.4, 4.6).std()),
    ("beta(2.6, 1.4)", lambda: D.beta_table(2.6, 1.4), ss.beta(2.6, 1.4), ss.beta(2.6, 1.4).std()),
    ("beta(1, 1)", lambda: D.beta_table(1.0, 1.0), ss.beta(1, 1), ss.beta(1, 1).std()),
    ("beta(1.2, 2.8)", lambda: D.beta_table(1.2, 2.8), ss.beta(1.2, 2.8), ss.beta(1.2, 2.8).std()),
    ("normal", D.normal_table, ss.norm(), 1.0),
    ("lognormal(0.3)", lambda: D.lognormal_table(0.3), ss.lognorm(0.3), ss.lognorm(0.3).std()),
    ("lognormal(1.2)", lambda: D.lognormal_table(1.2), ss.lognorm(1.2), ss.lognorm(1.2).std()),
    ("exponential", D.exponential_table, ss.expon(), 1.0),
])
def test_kernel_quantile_tables_within_1e9(name, table, exact, std):
    # documented: error below 1e-9 of max(std, |x|) over the whole range of the uniforms
    got = D.quantile_table_eval(table(), KERNEL_U)
    want = exact.ppf(KERNEL_U)
    err = np.abs(got - want) / np.maximum(std, np.abs(want))
    worst = int(np.argmax(err))
    assert err[worst] < 1e-9, (name, KERNEL_U[worst], got[worst], want[worst])
    assert np.all(np.diff(got) >= -1e-12 * np.maximum(std, np.abs(got[1:])))


@pytest.mark.parametrize("name, table", [
    ("beta(1.4, 4.6)", lambda: D.beta_table(1.4, 4.6)),
    ("normal", D.normal_table),
    ("lognormal(1.2)", lambda: D.lognormal_table(1.2)),
])
def test_kernel_quantile_sampler_is_the_table_bit_for_bit(name, table):
    # the kernel finds middle cells and tail octaves from float bits, branch-free;
    # numpy's quantile_table_eval (frexp, masks) is the reference, over every octave
    from pmosim.kernels.sampling import sample_many
    par = np.array([0.0, 1.0, 0.0, 0.0, 0.0])    # value = 0 + 1 * table(u)
    got = sample_many(D.QTABLE, par, table(), KERNEL_U)
    assert_array_equal(got, D.quantile_table_eval(table(), KERNEL_U))


# -- bad parameters ---------------------------------------------------------------------------

@pytest.mark.parametrize("make, words", [
    (lambda: Uniform(5, 1), ["uniform", "5", "1"]),
    (lambda: Triangular(20, 10, 60), ["triangular", "20, 10, 60"]),
    (lambda: Triangular(1, 5, 3), ["triangular", "1, 5, 3"]),
    (lambda: Pert(3, 1, 2), ["pert", "3, 1, 2"]),
    (lambda: Pert(1, 2, 3, lamb=0), ["pert", "lamb", "0"]),
    (lambda: Pert(1, 2, 3, lamb=-1), ["pert", "lamb", "-1"]),
    (lambda: Trigen(5, 4, 6), ["trigen", "5, 4, 6"]),
    (lambda: Trigen(1, 2, 3, 90, 10), ["trigen", "90", "10"]),
    (lambda: Trigen(1, 2, 3, -5, 90), ["trigen", "-5"]),
    (lambda: Trigen(1, 2, 3, 10, 150), ["trigen", "150"]),
    (lambda: Normal(1, -2), ["normal", "sd", "-2"]),
    (lambda: LogNormal(0, 1), ["lognormal", "mean", "0"]),
    (lambda: LogNormal(-3, 1), ["lognormal", "-3"]),
    (lambda: LogNormal(3, -1), ["lognormal", "-1"]),
    (lambda: Exponential(0), ["exponential", "0"]),
    (lambda: Exponential(-2), ["exponential", "-2"]),
    (lambda: Discrete([1, 2], [1]), ["discrete", "2 values", "1 weights"]),
    (lambda: Discrete([], []), ["discrete"]),
    (lambda: Discrete([1, 2], [1, -1]), ["discrete", "-1"]),
    (lambda: Discrete([1, 2], [0, 0]), ["discrete", "0"]),
    (lambda: Discrete([1, float("nan")], [1, 1]), ["discrete", "nan"]),
    (lambda: Discrete(["a", 2], [1, 1]), ["discrete", "'a'"]),
    (lambda: Fixed(float("nan")), ["fixed", "nan"]),
    (lambda: Fixed(float("inf")), ["fixed", "inf"]),
    (lambda: Fixed("ten"), ["fixed", "'ten'"]),
    (lambda: Uniform(0, float("inf")), ["uniform", "high", "inf"]),
    (lambda: Triangular(float("nan"), 1, 2), ["triangular", "low", "nan"]),
    (lambda: Normal(float("-inf"), 1), ["normal", "mean", "-inf"]),
])
def test_bad_parameters_raise_model_error_naming_values(make, words):
    with pytest.raises(ModelError) as info:
        make()
    assert isinstance(info.value, ValueError)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


# -- the kernels sample exactly these inverse CDFs ------------------------------------------

def kernel_uniforms(seed, n_iter, variable, stream):
    """The uniforms the engine uses for one variable, from the documented keying.

    Key: ``SeedSequence(seed).generate_state(2, uint64)`` (engine.resolve_seed); a task's
    duration variable is its index in the graph's node order (compile.py).
    """
    from pmosim.kernels import rng
    k0, k1 = np.random.SeedSequence(seed).generate_state(2, np.uint64)
    return rng.uniforms(np.arange(n_iter, dtype=np.int64), variable, stream, k0, k1)


DURATIONS = [d for d in ALL if d.support[0] >= 0 or (isinstance(d, Normal) and d.mean >= 0)]
DURATIONS += [Normal(1, 2), Normal(0.5, 3)]   # substantial truncation at zero


def _simulate_each_as_a_task(dists, n_iter, seed):
    import networkx as nx

    import pmosim
    g = nx.DiGraph()
    for j, d in enumerate(dists):
        g.add_node(f"t{j}", duration=d)
    return pmosim.simulate(g, n_iter, seed=seed, keep_samples=True)


def test_kernel_samples_nonnegative_ppf_of_its_uniforms():
    from pmosim.kernels.rng import STREAM_DURATION
    n_iter, seed = 20_000, 4242
    res = _simulate_each_as_a_task(DURATIONS, n_iter, seed)
    for j, d in enumerate(DURATIONS):
        u = kernel_uniforms(seed, n_iter, j, STREAM_DURATION)
        assert np.all((u > 0) & (u < 1))
        expected = nonnegative_ppf(d, u)
        got = res.durations[:, j]
        # kernels tabulate some inverse CDFs: documented bound 1e-9 of max(std, |x|)
        excess = np.abs(got - expected) - 1e-9 * np.maximum(d.std, np.abs(expected))
        assert excess.max() <= 0, (d.describe(), u[np.argmax(excess)], excess.max())


@pytest.mark.parametrize("dist", DURATIONS, ids=ids(DURATIONS))
def test_kernel_duration_samples_follow_the_distribution(dist):
    # independent of the keying: DKW bound on the ECDF of the engine's own samples
    x = np.sort(_simulate_each_as_a_task([dist], 20_000, seed=99).durations[:, 0])
    if isinstance(dist, Normal):
        m, s = dist.mean, dist.sd
        cdf = lambda v: ss.truncnorm(a=-m / s, b=np.inf, loc=m, scale=s).cdf(v)  # noqa: E731
        mean = nonnegative_mean(dist)
    else:
        cdf, mean = dist.cdf, dist.mean
    grid = np.unique(x[:: 97])
    ecdf = np.searchsorted(x, grid, side="right") / len(x)
    assert np.max(np.abs(ecdf - cdf(grid))) <= dkw_eps(len(x))
    assert np.all(x >= 0)
    if dist.std > 0:
        assert abs(x.mean() - mean) <= K * np.std(x) / math.sqrt(len(x))


def test_kernel_draws_are_independent_across_tasks_and_iterations():
    n = 40_000
    res = _simulate_each_as_a_task([Uniform(0, 1)] * 6, n, seed=5)
    x = res.durations
    corr = np.corrcoef(x.T)
    assert np.max(np.abs(corr - np.eye(6))) <= K / math.sqrt(n)
    lag1 = [np.corrcoef(x[:-1, j], x[1:, j])[0, 1] for j in range(6)]
    assert np.max(np.abs(lag1)) <= K / math.sqrt(n)
