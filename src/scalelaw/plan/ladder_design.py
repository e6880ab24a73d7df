"""Propose the small runs to train for a target, and the forecast interval they are expected to give.

A design is a grid of model sizes × token multiples (tokens = multiple × tokens-per-param ×
N), each run trained to its length with its own cosine schedule. Every design that fits
the budget is scored by the linearised (Laplace) variance of the target's log-loss
forecast under a prior law, plus each run's scatter and the law's own error at the
target's distance beyond the largest run (:class:`~scalelaw.plan.simulate.NoiseModel`).
The best few are then measured by simulation (:mod:`scalelaw.plan.simulate`), and the one
with the narrowest simulated interval is proposed, beside the published ladder shapes
(OLMo's four sizes at 0.5–10× Chinchilla tokens; a Chinchilla isoFLOP grid) scaled to the
same cost and simulated the same way.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Any

import numpy as np

from scalelaw.data.schedules import Schedule
from scalelaw.errors import InputError
from scalelaw.fit.law_error import ExtrapolationError
from scalelaw.laws.base import Law
from scalelaw.plan.flops import training_flops
from scalelaw.plan.simulate import NoiseModel, forecast_errors, interval, log_jacobian, prior_precision, to_free

#: Chinchilla's tokens per parameter at the compute optimum (the "1×C" of a token multiple).
CHINCHILLA_TOKENS_PER_PARAM = 20.0
#: Epoch AI's refit of Chinchilla's Approach 3 (Besiroglu et al. 2024, Table 1): E, A, B, alpha, beta.
BESIROGLU_2024 = {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}
#: The chinchilla law's scatter around the OLMo ladder's 20 final C4 losses (residual RMS, bench_planner.py).
DEFAULT_RUN_NOISE = 0.005
#: The chinchilla law's drift beyond the OLMo ladder, from its backtests (selection.calibration): mean signed
#: error -1.46% per decade, tested to 0.62 decades, 17 held-out runs in 7 folds, 9 degrees of freedom.
DEFAULT_LAW_ERROR = ExtrapolationError(slope=0.0146, dof=9, tested_decades=0.62, bias=-0.0146, runs=17, points=17,
                                       folds=7, floor=0.0)
#: OLMo's ladder: sizes relative to its largest (190M, 370M, 760M, 1B) and token multiples of 20 tokens/param.
OLMO_SIZES = (190_354_176, 371_262_464, 758_220_288, 1_279_395_840)
OLMO_MULTIPLES = (0.5, 1.0, 2.0, 5.0, 10.0)
#: A Chinchilla-style isoFLOP grid: compute levels a factor this apart, sizes per level spanning ×1/4..×4 of N*(C).
ISOFLOP_LEVELS, ISOFLOP_LEVEL_RATIO, ISOFLOP_SIZES = 5, 10**0.5, 7
#: Designs measured by simulation after the linearised ranking, and the draws per simulation.
SIMULATED_DESIGNS, DRAWS = 4, 400
#: Fewest and most sizes in one design, fewest token multiples, and the strides (grid steps between neighbouring
#: sizes) tried. The engine fits without a prior, so a design must identify every parameter from its own runs:
#: three sizes for the size exponent, two multiples for the data exponent, and more runs than parameters.
MIN_SIZES, MAX_SIZES, MIN_MULTIPLES, STRIDES = 3, 6, 2, (1, 2, 3)


@dataclass(frozen=True)
class Target:
    """The run the ladder forecasts; for a loss-curve law, its ``schedule`` too (the loss at its last step)."""

    params: float
    tokens: float
    schedule: Schedule | None = None

    @property
    def flops(self) -> float:
        return float(training_flops(self.params, self.tokens))


@dataclass(frozen=True)
class PlannedRun:
    """One small run: size, tokens, cost; ``shape`` names the model of a size family (width, depth, heads)."""

    params: float
    tokens: float
    multiple: float
    shape: dict[str, int] | None = None

    @property
    def flops(self) -> float:
        return float(training_flops(self.params, self.tokens))

    def to_dict(self) -> dict[str, Any]:
        return {"params": self.params, "tokens": self.tokens, "tokens_per_param": self.tokens / self.params,
                "multiple": self.multiple, "flops": self.flops, "schedule": "cosine to the run's own length",
                **(self.shape or {})}


@dataclass(frozen=True)
class Outcome:
    """A design with its cost and expected interval (relative bounds of the target around the forecast)."""

    name: str
    runs: tuple[PlannedRun, ...]
    decades: float
    linear_half_width: float
    low: float
    high: float

    @property
    def flops(self) -> float:
        return float(sum(r.flops for r in self.runs))

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def summary(self, target: Target) -> dict[str, Any]:
        return {"design": self.name, "runs": len(self.runs), "sizes": len({r.params for r in self.runs}),
                "largest_params": max(r.params for r in self.runs), "flops": self.flops,
                "share_of_target": self.flops / target.flops, "decades_to_target": self.decades,
                "expected_low": self.low, "expected_high": self.high, "expected_half_width": self.half_width,
                "linearised_half_width": self.linear_half_width}


@dataclass(frozen=True)
class LadderPlan:
    """The proposal, the published shapes at the same cost, and what the expectation assumed."""

    target: Target
    budget: float
    level: float
    noise: NoiseModel
    law: str
    prior: dict[str, float]
    proposal: Outcome
    comparisons: tuple[Outcome, ...]
    family: dict[str, Any] | None = None
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The plan.json content: ``runs`` is what ``scalelaw ladder run --plan`` trains."""
        return {
            "kind": "ladder-plan",
            "target": {"params": self.target.params, "tokens": self.target.tokens, "flops": self.target.flops},
            "budget_flops": self.budget, "level": self.level, "law": self.law, "prior": dict(self.prior),
            "noise_model": {"run_noise": self.noise.run_noise,
                            "law_error": None if self.noise.law_error is None else self.noise.law_error.to_dict(),
                            "description": self.noise.describe()},
            "proposal": self.proposal.summary(self.target),
            "runs": [r.to_dict() for r in self.proposal.runs],
            "comparisons": [c.summary(self.target) for c in self.comparisons],
            "family": self.family,
            "warnings": list(self.warnings),
        }


