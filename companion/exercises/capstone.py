"""The capstone: design a 3-D U-Net for a stated clinical volume, and have the design checked.

Each learner gets their own requirements (:func:`capstone_requirements`): a CT volume's voxel
spacing and size, a GPU memory budget, a minimum receptive field in millimetres, a minimum batch
size and the number of classes. The learner submits a design, a small dict::

    design = {
        "depth": 5,                                   # number of down-sampling steps
        "base_channels": 32,                          # channels of the first stage (doubling, cap 320)
        "kernels": [(1, 3, 3), (1, 3, 3), 3, 3, 3, 3],  # depth + 1 stages: int or (k_d, k_h, k_w)
        "pools": [(1, 2, 2), (1, 2, 2), 2, 2, 2],     # depth steps: int or (p_d, p_h, p_w)
        "patch_size": (48, 192, 192),                 # (D, H, W) voxels
        "batch_size": 2,
    }

and :func:`capstone_check` computes, with :mod:`companion.unet`, its parameters, the memory its
training step needs, its receptive field in mm, whether the patch divides by the poolings and
whether the first stages respect the voxels' anisotropy, and says which requirement fails and
by how much. It never raises.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

from companion.exercises._engine import Feedback
from companion.unet import (
    anisotropy_violations,
    make_plan,
    patch_divisible,
    plan_activation_bytes,
    plan_parameters,
    plan_receptive_field,
)

__all__ = ["capstone_requirements", "capstone_check", "capstone_report", "REQUIRED_KEYS"]

REQUIRED_KEYS = ("depth", "base_channels", "kernels", "pools", "patch_size", "batch_size")
GIB = 2**30


def capstone_requirements(*, learner: str = "") -> dict:
    """The learner's clinical task: a dict of the requirements the design must meet.

    Keys: ``spacing`` (mm, (s_d, s_h, s_w)), ``volume`` (voxels, (D, H, W)), ``budget_gib`` (GPU
    memory for one training step), ``min_rf_mm`` (receptive field of a bottleneck voxel, in-plane
    and through-plane), ``min_batch``, ``in_channels``, ``n_classes``, ``task`` (a sentence).
    The same learner always gets the same requirements.
    """
    digest = hashlib.sha256(f"capstone\x00{learner}".encode("utf-8")).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    s_d = float(rng.choice([2.5, 3.0, 4.0, 5.0]))
    s_hw = float(rng.choice([0.6, 0.7, 0.8, 0.9]))
    depth_vox = int(rng.integers(60, 140))
    organ, n_classes = [("the liver and liver tumours", 3), ("the pancreas and its tumours", 3),
                        ("both kidneys and kidney tumours", 3), ("lung nodules", 2)][int(rng.integers(0, 4))]
    return {
        "task": (f"Segment {organ} in contrast-enhanced abdominal CT: {depth_vox} slices of 512 × 512 voxels, "
                 f"{s_hw} × {s_hw} mm in-plane, {s_d} mm apart."),
        "spacing": (s_d, s_hw, s_hw),
        "volume": (depth_vox, 512, 512),
        "budget_gib": float(rng.choice([8.0, 10.0, 12.0, 16.0])),
        "min_rf_mm": {"in_plane": float(rng.choice([120, 150, 180])), "through_plane": float(rng.choice([60, 80, 100]))},
        "min_batch": 2,
        "in_channels": 1,
        "n_classes": n_classes,
    }


def _int(v: Any, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise _Bad(f"`{name}` should be a whole number, got {v!r}.")
    return int(v)


class _Bad(Exception):
    """A design that cannot be read; the message goes to the learner."""


def _read(design: Any):
    if not isinstance(design, dict):
        raise _Bad(f"Expected the design as a dict with the keys {', '.join(REQUIRED_KEYS)}; "
                   f"got {type(design).__name__}.")
    missing = [k for k in REQUIRED_KEYS if k not in design]
    if missing:
        raise _Bad(f"The design lacks {', '.join(repr(k) for k in missing)}.")
    depth = _int(design["depth"], "depth")
    if not 1 <= depth <= 8:
        raise _Bad(f"`depth` (the number of down-sampling steps) should be 1 to 8, got {depth}.")
    base = _int(design["base_channels"], "base_channels")
    if not 1 <= base <= 512:
        raise _Bad(f"`base_channels` should be 1 to 512, got {base}.")
    try:
        kernels, pools = list(design["kernels"]), list(design["pools"])
    except TypeError:
        raise _Bad("`kernels` and `pools` should be lists (one entry per stage / per down-sampling step).") from None
    if len(kernels) != depth + 1:
        raise _Bad(f"`kernels` needs depth + 1 = {depth + 1} entries (one per stage, the bottleneck included), "
                   f"got {len(kernels)}.")
    if len(pools) != depth:
        raise _Bad(f"`pools` needs depth = {depth} entries (one per down-sampling step), got {len(pools)}.")
    for name, seq in (("kernels", kernels), ("pools", pools)):
        for i, v in enumerate(seq):
            vals = (v,) if isinstance(v, (int, np.integer)) and not isinstance(v, bool) else v
            try:
                vals = tuple(vals)
            except TypeError:
                raise _Bad(f"`{name}[{i}]` should be an int or a tuple (d, h, w), got {v!r}.") from None
            if len(vals) not in (1, 3) or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                                                  and 1 <= a <= 7 for a in vals):
                raise _Bad(f"`{name}[{i}]` should be an int or three ints from 1 to 7, got {v!r}.")
    try:
        patch = tuple(design["patch_size"])
    except TypeError:
        raise _Bad(f"`patch_size` should be three ints (D, H, W), got {design['patch_size']!r}.") from None
    if len(patch) != 3 or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) and a >= 1
                                  for a in patch):
        raise _Bad(f"`patch_size` should be three positive ints (D, H, W), got {design['patch_size']!r}.")
    batch = _int(design["batch_size"], "batch_size")
    if batch < 1:
        raise _Bad(f"`batch_size` should be at least 1, got {batch}.")
    norm = lambda v: int(v) if isinstance(v, (int, np.integer)) else tuple(int(a) for a in v)  # noqa: E731
    plan = make_plan([norm(k) for k in kernels], [norm(p) for p in pools], base)
    return plan, tuple(int(a) for a in patch), batch


def capstone_report(design: Any, *, learner: str = "") -> dict:
    """The numbers the checker computes for a design (raises ValueError on a design it cannot read).

    Returns a dict: ``parameters``, ``memory_gib`` (activations for the batch, plus weights,
    gradients and Adam's moments), ``rf_mm`` (d, h, w), ``problems`` (a list of sentences, empty
    when every requirement is met).
    """
    req = capstone_requirements(learner=learner)
    try:
        plan, patch, batch = _read(design)
    except _Bad as bad:
        raise ValueError(f"design: {bad}") from None
    params = plan_parameters(plan, req["in_channels"], req["n_classes"])
    memory = (plan_activation_bytes(plan, patch, batch) + 16 * params) / GIB
    rf = plan_receptive_field(plan)
    rf_mm = tuple(r * s for r, s in zip(rf, req["spacing"]))
    problems = []
    for line in patch_divisible(plan, patch):
        problems.append(f"Divisibility: {line}; every pooling must divide it exactly.")
    for axis, (p, v) in enumerate(zip(patch, req["volume"])):
        if p > v:
            problems.append(f"Patch: axis {axis} is {p} voxels, but the volume has only {v}.")
    if memory > req["budget_gib"]:
        problems.append(f"Memory: one training step needs about {memory:.1f} GiB, {memory / req['budget_gib']:.1f}× "
                        f"the {req['budget_gib']:g} GiB budget (smaller patch, fewer channels or a smaller batch).")
    if batch < req["min_batch"]:
        problems.append(f"Batch: {batch} patch(es) per step; at least {req['min_batch']} are required "
                        "(batch statistics from a single patch are too noisy).")
    need_in, need_z = req["min_rf_mm"]["in_plane"], req["min_rf_mm"]["through_plane"]
    in_plane = min(rf_mm[1], rf_mm[2])
    if in_plane < need_in:
        problems.append(f"Receptive field: {in_plane:.0f} mm in-plane, short of the {need_in:g} mm required "
                        f"by {need_in - in_plane:.0f} mm (more stages or larger kernels).")
    if rf_mm[0] < need_z:
        problems.append(f"Receptive field: {rf_mm[0]:.0f} mm through-plane, short of the {need_z:g} mm required "
                        f"by {need_z - rf_mm[0]:.0f} mm.")
    for line in anisotropy_violations(plan, req["spacing"]):
        problems.append(f"Anisotropy: {line}.")
    return {"parameters": params, "memory_gib": memory, "rf_mm": rf_mm, "problems": problems}


def capstone_check(design: Any, *, learner: str = "") -> Feedback:
    """Judge a 3-D U-Net design against the learner's requirements; never raises.

    Parameters
    ----------
    design : dict
        Keys ``depth``, ``base_channels``, ``kernels`` (depth + 1 entries), ``pools`` (depth
        entries), ``patch_size`` (D, H, W) and ``batch_size``; see the module docstring.
    learner : str
        The learner's name (the requirements are theirs: :func:`capstone_requirements`).

    Returns
    -------
    Feedback
        ``correct`` when every requirement is met; the message gives the design's numbers and,
        for each failing requirement, what fails and by how much.

    Examples
    --------
    >>> capstone_check({"depth": 2}).correct
    False
    """
    try:
        try:
            report = capstone_report(design, learner=learner)
        except ValueError as exc:
            return Feedback(False, str(exc).removeprefix("design: "))
        rf = ", ".join(f"{v:.0f}" for v in report["rf_mm"])
        summary = (f"Your design: {report['parameters']:,} parameters, about {report['memory_gib']:.1f} GiB per "
                   f"training step, receptive field ({rf}) mm.")
        if report["problems"]:
            return Feedback(False, summary + "\n" + "\n".join(f"- {p}" for p in report["problems"]))
        return Feedback(True, summary + " Every requirement is met.")
    except Exception as exc:  # never raise at a learner
        return Feedback(False, f"Could not check this design ({type(exc).__name__}). Is it a dict as described?")


def _example_design(learner: str = "") -> dict:
    """A design that meets the learner's requirements, found by a small search (for solutions/tests)."""
    req = capstone_requirements(learner=learner)
    s_d, s_hw = req["spacing"][0], req["spacing"][1]
    for depth in (5, 6, 4):
        kernels, pools, sp = [], [], [s_d, s_hw]
        for s in range(depth + 1):
            aniso = sp[0] > 2 * sp[1]
            kernels.append((1, 3, 3) if aniso else 3)
            if s < depth:
                pz = 1 if aniso else 2
                pools.append((pz, 2, 2))
                sp = [sp[0] * pz, sp[1] * 2]
        z_mult = math.prod(p[0] if isinstance(p, tuple) else p for p in pools)
        for base in (32, 24, 16):
            for hw in (192, 160, 128, 256):
                for d in range(req["volume"][0] // z_mult * z_mult, 0, -z_mult):
                    design = {"depth": depth, "base_channels": base, "kernels": kernels, "pools": pools,
                              "patch_size": (d, hw, hw), "batch_size": req["min_batch"]}
                    if not capstone_report(design, learner=learner)["problems"]:
                        return design
    raise RuntimeError("no design found")  # pragma: no cover - the tests check every requirement set
