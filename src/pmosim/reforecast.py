"""Re-forecasts that learn from a project's own performance.

:func:`reforecast` turns a status update into a Monte Carlo forecast of the finish and
the cost. ``method="plain"`` simulates the project from the status as planned
(:func:`pmosim.evm.apply_status`: actuals kept, remaining work on its planned
distributions). ``method="bayes"`` (the default) first learns from the work done how
this project performs against its plan and carries that into the remaining work.

The model
---------
Each task i with a planned duration d_i > 0 that has finished, or is in progress,
gives a ratio r_i = (actual or estimated total duration) / d_i. Its log is
measured against what the plan itself expected of that task,

    y_i = log r_i - m_i,        m_i = E[log(D_i / d_i)],

D_i the task's planned duration distribution (m_i = 0 for a fixed duration; about
-0.007 for DSLIB's symmetric 80/100/120 % triangle). So y_i = 0 is a task that ran
as planned *on average*, and the plan's own spread is not mistaken for a bias. The
y_i of a project are modelled as

    y_i = mu + eps_i,           eps_i ~ N(0, sigma^2 / w_i),

mu the project's **performance factor** on the log scale (the forecast multiplies
the remaining durations by exp(mu)) and sigma the scatter of single tasks around it.
A finished task has weight w_i = 1, a task in progress w_i = its fraction complete
(its total is an estimate, ``elapsed / percent_complete``, or ``elapsed +
remaining`` when the status gives a remaining duration). With ``weights="size"``
(the default) every weight is also multiplied by d_i / mean(d): a long task says
more about the project than a one-day one, whose ratio is often 2 or 0.5 from
rounding alone (``weights="equal"`` leaves them 1).

The prior is the plan: mu ~ N(0, sigma^2 / n0), i.e. centred on the planned
distributions' own expectation, with the weight of ``strength`` = n0 tasks, and
sigma^2 ~ InvGamma(nu0 / 2, nu0 s0^2 / 2): ``dof`` = nu0 prior observations of the
scatter, at ``scale`` = s0 (default: the planned distributions' own spread,
sqrt(mean_i Var[log(D_i / d_i)]), at least :data:`MIN_SCALE`). This is the conjugate
normal-inverse-gamma model, so the update is closed-form [1]_. With W = sum w_i and
ybar = sum w_i y_i / W::

    kappa_n = n0 + W
    mu_n    = W ybar / kappa_n
    a_n     = nu0 / 2 + n / 2                        (n: the number of tasks)
    b_n     = nu0 s0^2 / 2 + (sum w_i (y_i - ybar)^2 + n0 W ybar^2 / kappa_n) / 2

and mu has the Student-t posterior with 2 a_n degrees of freedom, location mu_n and
scale sqrt(b_n / (a_n kappa_n)). With ``variance="known"`` sigma = s0 is fixed
instead and mu ~ N(mu_n, s0^2 / kappa_n).

The remaining work need not perform exactly as the work done: ``drift`` = r lets
the factor of the remaining work be mu + delta, delta ~ N(0, r sigma^2), so its
scale is sqrt(b_n / a_n * (1 / kappa_n + r)); however many tasks have finished, the
factor then stays uncertain by at least sqrt(r) sigma.

Groups. With ``groups="wbs"`` (each task's parent WBS element, the code without its
last part) or a mapping / callable task -> group, the model is the linear one
y_i = mu + delta_g(i) + eps_i with delta_g ~ N(0, sigma^2 / n0_g)
(``group_strength`` = n0_g, default ``strength``): the groups borrow strength from
the project and from each other. It is the same conjugate model in matrix form
(beta = (mu, delta_1 .. delta_G), Lambda_n = Lambda_0 + X' W X, beta_n = Lambda_n^-1
X' W y, b_n = b_0 + (y' W y - beta_n' Lambda_n beta_n) / 2); each group's factor
exp(mu + delta_g) has a Student-t marginal. A group with no observation gets the
project's factor with the group's prior spread added. Each group's factor is its own
driver, so the forecast keeps each group's marginal but not the posterior correlation
between groups (through mu): with groups the spread of the finish is somewhat
understated.

The forecast
------------
:func:`pmosim.evm.apply_status` sets the actuals; then the factor multiplies, in
every iteration, the duration of every task not finished: a **risk driver**
(:meth:`pmosim.Project.add_driver`, probability 1, id :data:`DRIVER_ID`, one per
group with groups) whose factor distribution is the posterior of exp(mu), as 1,024
equally likely values at the midpoints of its quantiles (a log-normal with
``variance="known"``). One draw per iteration scales all the remaining tasks
together, which is what a project-wide performance factor is, and the uncertainty
about the factor widens the forecast; the draw is Philox-keyed like every other, so
a seed gives the same bits on any thread count. Each task keeps its planned spread
around the scaled value. Rate-based costs follow the scaled durations.
:func:`apply_learning` builds that project without simulating it (the command line's
``pmosim run --status-date DATE --learn``).

A task in progress (``in_progress``): by default (``"blend"``) its remaining duration
is its planned remaining duration d_i (1 - p_i), p_i its fraction complete, at the
ratio exp(m_i + mu + p_i (y_i - mu_n)) in the median: its own observed ratio weighs
p_i, the learned factor 1 - p_i (the driver's draw then varies mu). A remaining
duration extrapolated from a small percentage (DSLIB's, elapsed x (1 - p) / p) is
then not taken at face value. ``"plan"`` takes the planned remaining duration times
the factor; ``"status"`` the status's own remaining duration, not scaled (for a
status whose remaining durations are fresh estimates).

Costs learn a second factor the same way (``cost_strength``, ``cost_drift``, the
weights by planned cost with ``weights="size"``), on what the durations do not
explain:
y_i = log(actual cost / (fixed cost + cost rate x actual duration)), the planned
costs' typical values (modes), for tasks that report an actual cost (in progress:
the fixed cost earned so far by percent complete plus the rate over the elapsed
duration, weight = percent complete). The unfinished tasks' fixed costs and rates
are scaled by the posterior median exp(mu_n) before the status is applied, and the
uncertainty about the cost factor enters as a probability-1 risk event
(:data:`COST_RISK_ID`) whose cost impact is (G / exp(mu_n) - 1) times the expected
remaining cost, G drawn from the same 1,024-point posterior: linear in G, so the
spread it adds is exact to first order (the remaining cost's own randomness is not
multiplied by it).

Observations are ratios clipped to [1/20, 20] (:data:`RATIO_LIMITS`): one task
booked at a hundredth of its plan is a booking error more often than a performance.

The defaults (:data:`STRENGTH` = 4, :data:`DRIFT` = 1.5, :data:`COST_STRENGTH` = 32,
:data:`COST_DRIFT` = 0, ``dof`` = 2) were chosen on one half of the DSLIB projects
(``benchmarks/dslib_replay.py --tune``: the strengths with the lowest mean absolute
percentage error, the drifts whose P80 was met in the share closest to 80 %);
docs/tracking.md and benchmarks/README.md give the results on the other half.

References
----------
.. [1] Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A., Rubin,
   D. B. (2013). Bayesian Data Analysis, 3rd ed., CRC Press: sections 3.3 (normal
   model with a conjugate prior) and 14.8 (conjugate regression, Student-t
   marginals).

Examples
--------
>>> import pmosim
>>> from pmosim.evm import StatusPeriod, TaskStatus
>>> from pmosim.reforecast import reforecast
>>> p = pmosim.Project("demo")
>>> for t in "abcd":
...     p.add_task(t, pmosim.Triangular(8, 10, 12))
>>> p.add_link("a", "b"); p.add_link("b", "c"); p.add_link("c", "d")
>>> late = StatusPeriod(30.0, {"a": TaskStatus(0.0, 14.0, 1.0),
...                            "b": TaskStatus(14.0, 29.0, 1.0)})
>>> rf = reforecast(p, late, iterations=2000, seed=1)
>>> round(rf.duration_factor.median, 2)   # two tasks at 1.4 and 1.5 x, a prior of 4
1.13
>>> plain = reforecast(p, late, method="plain", iterations=2000, seed=1)
>>> bool(rf.finish.percentile(80) > plain.finish.percentile(80) + 5)
True
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Hashable, Mapping

import numpy as np

from .distributions import Discrete, Distribution, Fixed, LogNormal, nonnegative_mean, \
    nonnegative_ppf
from .errors import ModelError
from .model import Project, as_project, planned_duration, task_costs, task_duration

#: ``method`` values: learn from the actuals, or simulate from the status as planned.
METHODS = ("bayes", "plain")
#: Id of the risk driver that carries the duration factor (``":<group>"`` appended per
#: group).
DRIVER_ID = "reforecast:duration"
#: Id of the risk event that carries the cost factor's uncertainty.
COST_RISK_ID = "reforecast:cost"
#: Default prior strength n0 (tasks' worth), chosen on the training half of the DSLIB
#: replay (benchmarks/dslib_replay.py).
STRENGTH = 4.0
#: Default prior degrees of freedom nu0 of the task scatter sigma^2.
DOF = 2.0
#: Default drift r (variance of the remaining work's factor around the learned one, in
#: units of sigma^2), chosen with ``STRENGTH``.
DRIFT = 1.5
#: Default prior strength and drift of the cost factor, chosen on the same training half.
COST_STRENGTH = 32.0
COST_DRIFT = 0.0
#: Smallest default prior scale s0 (sd of log ratios): a plan with fixed durations
#: would otherwise claim that tasks never deviate from it.
MIN_SCALE = 0.1
#: Ratios (actual / planned duration or cost) are clipped to this range.
RATIO_LIMITS = (0.05, 20.0)
#: Values of the factor distributions the drivers sample.
FACTOR_POINTS = 1024
VARIANCES = ("unknown", "known")
#: ``in_progress`` values of :func:`reforecast`.
IN_PROGRESS = ("blend", "plan", "status")
WEIGHTS = ("size", "equal")
_QUAD = (np.arange(256) + 0.5) / 256


@dataclass(frozen=True)
class FactorPosterior:
    """The learned performance factor F = exp(mu) of one quantity (and group).

    Attributes
    ----------
    quantity : {"duration", "cost"}
    group : hashable or None
        None for the whole project.
    n : int
        Tasks observed (in the group; with groups, the project entry counts all).
    weight : float
        Their total weight W.
    location, scale, dof : float
        log F of the remaining work is ``location + scale * T``, T a Student-t with
        ``dof`` degrees of freedom (``inf``: normal). The drift is in ``scale``.
    sigma : float
        Point estimate of the scatter of single tasks' log ratios: sqrt(b_n / a_n)
        (s0 with ``variance="known"``).
    prior_scale : float
        s0.
    mean_ratio : float
        The weighted mean of the observed ratios exp(y_i) (NaN without observations).
    """

    quantity: str
    group: Hashable | None
    n: int
    weight: float
    location: float
    scale: float
    dof: float
    sigma: float
    prior_scale: float
    mean_ratio: float

    @property
    def median(self) -> float:
        """Median of the factor, exp(location)."""
        return math.exp(self.location)

    def ppf(self, u) -> np.ndarray:
        """Quantiles of the factor at ``u`` in (0, 1)."""
        u = np.asarray(u, dtype=float)
        if self.scale == 0:
            return np.full(u.shape, self.median)
        from scipy import stats as st
        z = st.norm.ppf(u) if math.isinf(self.dof) else st.t.ppf(u, self.dof)
        return np.exp(self.location + self.scale * z)

    def interval(self, level: float = 0.8) -> tuple[float, float]:
        """The central ``level`` interval of the factor."""
        lo, hi = self.ppf([(1 - level) / 2, (1 + level) / 2])
        return float(lo), float(hi)

    def distribution(self, points: int = FACTOR_POINTS) -> Distribution:
        """The factor as a distribution a driver samples: log-normal when the posterior is
        normal, else ``points`` equally likely quantile midpoints."""
        if self.scale == 0:
            return Fixed(self.median)
        if math.isinf(self.dof):
            m = math.exp(self.location + 0.5 * self.scale ** 2)
            return LogNormal(m, m * math.sqrt(math.expm1(self.scale ** 2)))
        values = self.ppf((np.arange(points) + 0.5) / points)
        return Discrete(values.tolist(), [1.0] * points)

    def to_dict(self) -> dict:
        lo, hi = self.interval(0.8)
        return {"quantity": self.quantity,
                "group": None if self.group is None else str(self.group),
                "n": self.n, "weight": self.weight, "median": self.median, "P10": lo,
                "P90": hi, "location": self.location, "scale": self.scale,
                "dof": None if math.isinf(self.dof) else self.dof, "sigma": self.sigma,
                "prior_scale": self.prior_scale,
                "mean_ratio": None if math.isnan(self.mean_ratio) else self.mean_ratio}


@dataclass(frozen=True, eq=False)
class Observations:
    """What the status says about each task's performance (one row per task observed).

    ``task_ids``, ``kind`` ("complete" / "in progress"), ``planned`` (planned duration or
    expected cost), ``ratio`` (actual or estimated / planned, clipped), ``implied``
    (m_i), ``weight`` (w_i before the ``"duration"`` weighting), ``group``.
    """

    quantity: str
    task_ids: list
    kind: list
    planned: np.ndarray
    ratio: np.ndarray
    implied: np.ndarray
    weight: np.ndarray
    group: list

    @property
    def y(self) -> np.ndarray:
        """log ratio - m_i."""
        return np.log(self.ratio) - self.implied

    def __len__(self) -> int:
        return len(self.task_ids)


@dataclass(frozen=True, eq=False)
class Learned:
    """The posterior factors of one status: ``duration`` (project), ``duration_groups``
    (group -> FactorPosterior, empty without groups), ``cost`` (None without costs
    observed or planned), the observations and the settings used."""

    duration: FactorPosterior
    duration_groups: Mapping[Hashable, FactorPosterior]
    cost: FactorPosterior | None
    duration_obs: Observations
    cost_obs: Observations | None
    settings: Mapping[str, Any]

    def to_dict(self) -> dict:
        def counts(obs):
            return None if obs is None else {
                "complete": sum(k == "complete" for k in obs.kind),
                "in_progress": sum(k == "in progress" for k in obs.kind)}

        return {"duration": self.duration.to_dict(),
                "duration_groups": [g.to_dict() for g in self.duration_groups.values()],
                "cost": self.cost.to_dict() if self.cost is not None else None,
                "observed": {"duration": counts(self.duration_obs),
                             "cost": counts(self.cost_obs)},
                "settings": {k: (v if isinstance(v, (int, float, str, bool)) or v is None
                                 else str(v)) for k, v in self.settings.items()}}


@dataclass(frozen=True, eq=False)
class ReforecastResult:
    """What :func:`reforecast` returns.

    Attributes
    ----------
    method : str
    period : str
        The status period used (its name).
    result : pmosim.SimulationResult
        The Monte Carlo forecast (``finish``, ``cost``, ``jcl`` ...).
    learned : Learned or None
        The posterior factors (None for ``method="plain"``).
    project : pmosim.Project
        The project simulated: the status applied, the factors added.
    """

    method: str
    period: str
    result: Any = field(repr=False)
    learned: Learned | None = field(repr=False)
    project: Any = field(repr=False)

    @property
    def finish(self):
        return self.result.finish

    @property
    def cost(self):
        return self.result.cost

    def jcl(self, finish, cost: float) -> float:
        return self.result.jcl(finish, cost)

    @property
    def duration_factor(self) -> FactorPosterior | None:
        return self.learned.duration if self.learned is not None else None

    @property
    def cost_factor(self) -> FactorPosterior | None:
        return self.learned.cost if self.learned is not None else None

    def to_dict(self) -> dict:
        """The posterior summary and the forecast's finish and cost (JSON-ready)."""
        out = {"method": self.method, "period": self.period,
               "learned": self.learned.to_dict() if self.learned is not None else None,
               "finish": self.result.finish.to_dict()}
        if self.result.cost is not None:
            out["cost"] = self.result.cost.to_dict()
        return out

    def __repr__(self) -> str:
        f = self.result.finish
        factor = ""
        if self.learned is not None:
            d = self.learned.duration
            lo, hi = d.interval(0.8)
            factor = f", duration factor {d.median:.3f} (P10 {lo:.3f}, P90 {hi:.3f})"
        return (f"ReforecastResult({self.method}, status {self.period!r}: finish P50 "
                f"{float(f.percentile(50)):,.2f}, P80 {float(f.percentile(80)):,.2f}{factor})")