def decades_beyond(runs: Sequence[PlannedRun], target: Target) -> float:
    """How far the target lies beyond the runs, in decades: the largest distance over N, D and C = 6ND, each from
    its largest run (as :meth:`FitResult.decades_beyond` and the backtests measure it)."""
    largest = {"params": max(r.params for r in runs), "tokens": max(r.tokens for r in runs),
               "flops": max(r.flops for r in runs)}
    asked = {"params": target.params, "tokens": target.tokens, "flops": target.flops}
    return max(0.0, *(math.log10(asked[k] / largest[k]) for k in largest))


class Scorer:
    """Linearised and simulated expected intervals of designs, for one law, prior, target and noise model."""

    def __init__(self, law: Law, prior: dict[str, float], target: Target, noise: NoiseModel, level: float, seed: int):
        self.law, self.target, self.noise, self.level, self.seed = law, target, noise, level, seed
        self.theta = np.array([prior[name] for name in law.param_names], dtype=float)
        self.free = to_free(law, self.theta[None, :])[0]
        self.precision = prior_precision(law)
        self.z = NormalDist().inv_cdf(0.5 + level / 2)
        _, gradient = log_jacobian(law, self.free[None, :], law.design_at(params=target.params, tokens=target.tokens))
        self.gradient = gradient[0, 0]

    def rows(self, runs: Sequence[PlannedRun]) -> np.ndarray:
        """Jacobian rows (n, p) of the runs' log losses at the prior."""
        design = self.law.design_at(params=[r.params for r in runs], tokens=[r.tokens for r in runs])
        return log_jacobian(self.law, self.free[None, :], design)[1][0]

    def linear_half_width(self, information: np.ndarray, decades: np.ndarray) -> np.ndarray:
        """Relative half-widths for designs given their Fisher information sums (k, p, p) and distances (k,)."""
        posterior = information / self.noise.run_noise**2 + np.diag(self.precision)
        solved = np.linalg.solve(posterior, np.broadcast_to(self.gradient, posterior.shape[:2])[:, :, None])[:, :, 0]
        variance = solved @ self.gradient + self.noise.run_noise**2 + self.noise.law_sd(decades) ** 2
        return self.z * np.sqrt(variance)

    def simulate(self, name: str, runs: Sequence[PlannedRun]) -> Outcome:
        """Measure one design by simulated ladders."""
        runs = tuple(runs)
        decades = decades_beyond(runs, self.target)
        rows = self.rows(runs)
        linear = float(self.linear_half_width((rows.T @ rows)[None], np.array([decades]))[0])
        design = self.law.design_at(params=[r.params for r in runs], tokens=[r.tokens for r in runs])
        target = self.law.design_at(params=self.target.params, tokens=self.target.tokens)
        errors = forecast_errors(self.law, self.theta, design, target, decades, self.noise, draws=DRAWS, seed=self.seed)
        low, high = interval(errors, self.level)
        return Outcome(name, runs, decades, linear, low, high)


