"""Shared machinery of the loss-curve laws: per-step learning rates and fast loss-drop sums.

A curve is a per-step learning rate ``lr[0..T]`` (``lr[0]`` is the rate before the first
update, see :mod:`scalelaw.data.schedules`) and the steps where the loss is wanted.
The Multi-Power Law's loss drop sums, over every earlier step ``k``, the lr drop
``d_k = lr[k-1] - lr[k]`` times ``G(lr[k]^-γ (P(t) - P(k-1)))`` with ``P`` the lr prefix
sum: O(T) per output step, O(T²) for a whole curve. :class:`DropSum` evaluates it in
O(log T) per output step by a multilevel split of the past into blocks whose size grows
with their distance from ``t``; each block is replaced by its drop-weighted mean
argument (exact for a block with one drop, e.g. every jump of a piecewise-constant
schedule), and a rigorous bound on the error comes from the curvature of ``G``.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from dataclasses import dataclass, field

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.data.schedules import Schedule, parse_schedule, schedule_from_logged
from scalelaw.errors import DataWarning, InputError, warn
from scalelaw.laws.base import Design, Law

if TYPE_CHECKING:
    import pandas as pd

#: Learning rates are floored here before ``lr^-γ`` so that a drop to zero stays finite.
TINY_LR = 1e-20
#: In the extrapolation distance, the lr counts as at least this share of the run's peak: the
#: laws model annealing by lr drops, and below 1% of the peak what is left to drop is under 1%
#: of it, so a decay to 0 (the Hugging Face default) is 1 decade below a peak-only fit, not 15.
LR_REACH_FLOOR = 0.01
#: Relative gap below a run's peak lr within which the lr still counts as at its peak (not decaying).
AT_PEAK = 1e-6
#: A forecast whose lr decays this many times longer than any fitted run's decay gets a warning.
DECAY_WARNING_RATIO = 2.0


@dataclass(frozen=True)
class Curve:
    """One run as a loss-curve law sees it: per-step lr ``lr[0..T]``, output steps, losses."""

    run: str
    lr: np.ndarray
    steps: np.ndarray
    loss: np.ndarray
    params: float = math.nan

    @property
    def prefix(self) -> np.ndarray:
        """``P[t] = lr[1] + ... + lr[t]`` for t = 0..T (the forward area S1)."""
        return np.concatenate([[0.0], np.cumsum(self.lr[1:])])


def decay_steps(curve: Curve) -> np.ndarray:
    """Per output step, the steps since the lr last stood at the run's peak: how long a decay the law's drop term
    follows there (NaN where there is no decay yet: at the peak, or warming up to it)."""
    lr = curve.lr
    at_peak = lr >= np.max(lr) * (1.0 - AT_PEAK)
    index = np.arange(lr.size)
    last = np.maximum.accumulate(np.where(at_peak, index, -1))
    since = (index - last).astype(float)
    since[(last < 0) | at_peak] = np.nan
    return since[curve.steps]


#: Default number of points of a predicted curve (every step of shorter schedules).
DEFAULT_POINTS = 1000


def default_steps(total: int, points: int = DEFAULT_POINTS) -> np.ndarray:
    """Evenly spaced steps 1..total, at most ``points`` of them, always including the last."""
    return np.unique(np.round(np.linspace(1, total, min(total, points))).astype(np.int64))


def curve_from_schedule(schedule: Schedule, *, steps: np.ndarray | str | None = None,
                        params: float = math.nan) -> Curve:
    """A prediction curve: the schedule's lr at 0..T and output ``steps`` (``None``: up to
    :data:`DEFAULT_POINTS` evenly spaced steps; ``"all"``: every step 1..T)."""
    total = schedule.total_steps
    if isinstance(steps, str):
        if steps != "all":
            raise InputError(f"steps must be an array of steps or 'all', got {steps!r}")
        wanted = np.arange(1, total + 1)
    else:
        wanted = default_steps(total) if steps is None else np.asarray(steps, dtype=np.int64)
    if wanted.size == 0 or wanted.min() < 1:
        raise InputError("prediction steps must be >= 1 (step s is the loss after s updates)")
    last = max(total, int(wanted.max()))
    lr = schedule.lr(np.arange(0, last + 1, dtype=float))
    return Curve(run="prediction", lr=lr, steps=wanted, loss=np.full(wanted.size, np.nan), params=params)


def curves_from_runs(runs: RunSet, *, purpose: str) -> list[Curve]:
    """Per-run curves from a run table: the lr of every row (per-step rows included) and the logged losses.

    The per-step lr is rebuilt by :func:`~scalelaw.data.schedules.schedule_from_logged`
    (linear between logged values), or taken from a ``lr_schedule`` spec column.
    Logged points are rows with a finite loss and step >= 1.
    """
    runs.require(["step"], purpose=purpose)
    cache = runs.per_run_cache("curve")
    curves = []
    for run in runs.runs:
        if run not in cache:
            cache[run] = _curve_of(runs, run, runs.curve(run), purpose)
        curves.append(cache[run])
    return curves


def _curve_of(runs: RunSet, run: str, rows: pd.DataFrame, purpose: str) -> Curve:
    """One run's :class:`Curve` (see :func:`curves_from_runs`)."""
    file = runs.source(run)
    step = rows["step"].to_numpy(dtype=float)
    if "lr_schedule" in rows.columns and rows["lr_schedule"].notna().any():
        schedule: Schedule = parse_schedule(str(rows["lr_schedule"].dropna().iloc[0]))
    else:
        if "lr" not in rows.columns or not rows["lr"].notna().any():
            raise InputError(f"{purpose} needs the learning rate: an 'lr' column or an 'lr_schedule' spec",
                             file=file, run=run, column="lr")
        has_lr = rows["lr"].notna().to_numpy()
        schedule = schedule_from_logged(step[has_lr], rows["lr"].to_numpy(dtype=float)[has_lr], file=file, run=run)
    loss = rows["loss"].to_numpy(dtype=float)
    logged = np.isfinite(loss) & np.isfinite(step)
    early = logged & (step < 1)
    if early.any():
        warn(f"run {run!r}: {int(early.sum())} loss value(s) at step 0 are left out (no update has happened)",
             DataWarning)
    logged &= step >= 1
    if not logged.any():
        raise InputError(f"{purpose} needs logged losses; this run has none", file=file, run=run, column="loss")
    if logged.any() and np.any(loss[logged] <= 0):
        row = int(np.flatnonzero(logged & (loss <= 0))[0]) + 1
        raise InputError("loss must be positive", file=file, run=run, row=row, column="loss")
    fractional = logged & (step != np.round(step))
    if fractional.any():
        row = int(np.flatnonzero(fractional)[0]) + 1
        raise InputError(f"step {step[row - 1]:g} is not a whole number of updates", file=file, run=run,
                         row=row, column="step")
    out_steps = step[logged].astype(np.int64)
    last = max(schedule.total_steps, int(out_steps.max()) if out_steps.size else 0)
    params = float(rows["params"].dropna().iloc[0]) if "params" in rows.columns and rows["params"].notna().any() else math.nan
    return Curve(run=run, lr=schedule.lr(np.arange(0, last + 1, dtype=float)), steps=out_steps,
                 loss=loss[logged], params=params)