# -- the conjugate update --------------------------------------------------------------
def nig_update(y, w, X, prior_precision, a0: float, b0: float):
    """Conjugate normal-inverse-gamma update of ``y = X beta + eps``, eps_i ~ N(0,
    sigma^2 / w_i), prior beta | sigma^2 ~ N(0, sigma^2 prior_precision^-1), sigma^2 ~
    InvGamma(a0, b0).

    Parameters
    ----------
    y, w : float64[n]
    X : float64[n, k]
    prior_precision : float64[k, k]
    a0, b0 : float

    Returns
    -------
    beta_n : float64[k]
    precision_n : float64[k, k]
        Lambda_n; beta | sigma^2, y ~ N(beta_n, sigma^2 Lambda_n^-1).
    a_n, b_n : float
    """
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    lam0 = np.asarray(prior_precision, dtype=float)
    xtw = X.T * w
    lam_n = lam0 + xtw @ X
    beta_n = np.linalg.solve(lam_n, xtw @ y)
    a_n = a0 + 0.5 * len(y)
    b_n = b0 + 0.5 * max(float(np.dot(w * y, y) - beta_n @ lam_n @ beta_n), 0.0)
    return beta_n, lam_n, a_n, b_n


# -- observations ---------------------------------------------------------------------
def _implied(dist: Distribution, planned: float) -> tuple[float, float]:
    """Mean and variance of log(D / planned) under the planned distribution (midpoint
    quadrature on 256 quantiles; zero durations count as 1/20 of the plan)."""
    x = np.asarray(nonnegative_ppf(dist, _QUAD), dtype=float)
    z = np.log(np.maximum(x / planned, RATIO_LIMITS[0]))
    return float(np.mean(z)), float(np.var(z))


