"""The benchmark's arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from avatar.bench.stats import core_count, percentile, ratio


def test_percentile_interpolates_like_numpy():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile(np.array([5.0]), 95) == 5.0
    assert percentile([], 50) == 0.0


def test_a_ratio_has_three_decimals_and_none_over_zero():
    assert ratio(2.0, 3.0) == 0.667
    assert ratio(1.0, 0.0) is None


def test_the_cores_are_the_ones_this_process_may_use():
    assert 1 <= core_count()