def g_function(x: np.ndarray, c: float, beta: float) -> np.ndarray:
    """The Multi-Power Law's saturation ``G(x) = 1 - (C x + 1)^-β``."""
    return -np.expm1(-beta * np.log1p(c * x))


def loss_drop_naive(lr: np.ndarray, steps: np.ndarray, c: float, beta: float, gamma: float) -> np.ndarray:
    """The loss-drop sum ``Σ_k d_k G(lr_k^-γ S_k(t))`` (without B), term by term: O(T) per step."""
    prefix = np.concatenate([[0.0], np.cumsum(lr[1:])])
    out = np.empty(len(steps))
    for i, t in enumerate(steps):
        k = np.arange(1, t + 1)
        drop = lr[k - 1] - lr[k]
        x = np.maximum(lr[k], TINY_LR) ** (-gamma) * (prefix[t] - prefix[k - 1])
        out[i] = np.sum(drop * g_function(x, c, beta))
    return out


#: Parameter rows from which the Taylor-moment products avoid BLAS (see :meth:`DropSum._weighted_a_at`).
EINSUM_FROM_ROWS = 16


def _einsum_product(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return np.einsum("bj,jp->bp", left, right)


#: Splits of the most recent schedules kept by :meth:`DropSum.build` (each is O(outputs · log T) numbers).
BUILT_KEPT = 64
_BUILT: OrderedDict[tuple[object, ...], DropSum] = OrderedDict()

#: γ batches whose block sums :meth:`DropSum._weighted_a` keeps (see there).
GAMMAS_KEPT = 4

#: Terms of the Taylor series of ``lr^-γ`` around each block's largest lr (|γ·δ| <= 0.45 there).
TAYLOR_TERMS = 13


@dataclass(frozen=True)
class DropSum:
    """The multilevel split of one curve's past, with per-block moments; :meth:`evaluate` does the sums.

    Blocks of level ℓ hold 2^ℓ consecutive steps and are used only at a distance of at
    least ``blocks_per_level`` blocks, and only where the lr varies by at most
    ``max_lr_ratio`` inside them (else they are split). A block is kept as one part per
    band of ``ln lr`` it touches (see :class:`_BandMoments`); each part keeps the Taylor
    moments ``Σ|d| δ^j`` and ``Σ|d| q δ^j`` of ``δ = ln lr − ln lr_ref`` (the band's
    centre), so ``Σ|d| lr^-γ`` and ``Σ|d| lr^-γ q`` follow for any γ (and a batch of γ) in
    O(parts). The moments come from prefix sums, so building costs O(T + parts), not
    O(T) per level.
    """

    out_area: np.ndarray
    pair_out: np.ndarray
    pair_block: np.ndarray
    drop: np.ndarray
    mass: np.ndarray
    log_ref: np.ndarray
    log_lr_min: np.ndarray
    log_lr_max: np.ndarray
    q_min: np.ndarray
    q_max: np.ndarray
    moments: np.ndarray
    moments_q: np.ndarray
    #: Parameter-free pair arrays and the last γ's block sums (see :meth:`_weighted_a`); not part of the value.
    _cache: dict[object, object] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, lr: np.ndarray, steps: np.ndarray, *, blocks_per_level: int = 8,
              max_lr_ratio: float = 1.25) -> DropSum:
        """Split steps 1..t for every output step t; depends on the schedule only, not on the parameters.

        The same schedule and steps (every fold and candidate law of one run) give the same
        split: the last ``BUILT_KEPT`` are kept, keyed by a digest of their content.
        """
        steps = np.asarray(steps, dtype=np.int64)
        lr = np.asarray(lr, dtype=float)
        digest = hashlib.blake2b(lr.tobytes(), digest_size=16)
        digest.update(steps.tobytes())
        key = (digest.digest(), lr.size, blocks_per_level, max_lr_ratio)
        built = _BUILT.get(key)
        if built is None:
            built = _BUILT[key] = cls._build(lr, steps, blocks_per_level=blocks_per_level, max_lr_ratio=max_lr_ratio)
            while len(_BUILT) > BUILT_KEPT:
                _BUILT.popitem(last=False)
        else:
            _BUILT.move_to_end(key)
        return built

    @classmethod
    def _build(cls, lr: np.ndarray, steps: np.ndarray, *, blocks_per_level: int,
               max_lr_ratio: float) -> DropSum:
        """:meth:`build` without the cache."""
        horizon = int(steps.max())
        levels = max(1, math.ceil(math.log2(max(horizon, 2))))
        padded = 1 << levels
        drop = np.zeros(padded)
        drop[:horizon] = lr[:horizon] - lr[1 : horizon + 1]
        active = drop != 0
        log_lr = np.zeros(padded)
        log_lr[:horizon] = np.log(np.maximum(lr[1 : horizon + 1], TINY_LR))
        start_area = np.zeros(padded)
        start_area[:horizon] = np.concatenate([[0.0], np.cumsum(lr[1:horizon])])
        out, level, block = _split_past(steps, levels, blocks_per_level)
        log_hi = [np.where(active, log_lr, -np.inf)]
        log_lo = [np.where(active, log_lr, np.inf)]
        for _ in range(levels):
            log_hi.append(np.maximum(log_hi[-1][0::2], log_hi[-1][1::2]))
            log_lo.append(np.minimum(log_lo[-1][0::2], log_lo[-1][1::2]))
        out, level, block = _refine(out, level, block, log_hi, log_lo, math.log(max_lr_ratio))
        key = (level.astype(np.int64) << 40) + block
        unique, pair_block = np.unique(key, return_inverse=True)
        u_level, u_block = unique >> 40, unique & ((1 << 40) - 1)
        first, last = u_block << u_level, (u_block + 1) << u_level  # 0-based step range [first, last)
        bands = _BandMoments.build(drop, log_lr, start_area)
        part_block, part = bands.parts(first, last, _lookup(log_lo, u_level, u_block), _lookup(log_hi, u_level, u_block))
        # every (output, block) pair becomes one pair per band part of the block
        per_block = np.bincount(part_block, minlength=unique.size)
        order = np.argsort(pair_block, kind="stable")
        pair_count = per_block[pair_block[order]]
        pair_out = np.repeat(out[order], pair_count)
        part_start = np.concatenate([[0], np.cumsum(per_block)[:-1]])
        pair_part = np.repeat(part_start[pair_block[order]], pair_count) + _ramp(pair_count)
        prefix = np.concatenate([[0.0], np.cumsum(lr[1:])])
        return cls(out_area=prefix[steps], pair_out=pair_out, pair_block=pair_part, **part)

    def _weighted_a(self, gamma: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per block and parameter row: Σ|d|a, Σ|d|a·q and their γ-derivatives, with a = lr^-γ.

        They depend on γ only, which often stays put between evaluations (held, on its bound,
        or a finite-difference step in another parameter): the last ``GAMMAS_KEPT`` γ batches' values
        are kept (one per thread fitting bootstrap replicates at once; taking the list of keys and
        ``pop`` are atomic, so threads sharing the cache never see a half-removed entry).
        """
        key = ("gamma", gamma.tobytes())
        cached = self._cache.get(key)
        if cached is None:
            cached = self._weighted_a_at(gamma)
            stale = [k for k in list(self._cache) if k not in ("pairs", "refs")]
            for old in stale[: max(0, len(stale) - GAMMAS_KEPT + 1)]:
                self._cache.pop(old, None)
            self._cache[key] = cached
        return cached  # type: ignore[return-value]

    def _weighted_a_at(self, gamma: np.ndarray) -> tuple[np.ndarray, ...]:
        """:meth:`_weighted_a` computed. From ``EINSUM_FROM_ROWS`` rows the (rows, 13) x (13, parts)
        products go through einsum: BLAS starts threads for them, which on a busy machine cost
        several times the product (2.7x at 30 rows on 2 shared cores)."""
        j = np.arange(TAYLOR_TERMS)
        factorial = np.cumprod(np.concatenate([[1.0], np.arange(1, TAYLOR_TERMS)]))
        neg = -gamma[:, None]
        series = neg**j / factorial
        d_series = np.zeros_like(series)
        d_series[:, 1:] = -series[:, :-1] * (factorial[:-1] / factorial[1:]) * j[1:]
        # the references are the centres of a few bands of ln lr: one exp per band, not per part
        refs, at_ref = self._refs()
        scale = np.take(np.exp(-gamma[:, None] * refs[None, :]), at_ref, axis=1)
        product = np.matmul if gamma.size < EINSUM_FROM_ROWS else _einsum_product
        a = product(series, self.moments)
        a *= scale
        aq = product(series, self.moments_q)
        aq *= scale
        da = product(d_series, self.moments)
        da *= scale
        da -= self.log_ref * a
        daq = product(d_series, self.moments_q)
        daq *= scale
        daq -= self.log_ref * aq
        return a, aq, da, daq

    def evaluate(self, c: np.ndarray, beta: np.ndarray, gamma: np.ndarray, *, gradient: bool = False,
                 bound: bool = False, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """``value`` (B, n) = Σ_k d_k G(lr_k^-γ S_k(t)) for each parameter row; with ``gradient`` its
        derivatives ``d_c``, ``d_beta``, ``d_gamma``; with ``bound`` a rigorous bound on the
        approximation error, ``bound`` (B, n). With ``rows`` (indices), only those parameter rows
        (B = len(rows)); the block sums are still taken for all rows, so each row's numbers are the
        same whichever others are asked for."""
        c, beta, gamma = (np.atleast_1d(np.asarray(v, dtype=float))[:, None] for v in (c, beta, gamma))
        weighted_a = self._weighted_a(gamma[:, 0])
        if rows is not None:
            weighted_a = tuple(np.take(w, rows, axis=0) for w in weighted_a)
            c, beta, gamma = c[rows], beta[rows], gamma[rows]
        pairs = self._pairs()
        rows = c.shape[0]
        keys = ("value", "d_beta", "d_c", "d_gamma") if gradient else ("value",)
        result = {key: np.zeros((rows, pairs.n)) for key in keys}
        for chunk in pairs.chunks(rows):
            chunk.add_terms(weighted_a, c, beta, result)
        if gradient:  # row factors taken out of the sums
            result["d_c"] *= beta
            result["d_gamma"] *= beta * c
        if bound:
            result["bound"] = self._sum(self._pair_error(c, beta, gamma))
        return result

    def _refs(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct Taylor references ``log_ref`` and where each part's is among them (built once)."""
        refs = self._cache.get("refs")
        if refs is None:
            refs = self._cache["refs"] = np.unique(self.log_ref, return_inverse=True)
        return refs  # type: ignore[return-value]

    def _pairs(self) -> _Pairs:
        """The (output, block part) pairs sorted by output, with their parameter-free values (built once)."""
        pairs = self._cache.get("pairs")
        if pairs is None:
            pairs = self._cache["pairs"] = _Pairs.of(self)
        return pairs  # type: ignore[return-value]

    def _pair_error(self, c: np.ndarray, beta: np.ndarray, gamma: np.ndarray) -> np.ndarray:
        """Per pair: ½·max|G''|·Σ|d|(x−x̄)² for same-sign blocks, max|G'|·Σ|d||x−x̄| otherwise."""
        blk, out = self.pair_block, self.pair_out
        area = self.out_area[out]
        with np.errstate(invalid="ignore", over="ignore"):
            a_lo = np.exp(-gamma * self.log_lr_max[blk])
            a_hi = np.exp(-gamma * self.log_lr_min[blk])
            lo = np.maximum(a_lo * (area - self.q_max[blk]), 0.0)
            hi = a_hi * (area - self.q_min[blk])
        mass = self.mass[blk]
        spread = np.where(mass > 0, np.nan_to_num(np.maximum(hi - lo, 0.0)), 0.0)
        same_sign = np.abs(np.abs(self.drop[blk]) - mass) <= 1e-12 * mass
        curvature = beta * (beta + 1.0) * c * c * (1.0 + c * lo) ** (-beta - 2.0)
        slope = beta * c * (1.0 + c * lo) ** (-beta - 1.0)
        return np.where(same_sign, 0.125 * curvature * mass * spread**2, slope * mass * spread)

    def _sum(self, values: np.ndarray) -> np.ndarray:
        """Add pair values (B, pairs) into their output steps (B, n)."""
        n = self.out_area.size
        rows = values.shape[0]
        flat = (np.arange(rows)[:, None] * n + self.pair_out[None, :]).ravel()
        return np.bincount(flat, weights=values.ravel(), minlength=rows * n).reshape(rows, n)


#: Parameter rows x pairs evaluated at once by :meth:`DropSum.evaluate`. Its dozen temporaries of
#: this many numbers (128 kB each) stay in a core's cache; whole (rows, pairs) arrays (48 MB each
#: at 30 rows on the OLMo curves) made the sums memory-bound, 1.75x slower for the same numbers.
CHUNK_CELLS = 16384
#: Parameter rows from which the pairs are chunked. With fewer, the arrays are small enough and
#: chunks only multiply the Python-level calls, each taking the GIL: the multi-start's threads
#: (a few starts each) then wait on each other.
CHUNK_FROM_ROWS = 8


@dataclass(frozen=True)
class _Pairs:
    """A :class:`DropSum`'s pairs in output order, ``whole`` (each output's pairs keep their order, so
    the sums add the same numbers in the same order as a bincount over the unsorted pairs), over
    ``n`` output steps."""

    whole: _PairChunk
    n: int
    #: :meth:`chunks` per chunk width; not part of the value.
    _chunked: dict[int, tuple[_PairChunk, ...]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, sums: DropSum) -> _Pairs:
        order = np.argsort(sums.pair_out, kind="stable")
        out = sums.pair_out[order]
        block = sums.pair_block[order]
        starts = np.flatnonzero(np.concatenate([[True], out[1:] != out[:-1]])) if out.size else out
        whole = _PairChunk(block=block, area=sums.out_area[out],
                           inv_mass=1.0 / np.where(sums.mass > 0, sums.mass, 1.0)[block], drop=sums.drop[block],
                           outputs=out[starts], starts=starts)
        return cls(whole=whole, n=sums.out_area.size)

    def chunks(self, rows: int) -> tuple[_PairChunk, ...]:
        """The pairs cut, between outputs, into runs of about ``CHUNK_CELLS / rows`` pairs (a power
        of two, so few cuts are kept; one run below ``CHUNK_FROM_ROWS`` rows): every output's
        pairs stay in one chunk, in their order, so each output's sum adds the same numbers in
        the same order whatever the cut."""
        w = self.whole
        size = w.block.size
        whole = max(size, 1)
        width = 1 << max(0, (CHUNK_CELLS // max(rows, 1)).bit_length() - 1) if rows >= CHUNK_FROM_ROWS else whole
        chunked = self._chunked.get(width)
        if chunked is None:
            cut = w.starts[np.searchsorted(w.starts, np.arange(0, size, width), side="right") - 1]
            bounds = np.unique(np.concatenate([cut, [size]])) if size else np.zeros(1, dtype=np.int64)
            at = np.searchsorted(w.starts, bounds)
            chunked = self._chunked[width] = tuple(
                _PairChunk(block=w.block[lo:hi], area=w.area[lo:hi], inv_mass=w.inv_mass[lo:hi],
                           drop=w.drop[lo:hi], outputs=w.outputs[s0:s1], starts=w.starts[s0:s1] - lo)
                for lo, hi, s0, s1 in zip(bounds[:-1], bounds[1:], at[:-1], at[1:], strict=True))
        return chunked


@dataclass(frozen=True)
class _PairChunk:
    """A run of :class:`_Pairs` holding whole outputs: ``starts`` (local) of its ``outputs``."""

    block: np.ndarray
    area: np.ndarray
    inv_mass: np.ndarray
    drop: np.ndarray
    outputs: np.ndarray
    starts: np.ndarray

    def add_terms(self, weighted_a: tuple[np.ndarray, ...], c: np.ndarray, beta: np.ndarray,
                  result: dict[str, np.ndarray]) -> None:
        """Write this chunk's outputs of :meth:`DropSum.evaluate` into ``result`` (``d_c`` and
        ``d_gamma`` without their row factors β and β·c)."""
        a, aq, da, daq = weighted_a
        blk, area, inv_mass, drop, outputs, starts = (self.block, self.area, self.inv_mass, self.drop,
                                                       self.outputs, self.starts)
        # One pass per operation, in place or into a buffer whose values are no longer needed.
        # np.take gathers: a[:, blk] took 2x as long at two rows, 1.25x at one or fifteen.
        x = np.take(a, blk, axis=1)
        x *= area
        spare = np.take(aq, blk, axis=1)
        x -= spare
        x *= inv_mass
        np.maximum(x, 0.0, out=x)
        cx = np.multiply(c, x)
        log_base = np.log1p(cx)
        power_m1 = np.multiply(log_base, -beta)
        np.expm1(power_m1, out=power_m1)  # (1 + cx)^-β − 1
        result["value"][:, outputs] = np.add.reduceat(np.multiply(power_m1, -drop, out=spare), starts, axis=1)
        if "d_beta" not in result:
            return
        weighted = power_m1
        weighted += 1.0
        weighted *= drop  # d·(1 + cx)^-β
        result["d_beta"][:, outputs] = np.add.reduceat(np.multiply(log_base, weighted, out=log_base), starts, axis=1)
        cx += 1.0
        weighted /= cx  # d·(1 + cx)^-(β+1)
        result["d_c"][:, outputs] = np.add.reduceat(np.multiply(x, weighted, out=x), starts, axis=1)
        dx = np.take(da, blk, axis=1, out=cx)
        dx *= area
        dx -= np.take(daq, blk, axis=1, out=spare)
        dx *= inv_mass
        dx *= weighted
        result["d_gamma"][:, outputs] = np.add.reduceat(dx, starts, axis=1)


#: Width of the bands of ln lr whose centres are the Taylor references (|γ·δ| <= 0.375 for γ <= 1.5).
BAND_WIDTH = 0.5


@dataclass(frozen=True)
class _BandMoments:
    """The lr changes sorted by (band of ``ln lr``, step), for block moments by prefix sums.

    The changes of one band inside a step range are a contiguous run of this order, so a
    block's moments are differences of prefix sums, taken only where blocks start and end
    (O(T + parts) time, O(T) memory). Within a band ``|δ| <= BAND_WIDTH/2``, so the prefix
    sums do not lose small blocks to rounding.
    """

    key: np.ndarray
    drop: np.ndarray
    delta: np.ndarray
    start_area: np.ndarray

    @classmethod
    def build(cls, drop: np.ndarray, log_lr: np.ndarray, start_area: np.ndarray) -> _BandMoments:
        where = np.flatnonzero(drop != 0)
        band = np.floor(log_lr[where] / BAND_WIDTH).astype(np.int64)
        order = np.lexsort((where, band))
        where, band = where[order], band[order]
        return cls(key=(band << 40) + where, drop=drop[where],
                   delta=log_lr[where] - (band + 0.5) * BAND_WIDTH, start_area=start_area[where])

    def parts(self, first: np.ndarray, last: np.ndarray, log_lo: np.ndarray,
              log_hi: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The band parts of blocks [first, last) whose changes have ln lr in [log_lo, log_hi]:
        the block of each part, and the parts' fields of :class:`DropSum`."""
        has = np.isfinite(log_lo)
        lo_band = np.where(has, np.floor(np.where(has, log_lo, 0.0) / BAND_WIDTH), 0).astype(np.int64)
        hi_band = np.where(has, np.floor(np.where(has, log_hi, 0.0) / BAND_WIDTH), -1).astype(np.int64)
        count = np.maximum(hi_band - lo_band + 1, 0)
        block = np.repeat(np.arange(first.size), count)
        band = np.repeat(lo_band, count) + _ramp(count)
        start = np.searchsorted(self.key, (band << 40) + first[block])
        stop = np.searchsorted(self.key, (band << 40) + last[block])
        keep = stop > start
        block, band, start, stop = block[keep], band[keep], start[keep], stop[keep]
        centre = (band + 0.5) * BAND_WIDTH
        weight = np.abs(self.drop)
        range_sums = _range_summer(weight.size, start, stop)
        moments = np.empty((2, TAYLOR_TERMS, block.size))
        power = weight.copy()
        for j in range(TAYLOR_TERMS):
            moments[0, j] = range_sums(power)
            moments[1, j] = range_sums(power * self.start_area)
            power *= self.delta
        fields = {
            "drop": range_sums(self.drop),
            "mass": range_sums(weight),
            "log_ref": centre,
            "log_lr_min": np.maximum(log_lo[block], centre - 0.5 * BAND_WIDTH),
            "log_lr_max": np.minimum(log_hi[block], centre + 0.5 * BAND_WIDTH),
            "q_min": self.start_area[start],
            "q_max": self.start_area[stop - 1],
            "moments": moments[0],
            "moments_q": moments[1],
        }
        return block, fields


def _range_summer(size: int, start: np.ndarray, stop: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """A function giving ``values[start[i]:stop[i]].sum()`` for every i (``values`` of length
    ``size``), by prefix sums taken only at the range ends."""
    cuts = np.unique(np.concatenate([[0], start, stop[stop < size]]))
    at_start, at_stop = np.searchsorted(cuts, start), np.searchsorted(cuts, stop)

    def sums(values: np.ndarray) -> np.ndarray:
        if size == 0:  # a schedule without any lr change (constant, no warmup): every range is empty
            return np.zeros(start.size)
        prefix = np.concatenate([[0.0], np.cumsum(np.add.reduceat(values, cuts))])
        return prefix[at_stop] - prefix[at_start]

    return sums


def _ramp(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for each count c, concatenated."""
    return np.arange(counts.sum()) - np.repeat(np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)


def _split_past(steps: np.ndarray, levels: int, per_level: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each output step, aligned blocks covering steps 1..t: ``per_level`` of size 1 next to ``t``,
    then ``per_level`` of each doubling size further back. Returns (output index, level, block)."""
    outs, lvls, blocks = [], [], []
    index = np.arange(steps.size)
    end = steps.copy()  # exclusive end, in 0-based step index (step k is k-1), of what is not yet covered

    def take(level: int, block: np.ndarray, mask: np.ndarray) -> None:
        keep = mask & (block >= 0)
        outs.append(index[keep])
        lvls.append(np.full(int(keep.sum()), level))
        blocks.append(block[keep])

    for i in range(per_level):
        take(0, end - 1 - i, np.ones(steps.size, dtype=bool))
    end = end - per_level
    for level in range(1, levels + 1):
        if not np.any(end > 0):
            break
        half = 1 << (level - 1)
        misaligned = (end > 0) & (end % (2 * half) != 0)
        take(level - 1, end // half - 1, misaligned)
        end = np.where(misaligned, end - half, end)
        for i in range(per_level):
            take(level, end // (2 * half) - 1 - i, end > 0)
        end = end - per_level * 2 * half
    return np.concatenate(outs), np.concatenate(lvls), np.concatenate(blocks)


def _refine(out: np.ndarray, level: np.ndarray, block: np.ndarray, log_hi: list[np.ndarray],
            log_lo: list[np.ndarray], max_log_ratio: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split blocks whose lr varies by more than the allowed ratio (e.g. in a warmup) into their
    halves, so that ``lr^-γ`` is nearly constant inside every block."""
    spans = [np.where(np.isfinite(lo), hi - lo, 0.0) for hi, lo in zip(log_hi, log_lo, strict=True)]
    done: tuple[list, list, list] = ([], [], [])
    while out.size:
        split = (_lookup(spans, level, block) > max_log_ratio) & (level > 0)
        for part, values in zip(done, (out[~split], level[~split], block[~split]), strict=True):
            part.append(values)
        out = np.repeat(out[split], 2)
        block = ((2 * block[split])[:, None] + np.array([0, 1])).ravel()
        level = np.repeat(level[split] - 1, 2)
    return np.concatenate(done[0]), np.concatenate(done[1]), np.concatenate(done[2])


def _lookup(per_level: list[np.ndarray], level: np.ndarray, block: np.ndarray) -> np.ndarray:
    """``per_level[level[i]][block[i]]`` for every i, one gather per level."""
    out = np.empty(level.size)
    for lv in np.unique(level):
        mask = level == lv
        out[mask] = per_level[lv][block[mask]]
    return out


class CurveLaw(Law):
    """Common design handling of the loss-curve laws: per-run lr arrays in, one point per logged loss.

    ``design(runs)`` holds one :class:`Curve` per run in ``inputs["curves"]`` plus the
    law's precomputed per-curve helper in ``inputs["prepared"]``; ``design_at(schedule=...)``
    builds the same for a schedule (every step, or the given ``steps``) and a model size.
    """

    kind = "curve"
    inputs = ("step", "lr")

    def prepare(self, curve: Curve) -> object:
        """Per-curve precomputation that does not depend on the parameters (none by default)."""
        return None

    def design(self, runs: RunSet) -> Design:
        return self._design_of(curves_from_runs(runs, purpose=f"the {self.name} law"))

    def design_at(self, *, schedule: Schedule | str, steps: np.ndarray | str | None = None,
                  params: float | None = None) -> Design:
        """A design to predict the curve of ``schedule`` (a Schedule or a spec) at ``steps``."""
        if isinstance(schedule, str):
            schedule = parse_schedule(schedule)
        size = math.nan if params is None else float(params)
        return self._design_of([curve_from_schedule(schedule, steps=steps, params=size)])

    def _design_of(self, curves: list[Curve]) -> Design:
        return Design(
            inputs={
                "curves": tuple(curves),
                "prepared": tuple(self.prepare(c) for c in curves),
                "step": np.concatenate([c.steps for c in curves]).astype(float),
                "area": np.concatenate([c.prefix[c.steps] for c in curves]),
                "params": np.concatenate([np.full(c.steps.size, c.params) for c in curves]),
            },
            loss=np.concatenate([c.loss for c in curves]),
            run=np.concatenate([np.full(c.steps.size, c.run, dtype=object) for c in curves]),
        )

    def predict(self, theta: np.ndarray, design: Design) -> np.ndarray:
        return self.jacobian(theta, design)[0]

    def scale(self, design: Design) -> dict[str, np.ndarray]:
        out = {"steps": design.inputs["step"]}
        if np.all(np.isfinite(design.inputs["params"])):
            out["params"] = design.inputs["params"]
        return out

    def recorded_ranges(self, design: Design) -> dict[str, tuple[float, float]]:
        """The range of the decays' lengths so far (:func:`decay_steps`) over the fitted checkpoints, if any decayed.

        Not a reach axis: the backtests' trend is measured along steps and would be applied along it (see
        docs/decisions.md); it serves the warning of :meth:`beyond_recorded`."""
        decays = self._decays(design)
        decays = decays[np.isfinite(decays)]
        return {"decay_steps": (float(decays.min()), float(decays.max()))} if decays.size else {}

    def beyond_recorded(self, design: Design, fitted_range: Mapping[str, tuple[float, float]]) -> list[str]:
        """A warning when the forecast's lr decays much longer than any fitted run's did: the law's loss-drop term
        is then extrapolated, and no backtest of these runs measured that error, so the interval leaves it out."""
        if "decay_steps" not in fitted_range:
            return []
        decays = self._decays(design)
        decays = decays[np.isfinite(decays)]
        longest = float(fitted_range["decay_steps"][1])
        if not decays.size or decays.max() <= DECAY_WARNING_RATIO * longest:
            return []
        return [f"the forecast's learning rate decays for {decays.max():,.0f} steps, {decays.max() / longest:.1f}x "
                f"the longest decay in the fitted runs ({longest:,.0f} steps): the law's loss drop is extrapolated "
                "and its interval leaves that error out (no backtest of these runs measured it)"]

    def _decays(self, design: Design) -> np.ndarray:
        curves = design.inputs.get("curves") or ()
        decays = np.concatenate([decay_steps(c) for c in curves]) if curves else np.array([])
        return decays if decays.size == design.n else np.array([])

    def reach(self, design: Design) -> dict[str, np.ndarray]:
        """Scale plus the learning rate at each point: a forecast into an lr decay the fitted
        checkpoints never reached (e.g. from the flat start of a cosine) extrapolates in lr."""
        curves = design.inputs.get("curves")
        if not curves:
            return self.scale(design)
        lr = np.concatenate([np.maximum(c.lr[c.steps], LR_REACH_FLOOR * np.max(c.lr)) for c in curves])
        return {**self.scale(design), "lr": lr} if lr.size == design.n else self.scale(design)