def _group_of(groups, task_id, data):
    if groups is None:
        return None
    if groups == "wbs":
        code = data.get("wbs")
        if code is None:
            return None
        parts = str(code).split(".")
        return ".".join(parts[:-1]) if len(parts) > 1 else None
    if callable(groups):
        return groups(task_id, data)
    return groups.get(task_id)


def _status_duration(period, task_id):
    """The status's own elapsed working days of a task when it reports them (DSLIB's
    ``actual_duration``), else None."""
    status = period.activities.get(task_id)
    value = getattr(status, "actual_duration", None)
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value >= 0 else None


def observations(project, period, *, groups=None) -> tuple[Observations, Observations | None]:
    """The duration and cost observations of ``period`` (see the module doc).

    A task's elapsed time is the status's own ``actual_duration`` where it gives one
    (DSLIB's tracking periods), else the working time of the project's calendar from
    its actual start to its actual finish (to the status date in progress).

    Returns
    -------
    (Observations, Observations or None)
        Durations; costs (None when no task reports an actual cost against a planned
        cost).
    """
    from .evm import resolve_periods

    project = as_project(project)
    r, = resolve_periods(project, [period], strict=False)
    lo, hi = RATIO_LIMITS
    dur = {k: [] for k in ("task_ids", "kind", "planned", "ratio", "implied", "weight", "group")}
    cost = {k: [] for k in dur}
    for i, (task_id, data) in enumerate(project.graph.nodes(data=True)):
        if data.get("kind") == "connector" or not (r.started[i] or r.complete[i]):
            continue
        planned = planned_duration(task_id, data)
        reported = _status_duration(period, task_id)
        if r.complete[i]:
            kind, weight = "complete", 1.0
            elapsed = reported if reported is not None else (
                r.finish[i] - r.start[i] if np.isfinite(r.finish[i] - r.start[i]) else np.nan)
            total = elapsed
        else:
            kind, weight = "in progress", float(r.pc[i])
            elapsed = reported if reported is not None else (
                max(r.time - r.start[i], 0.0) if np.isfinite(r.start[i]) else np.nan)
            if np.isfinite(r.remaining[i]) and np.isfinite(elapsed):
                total = elapsed + r.remaining[i]
            elif r.pc[i] > 0 and np.isfinite(elapsed):
                total = elapsed / r.pc[i]
            else:
                total = np.nan
        group = _group_of(groups, task_id, data)
        if planned > 0 and weight > 0 and np.isfinite(total) and total > 0:
            m, _ = _implied(task_duration(task_id, data), planned)
            for key, value in zip(dur, (task_id, kind, planned,
                                        min(max(total / planned, lo), hi), m, weight, group)):
                dur[key].append(value)
        # cost: actual against the planned cost of the time actually taken
        if not np.isfinite(r.ac[i]) or not np.isfinite(elapsed):
            continue
        cf, cr = task_costs(task_id, data)
        fixed = _typical(cf) if cf is not None else 0.0
        rate = _typical(cr) if cr is not None else 0.0
        share = 1.0 if r.complete[i] else float(r.pc[i])
        expected = fixed * share + rate * elapsed
        if expected > 0 and share > 0 and r.ac[i] > 0:
            for key, value in zip(cost, (task_id, kind, expected,
                                         min(max(r.ac[i] / expected, lo), hi), 0.0, share,
                                         group)):
                cost[key].append(value)
    out = Observations("duration", dur["task_ids"], dur["kind"], np.array(dur["planned"], float),
                       np.array(dur["ratio"], float), np.array(dur["implied"], float),
                       np.array(dur["weight"], float), dur["group"])
    costs = None
    if cost["task_ids"]:
        costs = Observations("cost", cost["task_ids"], cost["kind"],
                             np.array(cost["planned"], float), np.array(cost["ratio"], float),
                             np.array(cost["implied"], float), np.array(cost["weight"], float),
                             cost["group"])
    return out, costs