def size_grid(target: Target, smallest: float | None, largest: float | None, per_decade: int = 4) -> np.ndarray:
    """Log-spaced sizes from ``smallest`` (default 1/1000 of the target) to ``largest`` (default a third of it)."""
    low = smallest if smallest is not None else target.params / 1000
    high = largest if largest is not None else target.params / 3
    if not 0 < low <= high:
        raise InputError(f"the smallest size ({low:.3g}) must be positive and at most the largest ({high:.3g})")
    if high >= target.params:
        raise InputError(f"the largest size ({high:.3g}) must be below the target's {target.params:.3g} parameters")
    count = max(2, int(round(math.log10(high / low) * per_decade)) + 1)
    return np.geomspace(low, high, count)


def candidate_designs(sizes: Sequence[float], multiples: Sequence[float], tokens_per_param: float,
                      shapes: Sequence[dict[str, int] | None] | None = None) -> list[tuple[str, tuple[PlannedRun, ...]]]:
    """Every grid of k neighbouring sizes (every ``stride``-th of ``sizes``) × a contiguous run of ``multiples``."""
    order = np.argsort(sizes)
    sizes = [float(sizes[i]) for i in order]
    shapes = [None] * len(sizes) if shapes is None else [shapes[i] for i in order]
    multiples = sorted(float(m) for m in multiples)
    spans = [multiples[a:b] for a in range(len(multiples)) for b in range(a + 1, len(multiples) + 1)]
    out = []
    for top, stride, count in itertools.product(range(len(sizes)), STRIDES, range(MIN_SIZES, MAX_SIZES + 1)):
        picked = [top - stride * i for i in range(count)][::-1]
        if picked[0] < 0:
            continue
        for span in spans:
            if len(span) < MIN_MULTIPLES and len(multiples) >= MIN_MULTIPLES:
                continue
            runs = tuple(PlannedRun(sizes[i], sizes[i] * m * tokens_per_param, m, shapes[i]) for i in picked for m in span)
            name = f"{count} sizes {sizes[picked[0]]:.3g}-{sizes[picked[-1]]:.3g} x {','.join(f'{m:g}' for m in span)}xC"
            out.append((name, runs))
    return out


def olmo_shaped(budget: float, tokens_per_param: float, target: Target) -> tuple[PlannedRun, ...]:
    """OLMo's ladder shape (four sizes in its ratios × 0.5–10× Chinchilla tokens) scaled to cost ``budget``."""
    ratios = np.array(OLMO_SIZES, dtype=float) / OLMO_SIZES[-1]
    unit = sum(6.0 * r * r * m * tokens_per_param for r in ratios for m in OLMO_MULTIPLES)
    top = min(math.sqrt(budget / unit), target.params / 1.0001)
    return tuple(PlannedRun(top * r, top * r * m * tokens_per_param, m) for r in ratios for m in OLMO_MULTIPLES)


def isoflop_grid(budget: float, law: Law, prior: dict[str, float], tokens_per_param: float, *,
                 levels: int = ISOFLOP_LEVELS, ratio: float = ISOFLOP_LEVEL_RATIO, sizes: int = ISOFLOP_SIZES,
                 span: float = 4.0) -> tuple[PlannedRun, ...]:
    """A Chinchilla isoFLOP grid costing ``budget``: by default five compute levels half a decade apart, seven
    sizes each from 1/4 to 4× the prior law's compute-optimal size at that level."""
    level_flops = ratio ** -np.arange(levels)[::-1]
    top = budget / (sizes * level_flops.sum())
    runs = []
    for flops in top * level_flops:
        best = law.optimal_allocation(prior, np.array([flops]))
        n_opt = float(best["params"][0]) if best is not None else math.sqrt(flops / (6 * tokens_per_param))
        for n in n_opt * np.geomspace(1 / span, span, sizes):
            tokens = flops / (6.0 * n)
            runs.append(PlannedRun(float(n), float(tokens), tokens / n / tokens_per_param))
    return tuple(runs)


def isoflop_designs(budget: float, law: Law, prior: dict[str, float], tokens_per_param: float, smallest: float,
                    largest: float) -> list[tuple[str, tuple[PlannedRun, ...]]]:
    """IsoFLOP grids of 3-5 levels, 3-7 sizes and two level spacings costing ``budget``, within the size limits."""
    out = []
    for levels, sizes, ratio, span in itertools.product((3, 4, 5), (3, 5, 7), (10**0.25, 10**0.5), (2.0, 4.0)):
        runs = isoflop_grid(budget, law, prior, tokens_per_param, levels=levels, ratio=ratio, sizes=sizes, span=span)
        if all(smallest <= r.params <= largest for r in runs):
            out.append((f"isoFLOP {levels} levels x{ratio:.2g} apart, {sizes} sizes x1/{span:g}..x{span:g}", runs))
    return out


