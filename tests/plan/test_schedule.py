"""Schedule optimisation on the Multi-Power Law with the paper's 25M parameters."""

from __future__ import annotations

import numpy as np
import pytest

from scalelaw.data.schedules import Custom, WarmupStableDecay
from scalelaw.errors import InputError
from scalelaw.laws import get
from scalelaw.plan.schedule import final_loss, optimize_schedule

LAW = get("multi-power", blocks_per_level=4)
PAPER_25M = dict(zip(LAW.param_names, [3.0405, 0.5247, 0.5079, 363.79, 2.0656, 0.5828, 0.6414]))


def test_wsd_search_beats_cosine_and_reports_the_gain() -> None:
    best = optimize_schedule(LAW, PAPER_25M, total=6000, peak=3e-4, warmup=500, final=3e-5)
    assert isinstance(best.schedule, WarmupStableDecay)
    assert best.final_loss == pytest.approx(final_loss(LAW, PAPER_25M, best.schedule))
    assert best.cosine_loss == pytest.approx(final_loss(LAW, PAPER_25M, best.cosine))
    assert best.gain > 0
    assert best.schedule.peak == 3e-4 and best.schedule.total == 6000 and best.schedule.final == 3e-5
    # no decay (a constant lr) is worse than the optimum: the search found a real decay
    constant = WarmupStableDecay(peak=3e-4, total=6000, warmup=500, decay_start=5999, final=3e-5)
    assert best.final_loss < final_loss(LAW, PAPER_25M, constant)


def test_free_form_is_monotone_and_no_worse_than_the_best_wsd() -> None:
    wsd = optimize_schedule(LAW, PAPER_25M, total=4000, peak=3e-4, warmup=300, final=3e-5)
    free = optimize_schedule(LAW, PAPER_25M, total=4000, peak=3e-4, warmup=300, final=3e-5, family="free", knots=5)
    assert free.final_loss <= wsd.final_loss + 1e-12
    lr = free.schedule.per_step()
    assert np.all(np.diff(lr[300:]) <= 1e-15)
    assert lr[-1] == pytest.approx(3e-5)
    assert isinstance(free.schedule, (Custom, WarmupStableDecay))


def test_bad_requests_are_input_errors() -> None:
    with pytest.raises(InputError, match="unknown schedule family"):
        optimize_schedule(LAW, PAPER_25M, total=1000, peak=3e-4, family="zigzag")
    with pytest.raises(InputError, match="loss-curve law"):
        optimize_schedule(get("chinchilla"), {}, total=1000, peak=3e-4)