def _typical(dist) -> float:
    return float(dist.mode if dist.mode is not None else dist.mean)


def _prior_scale(project, quantity: str) -> float:
    """sqrt(mean Var[log(X_i / x_i)]) over the tasks' planned durations (``quantity=
    "duration"``) or fixed costs and cost rates (``"cost"``), X_i the distribution and x_i
    its planned value; at least :data:`MIN_SCALE`."""
    variances = []
    for task_id, data in project.graph.nodes(data=True):
        if data.get("kind") == "connector":
            continue
        if quantity == "duration":
            pairs = [(task_duration(task_id, data), planned_duration(task_id, data))]
        else:
            pairs = [(d, _typical(d)) for d in task_costs(task_id, data) if d is not None]
        variances += [_implied(dist, x)[1] for dist, x in pairs if x > 0]
    s = math.sqrt(float(np.mean(variances))) if variances else 0.0
    return max(s, MIN_SCALE)


# -- the posterior ---------------------------------------------------------------------
def _posterior(obs: Observations, *, quantity, strength, group_strength, dof, scale, drift,
               variance, weights, use_groups) -> tuple[FactorPosterior, dict]:
    y = obs.y
    w = obs.weight.copy()
    if weights == "size" and len(w):
        w = w * obs.planned / float(np.mean(obs.planned))
    a0, b0 = 0.5 * dof, 0.5 * dof * scale ** 2
    names = []
    if use_groups:
        names = sorted({g for g in obs.group if g is not None}, key=str)
    col = {g: k + 1 for k, g in enumerate(names)}
    X = np.zeros((len(y), 1 + len(names)))
    X[:, 0] = 1.0
    for row, g in enumerate(obs.group if use_groups else ()):
        if g is not None:
            X[row, col[g]] = 1.0
    lam0 = np.diag([strength] + [group_strength] * len(names))
    beta, lam, a_n, b_n = nig_update(y, w, X, lam0, a0, b0)
    cov = np.linalg.inv(lam)
    if variance == "known":
        s2, nu = scale ** 2, math.inf
    else:
        s2, nu = b_n / a_n, 2.0 * a_n

    def make(h, group, rows):
        loc = float(h @ beta)
        sc = math.sqrt(s2 * (float(h @ cov @ h) + drift))
        sel = np.asarray(rows, bool)
        mr = (float(np.exp(np.average(np.log(obs.ratio[sel]), weights=w[sel])))
              if sel.any() else math.nan)
        return FactorPosterior(quantity, group, int(sel.sum()), float(w[sel].sum()), loc, sc,
                               nu, math.sqrt(s2), scale, mr)

    project = make(np.eye(1, X.shape[1], 0)[0], None, np.ones(len(y), bool))
    groups = {}
    for g in names:
        h = np.zeros(X.shape[1])
        h[0] = h[col[g]] = 1.0
        groups[g] = make(h, g, [x == g for x in obs.group])
    return project, groups