def plan_ladder(
    law: Law, prior: dict[str, float], target: Target, budget: float, noise: NoiseModel, *,
    multiples: Sequence[float] = OLMO_MULTIPLES, tokens_per_param: float = CHINCHILLA_TOKENS_PER_PARAM,
    smallest: float | None = None, largest: float | None = None,
    family: Sequence[tuple[float, dict[str, int]]] | None = None, family_info: dict[str, Any] | None = None,
    level: float = 0.95, seed: int = 0,
) -> LadderPlan:
    """The proposed ladder for ``target`` within ``budget`` FLOPs, with its simulated expected interval."""
    if not 0 < level < 1:
        raise InputError(f"--level must be between 0 and 1, got {level!r}")
    if not (budget > 0 and math.isfinite(budget)):
        raise InputError(f"the budget must be a positive number of FLOPs, got {budget!r}")
    if budget >= target.flops:
        raise InputError(f"the budget ({budget:.3g} FLOPs) is not below the target's own cost ({target.flops:.3g}): "
                         "train the target")
    if not multiples or any(not (m > 0 and math.isfinite(m)) for m in multiples):
        raise InputError(f"token multiples must be positive numbers, got {list(multiples)}")
    if family is not None:
        family = [(n, s) for n, s in family if (smallest is None or n >= smallest) and (largest is None or n <= largest)]
        family = [(n, s) for n, s in family if n < target.params]
        if len(family) < MIN_SIZES:
            raise InputError(f"the size family has fewer than {MIN_SIZES} sizes below the target within the size limits")
        sizes, shapes = [n for n, _ in family], [s for _, s in family]
    else:
        sizes, shapes = list(size_grid(target, smallest, largest)), None
    enough = len(law.param_names) + 1
    designs = [(name, runs) for name, runs in candidate_designs(sizes, multiples, tokens_per_param, shapes)
               if sum(r.flops for r in runs) <= budget and len(runs) >= enough]
    if family is None:
        designs += isoflop_designs(budget, law, prior, tokens_per_param, min(sizes), max(sizes))
    if not designs:
        cheapest = min(sizes) * min(multiples) * tokens_per_param * min(sizes) * 6.0
        raise InputError(f"the budget ({budget:.3g} FLOPs) is smaller than the cheapest ladder that identifies the "
                         f"law ({enough} runs over {MIN_SIZES} sizes; the smallest run alone costs {cheapest:.3g} FLOPs)")
    scorer = Scorer(law, prior, target, noise, level, seed)
    widths = _linear_widths(scorer, designs)
    chosen = [designs[i] for i in np.argsort(widths, kind="stable")[:SIMULATED_DESIGNS]]
    simulated = [scorer.simulate(name, runs) for name, runs in chosen]
    proposal = min(simulated, key=lambda o: (o.half_width, o.flops))
    cost = proposal.flops
    comparisons = (
        scorer.simulate("OLMo ladder shape, same cost", olmo_shaped(cost, tokens_per_param, target)),
        scorer.simulate("Chinchilla isoFLOP grid, same cost", isoflop_grid(cost, law, prior, tokens_per_param)),
    )
    published = min(comparisons, key=lambda o: o.half_width)
    if published.half_width < proposal.half_width and family is None:  # no searched design beat a published shape
        proposal = replace(published, name=published.name.replace(", same cost", " (the best design found)"))
    warnings = [] if noise.law_error is None or not noise.law_error.untested(proposal.decades) else [
        f"the target lies {proposal.decades:.2f} decades beyond the largest proposed run, more than twice the distance "
        f"the law's error was measured at ({noise.law_error.tested_decades:.2f}): the expected interval is a guess"]
    return LadderPlan(target, budget, level, noise, law.name, dict(prior), proposal, comparisons, family_info,
                      tuple(warnings))


def _linear_widths(scorer: Scorer, designs: list[tuple[str, tuple[PlannedRun, ...]]]) -> np.ndarray:
    """Linearised half-widths of every design, from the per-run Jacobian rows computed once per distinct run."""
    distinct = sorted({(r.params, r.tokens) for _, runs in designs for r in runs})
    index = {key: i for i, key in enumerate(distinct)}
    rows = scorer.rows([PlannedRun(n, d, 1.0) for n, d in distinct])
    outer = np.einsum("np,nq->npq", rows, rows).reshape(len(distinct), -1)
    membership = np.zeros((len(designs), len(distinct)))
    for k, (_, runs) in enumerate(designs):
        membership[k, [index[(r.params, r.tokens)] for r in runs]] = 1.0
    p = rows.shape[1]
    information = (membership @ outer).reshape(len(designs), p, p)
    decades = np.array([decades_beyond(runs, scorer.target) for _, runs in designs])
    return scorer.linear_half_width(information, decades)
