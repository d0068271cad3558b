"""Exercises whose answer is a formula answer without PyTorch; those that need it say so.

Run in a fresh interpreter in which importing torch fails, as on a reader's machine without it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Exercises about a model that has to be run (autograd through a CNN, a trained network):
NEEDS_TORCH = {"xai.occlusion-linear", "layer.erf-measure"}
CODE = """
import importlib.abc, json, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ModuleNotFoundError("No module named 'torch'", name="torch")
sys.meta_path.insert(0, Block())
from companion.exercises import EXERCISES, answer, check
out = {}
for i, e in EXERCISES.items():
    try:
        ref = answer(i)
        out[i] = ["ok", check(i, ref).correct]
    except Exception as exc:
        out[i] = ["needs", check(i, 1.0).message]
print(json.dumps(out))
"""


def test_formula_exercises_answer_without_torch_and_the_others_say_they_need_it():
    done = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    needing = {i for i, (status, _) in result.items() if status == "needs"}
    assert needing <= NEEDS_TORCH, f"answer needs torch for formula exercises: {sorted(needing - NEEDS_TORCH)}"
    assert all(ok for status, ok in result.values() if status == "ok")
    for i in needing:
        assert "needs PyTorch" in result[i][1] and "not judged" in result[i][1], result[i][1]