def _check(strength, group_strength, dof, scale, drift, variance, weights, cost_strength,
           cost_drift) -> None:
    """Raise a ModelError naming the first bad learning setting."""
    def number(value) -> bool:
        return (not isinstance(value, bool) and isinstance(value, (int, float, np.number))
                and math.isfinite(value))

    for name, value, meaning in (("strength", strength, "the prior's weight in tasks"),
                                 ("group_strength", group_strength,
                                  "the prior weight of a group's deviation, in tasks"),
                                 ("dof", dof, "the prior's degrees of freedom of the scatter"),
                                 ("cost_strength", cost_strength,
                                  "the cost prior's weight in tasks")):
        if not number(value) or value <= 0:
            raise ModelError(f"reforecast: {name} ({meaning}) must be a number > 0, got "
                             f"{value!r}")
    for name, value in (("drift", drift), ("cost_drift", cost_drift)):
        if not number(value) or value < 0:
            raise ModelError(f"reforecast: {name} (the remaining work's variance around the "
                             f"learned factor, in units of sigma^2) must be a number >= 0, got "
                             f"{value!r}")
    if scale is not None and (not number(scale) or scale <= 0):
        raise ModelError(f"reforecast: scale (the prior sd of log duration ratios) must be a "
                         f"number > 0, or None for the plan's own, got {scale!r}")
    if variance not in VARIANCES:
        raise ModelError(f"reforecast: variance must be one of {', '.join(VARIANCES)}, "
                         f"got {variance!r}")
    if weights not in WEIGHTS:
        raise ModelError(f"reforecast: weights must be one of {', '.join(WEIGHTS)}, "
                         f"got {weights!r}")


