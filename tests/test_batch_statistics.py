"""companion.batch_statistics: the batch-statistics theory, moved out of companion.normalization.

The numerical tests of smoothed_noise, batch_statistics_theory, effective_sample_size,
sample_patches and train_eval_gap stay in tests/test_normalization.py (against scipy, a Monte
Carlo estimate and torch's BatchNorm3d), which imports them through the old names; here: the old
names are the same objects, and the module imports with nothing but NumPy and SciPy.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import companion.batch_statistics as bs
import companion.normalization as norm

MOVED = ("smoothed_noise", "effective_sample_size", "BatchStatTheory", "batch_statistics_theory",
         "sample_patches", "TrainEvalGap", "train_eval_gap")


@pytest.mark.parametrize("name", MOVED)
def test_old_names_are_the_moved_objects(name):
    assert getattr(norm, name) is getattr(bs, name)
    assert name in bs.__all__ and name in norm.__all__


def test_unknown_name_still_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        norm.nothing  # noqa: B018


@pytest.mark.parametrize("first", ["companion.batch_statistics", "companion.normalization"])
def test_either_module_imports_first(first):
    """No import cycle: whichever of the two modules is imported first, both work."""
    code = (f"import {first}; from companion.normalization import effective_sample_size, BatchNorm; "
            "from companion.batch_statistics import train_eval_gap; print(effective_sample_size((4, 4), 0.0))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "16.0"