def learn(project, period, *, strength: float = STRENGTH, group_strength: float | None = None,
          dof: float = DOF, scale: float | None = None, drift: float = DRIFT,
          variance: str = "unknown", weights: str = "size", groups=None,
          cost: bool = True, cost_strength: float = COST_STRENGTH,
          cost_drift: float = COST_DRIFT) -> Learned:
    """The posterior performance factors of one status (see the module doc).

    Parameters
    ----------
    project : pmosim.Project
        The plan.
    period : StatusPeriod
        The status (any object with ``status_date`` and ``activities``).
    strength : float
        n0, the prior's weight in tasks (> 0).
    group_strength : float, optional
        n0_g of each group's deviation (default ``strength``).
    dof : float
        nu0, the prior's degrees of freedom for the scatter sigma (> 0).
    scale : float, optional
        s0, the prior guess of sigma (default: the planned distributions' spread, at
        least :data:`MIN_SCALE`).
    drift : float
        r >= 0: variance of the remaining work's factor around the learned one, in
        units of sigma^2.
    variance : {"unknown", "known"}
        Learn sigma (Student-t posterior) or take sigma = s0 (normal posterior).
    weights : {"equal", "duration"}
        Weight of each task: 1 (times percent complete in progress), or also its
        planned duration over the mean.
    groups : None, "wbs", mapping or callable
        Group factors (module doc); a callable gets ``(task_id, node_data)``.
    cost : bool
        Also learn the cost factor when tasks report actual costs.
    cost_strength, cost_drift : float
        n0 and r of the cost factor (its scatter's prior is ``dof`` observations at
        the planned costs' spread, at least :data:`MIN_SCALE`).

    Returns
    -------
    Learned
    """
    project = as_project(project)
    group_strength = strength if group_strength is None else group_strength
    _check(strength, group_strength, dof, scale, drift, variance, weights, cost_strength,
           cost_drift)
    if groups is not None and groups != "wbs" and not callable(groups) \
            and not isinstance(groups, Mapping):
        raise ModelError(f"reforecast: groups must be None, 'wbs', a mapping task -> group or "
                         f"a callable (task_id, data) -> group, got {groups!r}")
    s0 = scale if scale is not None else _prior_scale(project, "duration")
    dur_obs, cost_obs = observations(project, period, groups=groups)
    settings = dict(strength=strength, group_strength=group_strength, dof=dof, scale=s0,
                    drift=drift, variance=variance, weights=weights,
                    cost_strength=cost_strength, cost_drift=cost_drift,
                    groups=None if groups is None else (groups if isinstance(groups, str)
                                                        else "custom"))
    duration, by_group = _posterior(dur_obs, quantity="duration", strength=strength,
                                    group_strength=group_strength, dof=dof, scale=s0,
                                    drift=drift, variance=variance, weights=weights,
                                    use_groups=groups is not None)
    cost_post = None
    if cost and cost_obs is not None:
        cost_post, _ = _posterior(cost_obs, quantity="cost", strength=cost_strength,
                                  group_strength=cost_strength, dof=dof,
                                  scale=_prior_scale(project, "cost"), drift=cost_drift,
                                  variance=variance, weights=weights, use_groups=False)
    if not cost:
        cost_obs = None
    return Learned(duration, by_group, cost_post, dur_obs, cost_obs, settings)


# -- the forecast --------------------------------------------------------------------------
def reforecast(project, period_or_periods, *, method: str = "bayes", iterations: int = 10_000,
               seed=None, status_date=None, strength: float = STRENGTH,
               group_strength: float | None = None, dof: float = DOF,
               scale: float | None = None, drift: float = DRIFT, variance: str = "unknown",
               weights: str = "size", groups=None, cost: bool = True,
               cost_strength: float = COST_STRENGTH, cost_drift: float = COST_DRIFT,
               in_progress: str = "blend", **simulate_kwargs) -> ReforecastResult:
    """Monte Carlo forecast of finish and cost from a status update, learning from it.

    Parameters
    ----------
    project : pmosim.Project or networkx.DiGraph
        The plan.
    period_or_periods : StatusPeriod or iterable of them
        The status (DSLIB :class:`~pmosim.io.dslib.TrackingPeriod` objects work too).
        Of several, the latest is used (or the latest on or before ``status_date``): each
        status holds every actual to its date.
    method : {"bayes", "plain"}
        Learn the performance factors (module doc) or simulate the status as planned
        (exactly ``simulate(apply_status(project, period), ...)``).
    iterations, seed
        As :func:`pmosim.simulate`; the same seed gives the same bits.
    status_date : date, text or working days, optional
        Pick the period (see :func:`pmosim.evm.select_period`).
    strength, group_strength, dof, scale, drift, variance, weights, groups, cost, \
    cost_strength, cost_drift
        The learning settings (:func:`learn`); ignored with ``method="plain"``.
    in_progress : {"blend", "plan", "status"}
        The remaining duration of a task in progress, before the factor: ``"blend"``
        its planned remaining duration at a ratio that weighs its own observed ratio
        by its percent complete and the learned factor by the rest (module doc);
        ``"plan"`` its planned remaining duration; ``"status"`` the remaining duration
        the status gives, not scaled (the planned one, scaled, where it gives none).
    **simulate_kwargs
        Passed to :func:`pmosim.simulate` (``threads``, ``risks``, ``levelling``, ...).

    Returns
    -------
    ReforecastResult
        ``.result`` the :class:`~pmosim.SimulationResult`, ``.learned`` the posterior.

    Raises
    ------
    ModelError
        An unknown method or setting, a status that does not fit the project.
    """
    from .engine import simulate
    from .evm import apply_status, select_period

    if method not in METHODS:
        raise ModelError(f"reforecast: method must be one of {', '.join(METHODS)}, got "
                         f"{method!r}")
    if in_progress not in IN_PROGRESS:
        raise ModelError(f"reforecast: in_progress must be one of {', '.join(IN_PROGRESS)}, "
                         f"got {in_progress!r}")
    base = as_project(project)
    if hasattr(period_or_periods, "activities"):
        period = period_or_periods
    else:
        period = select_period(base, list(period_or_periods),
                               "latest" if status_date is None else status_date)
    if method == "plain":
        applied = apply_status(base, period)
        result = simulate(applied, iterations, seed=seed, **simulate_kwargs)
        return ReforecastResult("plain", _name(base, period), result, None, applied)
    applied, learned = apply_learning(
        base, period, strength=strength, group_strength=group_strength, dof=dof, scale=scale,
        drift=drift, variance=variance, weights=weights, groups=groups, cost=cost,
        cost_strength=cost_strength, cost_drift=cost_drift, in_progress=in_progress)
    result = simulate(applied, iterations, seed=seed, **simulate_kwargs)
    return ReforecastResult("bayes", applied.meta["status_applied"]["name"], result, learned,
                            applied)


def _remaining_work(applied, base, r, open_ids, learned, groups, in_progress) -> list:
    """Set the remaining duration of each task in progress by ``in_progress`` (before the
    factor) in ``applied``; return the tasks the factor scales."""
    from .evm import scaled

    pos = {t: i for i, t in enumerate(base.graph.nodes)}
    observed = {t: y for t, y in zip(learned.duration_obs.task_ids, learned.duration_obs.y)}
    out = []
    for t in open_ids:
        i = pos[t]
        if not r.started[i]:
            out.append(t)
            continue
        if in_progress == "status" and np.isfinite(r.remaining[i]):
            continue
        data = base.graph.nodes[t]
        planned = planned_duration(t, data)
        if planned > 0:
            pc = float(r.pc[i])
            ratio = 1.0 - pc
            if in_progress == "blend" and t in observed:
                key = _group_of(groups, t, data) if groups is not None else None
                post = learned.duration_groups.get(key, learned.duration)
                ratio *= math.exp(pc * (observed[t] - post.location))
            node = applied.graph.nodes[t]
            node["duration"] = scaled(task_duration(t, data), ratio)
            node["planned"] = planned * ratio
        out.append(t)
    return out


def _name(project, period) -> str:
    from .evm import resolve_periods
    return resolve_periods(project, [period], strict=False)[0].name


def _scale_costs(project: Project, task_ids, factor: float) -> Project:
    """A copy of ``project`` whose tasks ``task_ids`` have their fixed costs and cost rates
    multiplied by ``factor``."""
    from .evm import scaled
    from .uncertainty import _copy

    shell = copy.copy(project)
    # the DSLIB periods hold read-only mappings that deepcopy refuses; they are shared
    shell.meta = {k: v for k, v in project.meta.items() if k not in ("status", "tracking")}
    out = _copy(shell)
    for key in ("status", "tracking"):
        if key in project.meta:
            out.meta[key] = project.meta[key]
    for t in task_ids:
        data = out.graph.nodes[t]
        cf, cr = task_costs(t, data)
        if cf is not None:
            data["cost_fixed"] = scaled(cf, factor)
        if cr is not None:
            data["cost_rate"] = scaled(cr, factor)
    return out


def _add_drivers(project: Project, task_ids, learned: Learned, groups, base) -> None:
    """One probability-1 driver per group (or one for the project) over ``task_ids``."""
    if not task_ids:
        return
    taken = set(project.risks) | set(project.drivers)
    by_group: dict = {}
    for t in task_ids:
        key = _group_of(groups, t, base.graph.nodes[t]) if groups is not None else None
        if key is None:
            post = learned.duration
        elif key in learned.duration_groups:
            post = learned.duration_groups[key]
        else:
            # a group nothing was observed in: the project factor with its prior spread
            d = learned.duration
            extra = d.sigma ** 2 / learned.settings["group_strength"]
            post = FactorPosterior("duration", key, 0, 0.0, d.location,
                                   math.sqrt(d.scale ** 2 + extra), d.dof, d.sigma,
                                   d.prior_scale, math.nan)
        by_group.setdefault(key, (post, []))[1].append(t)
    for key, (post, tasks) in sorted(by_group.items(), key=lambda kv: str(kv[0])):
        did = DRIVER_ID if key is None else f"{DRIVER_ID}:{key}"
        if did in taken:
            raise ModelError(f"reforecast: the project already has a risk or driver "
                             f"{did!r}; rename it")
        name = ("learned duration factor" if key is None
                else f"learned duration factor, group {key}")
        project.add_driver(did, 1.0, post.distribution(), tasks, name=name)


def _add_cost_risk(project: Project, task_ids, post: FactorPosterior, f_dur: float) -> None:
    """A probability-1 risk event with cost impact (G / median - 1) x the expected remaining
    cost (module doc)."""
    if COST_RISK_ID in project.risks or COST_RISK_ID in project.drivers:
        raise ModelError(f"reforecast: the project already has a risk or driver "
                         f"{COST_RISK_ID!r}; rename it")
    remaining = 0.0
    for t in task_ids:
        data = project.graph.nodes[t]
        cf, cr = task_costs(t, data)
        spent = float(data.get("actual_cost") or 0.0)
        c = nonnegative_mean(cf) - spent if cf is not None else 0.0
        if cr is not None:
            c += nonnegative_mean(cr) * nonnegative_mean(task_duration(t, data)) * f_dur
        remaining += max(c, 0.0)
    if remaining <= 0:
        return
    g = post.ppf((np.arange(FACTOR_POINTS) + 0.5) / FACTOR_POINTS)
    impact = Discrete(((g / post.median - 1.0) * remaining).tolist(), [1.0] * FACTOR_POINTS)
    project.add_risk(COST_RISK_ID, 1.0, task_ids, cost_impact=impact,
                     name="learned cost factor (uncertainty)")


def apply_learning(project, period, *, accrual: str | None = None,
                   strength: float = STRENGTH, group_strength: float | None = None,
                   dof: float = DOF, scale: float | None = None, drift: float = DRIFT,
                   variance: str = "unknown", weights: str = "size", groups=None,
                   cost: bool = True, cost_strength: float = COST_STRENGTH,
                   cost_drift: float = COST_DRIFT, in_progress: str = "blend"
                   ) -> tuple[Project, Learned]:
    """A copy of ``project`` to simulate forward from ``period``'s status with the
    performance factors learned from it: what :func:`reforecast` with ``method="bayes"``
    simulates (the command line's ``run --status-date DATE --learn``).

    :func:`pmosim.evm.apply_status` with the unfinished tasks' costs scaled by the cost
    factor's median, the remaining durations of the tasks in progress set by
    ``in_progress``, the duration factor's driver(s) (:data:`DRIVER_ID`) and the cost
    factor's risk event (:data:`COST_RISK_ID`) added (module doc).
    ``meta["status_applied"]`` gains ``"method": "bayes"`` and ``"learned"`` (the
    posterior summary, :meth:`Learned.to_dict`), which the run history records.

    Parameters
    ----------
    project : pmosim.Project or networkx.DiGraph
        The plan.
    period : StatusPeriod
        The status (any object with ``status_date`` and ``activities``).
    accrual : str, optional
        When fixed costs are earned (:func:`pmosim.evm.apply_status`).
    strength, group_strength, dof, scale, drift, variance, weights, groups, cost, \
    cost_strength, cost_drift
        The learning settings (:func:`learn`).
    in_progress : {"blend", "plan", "status"}
        As :func:`reforecast`.

    Returns
    -------
    (pmosim.Project, Learned)
        The project to simulate and the posterior factors.
    """
    from .evm import apply_status, resolve_periods

    if in_progress not in IN_PROGRESS:
        raise ModelError(f"reforecast: in_progress must be one of {', '.join(IN_PROGRESS)}, "
                         f"got {in_progress!r}")
    base = as_project(project)
    learned = learn(base, period, strength=strength, group_strength=group_strength, dof=dof,
                    scale=scale, drift=drift, variance=variance, weights=weights,
                    groups=groups, cost=cost, cost_strength=cost_strength,
                    cost_drift=cost_drift)
    r, = resolve_periods(base, [period], strict=False)
    ids = list(base.graph.nodes)
    open_ids = [t for i, t in enumerate(ids) if not r.complete[i]
                and base.graph.nodes[t].get("kind") != "connector"]
    g = learned.cost.median if learned.cost is not None else 1.0
    if learned.cost is not None and g != 1.0:
        base = _scale_costs(base, open_ids, g)
    applied = apply_status(base, period, accrual=accrual)
    scaled_ids = _remaining_work(applied, base, r, open_ids, learned, groups, in_progress)
    _add_drivers(applied, scaled_ids, learned, groups, base)
    if learned.cost is not None and learned.cost.scale > 0 and open_ids:
        _add_cost_risk(applied, open_ids, learned.cost, learned.duration.median)
    applied.meta["status_applied"].update(method="bayes", learned=learned.to_dict())
    return applied, learned


__all__ = ["reforecast", "apply_learning", "learn", "observations", "nig_update",
           "FactorPosterior", "Observations", "Learned", "ReforecastResult", "METHODS",
           "DRIVER_ID", "COST_RISK_ID", "STRENGTH", "DOF", "DRIFT", "COST_STRENGTH",
           "COST_DRIFT", "MIN_SCALE", "RATIO_LIMITS"]
