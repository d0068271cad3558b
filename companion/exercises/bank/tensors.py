"""Exercises of chapter chap-tensors: voxel <-> world coordinates, strides, kernel extent, memory."""

from __future__ import annotations

import numpy as np

from companion import geometry
from companion.exercises._engine import Exercise, Misconception, register


def _world_params(rng: np.random.Generator) -> dict:
    return {
        "index": tuple(int(v) for v in rng.integers([3, 10, 10], [60, 500, 500])),
        "spacing": (float(rng.choice([1.25, 2.5, 3.0, 5.0])), round(float(rng.uniform(0.5, 0.95)), 3),
                    round(float(rng.uniform(0.5, 0.95)), 3)),
        "origin": tuple(round(float(v), 1) for v in rng.uniform(-250, 50, size=3)),
    }


def _world(p: dict) -> np.ndarray:
    return geometry.index_to_world(p["index"], p["spacing"], p["origin"])


register(Exercise(
    id="tensors.world-coordinate",
    title="World coordinate of a voxel",
    prompt=("A CT volume is stored as an array indexed (d, h, w) with spacing (s_d, s_h, s_w) = "
            "{spacing} mm, origin (x, y, z) = {origin} mm and the identity direction matrix. "
            "Give the world position (x, y, z), in mm, of the centre of voxel (d, h, w) = {index}, "
            "as a list of three numbers."),
    make_params=_world_params,
    solve=_world,
    kind="array",
    atol=1e-3,
    rtol=1e-6,
    unit="mm",
    hint="x goes with the w index and s_w, z with the d index and s_d.",
    quiz_format=lambda p, ref: ("What is its z coordinate (mm)?", float(ref[2])),
    misconceptions=(
        Misconception("array-order", lambda p: np.asarray(p["origin"]) + np.asarray(p["index"]) * np.asarray(p["spacing"]),
                      "You paired the index (d, h, w) with (x, y, z) in the same order: the array order is the "
                      "reverse of the world order (w goes with x)."),
        Misconception("no-origin", lambda p: _world(p) - np.asarray(p["origin"]),
                      "You forgot to add the origin: voxel (0, 0, 0) sits at the origin, not at (0, 0, 0) mm."),
        Misconception("no-spacing", lambda p: np.asarray(p["origin"]) + np.asarray(p["index"][::-1], dtype=float),
                      "You added voxel counts to millimetres: multiply each index by its spacing first."),
    ),
))


def _index_params(rng: np.random.Generator) -> dict:
    p = _world_params(rng)
    p["point"] = tuple(round(float(v), 2) for v in _world(p))
    return p


def _index(p: dict) -> np.ndarray:
    return np.rint(geometry.world_to_index(p["point"], p["spacing"], p["origin"]))


register(Exercise(
    id="tensors.world-to-index",
    title="Index of a world point",
    prompt=("A volume has spacing (s_d, s_h, s_w) = {spacing} mm, origin (x, y, z) = {origin} mm and the "
            "identity direction. Which voxel (d, h, w) contains the world point (x, y, z) = {point} mm? "
            "Give three integers (round to the nearest voxel centre)."),
    make_params=_index_params,
    solve=_index,
    kind="array",
    integer=True,
    rtol=0.0,
    atol=0.01,
    hint="Subtract the origin, divide by the spacing, and reorder (x, y, z) into (d, h, w).",
    quiz_format=lambda p, ref: ("What is its slice index d?", float(ref[0])),
    misconceptions=(
        Misconception("xyz-order", lambda p: _index(p)[::-1],
                      "Your indices are in (w, h, d) order: the array is indexed (d, h, w), the reverse of (x, y, z)."),
        Misconception("no-origin", lambda p: np.rint(np.asarray(p["point"])[::-1] / np.asarray(p["spacing"])),
                      "Subtract the origin before dividing by the spacing."),
    ),
))


def _stride_params(rng: np.random.Generator) -> dict:
    shape = (int(rng.integers(1, 5)), int(rng.choice([1, 2, 4, 8, 16, 32])), int(rng.integers(16, 97)),
             int(rng.integers(32, 257)), int(rng.integers(32, 257)))
    return {"shape": shape, "layout": str(rng.choice(["channels-first", "channels-last"])),
            "axis": str(rng.choice(["C", "D", "H"])), "dtype": str(rng.choice(["float32", "float16"]))}


_AXIS = {"N": 0, "C": 1, "D": 2, "H": 3, "W": 4}


def _strides(p: dict, layout: str, itemsize: int) -> tuple[int, ...]:
    f = geometry.contiguous_strides if layout == "channels-first" else geometry.channels_last_strides
    return f(p["shape"], itemsize)


def _other(layout: str) -> str:
    return "channels-last" if layout == "channels-first" else "channels-first"


register(Exercise(
    id="tensors.byte-stride",
    title="Byte stride of an axis",
    prompt=("A {dtype} tensor of logical shape (N, C, D, H, W) = {shape} is stored {layout} "
            "(channels-first: memory order N, C, D, H, W; channels-last: N, D, H, W, C). "
            "How many bytes apart in memory are two elements that differ by one step along axis {axis}?"),
    make_params=_stride_params,
    solve=lambda p: _strides(p, p["layout"], np.dtype(p["dtype"]).itemsize)[_AXIS[p["axis"]]],
    integer=True,
    rtol=0.0,
    atol=0.5,
    unit="bytes",
    hint="The stride of an axis is the product of the sizes of the axes stored after it in memory, times the item size.",
    misconceptions=(
        Misconception("elements", lambda p: _strides(p, p["layout"], 1)[_AXIS[p["axis"]]],
                      "That is the stride in elements; the question asks for bytes (multiply by the item size)."),
        Misconception("other-layout", lambda p: _strides(p, _other(p["layout"]), np.dtype(p["dtype"]).itemsize)[_AXIS[p["axis"]]],
                      "That is the stride in the other memory layout: check where C sits in memory."),
        Misconception("float32-always", lambda p: _strides(p, p["layout"], 4)[_AXIS[p["axis"]]],
                      "Check the item size of the dtype: float16 takes 2 bytes, float32 takes 4."),
    ),
))


def _extent_params(rng: np.random.Generator) -> dict:
    return {"k": int(rng.choice([3, 5, 7])), "dilation": int(rng.choice([1, 1, 2, 3])),
            "spacing": (float(rng.choice([2.5, 3.0, 5.0, 6.0])), round(float(rng.uniform(0.6, 0.9)), 2),
                        round(float(rng.uniform(0.6, 0.9)), 2))}


def _extent(p: dict) -> float:
    return float(geometry.kernel_extent(p["k"], p["spacing"], p["dilation"])[0])


register(Exercise(
    id="tensors.kernel-extent",
    title="Physical extent of a kernel",
    prompt=("A {k}×{k}×{k} convolution kernel with dilation {dilation} runs over a CT volume of spacing "
            "(s_d, s_h, s_w) = {spacing} mm. How many millimetres along the slice axis d does the block of "
            "voxels it covers span (count whole voxels, each s_d thick)?"),
    make_params=_extent_params,
    solve=_extent,
    rtol=1e-6,
    atol=1e-6,
    unit="mm",
    hint="A dilated kernel spans d(k-1)+1 voxels; each voxel is s_d mm thick along d.",
    misconceptions=(
        Misconception("centres", lambda p: p["dilation"] * (p["k"] - 1) * p["spacing"][0],
                      "That is the distance between the centres of the outermost taps; the block of voxels is one voxel thicker."),
        Misconception("in-plane", lambda p: float(geometry.kernel_extent(p["k"], p["spacing"], p["dilation"])[2]),
                      "That is the extent along w, in-plane; the slice axis d has the (larger) slice spacing s_d."),
        Misconception("no-dilation", lambda p: p["k"] * p["spacing"][0],
                      "You ignored the dilation: a dilated kernel spreads its taps d voxels apart."),
    ),
))


def _memory_params(rng: np.random.Generator) -> dict:
    return {"shape": (int(rng.integers(1, 3)), int(rng.choice([16, 32, 64])), int(rng.integers(64, 161)),
                      int(rng.choice([128, 192, 256])), int(rng.choice([128, 192, 256]))),
            "dtype": str(rng.choice(["float32", "float16"]))}


_MIB = 2 ** 20


register(Exercise(
    id="tensors.memory",
    title="Memory of a tensor",
    prompt=("A 3-D U-Net layer outputs an activation tensor of shape (N, C, D, H, W) = {shape} in {dtype}. "
            "How much memory does it take, in MiB (1 MiB = 2^20 bytes)?"),
    make_params=_memory_params,
    solve=lambda p: geometry.tensor_nbytes(p["shape"], np.dtype(p["dtype"])) / _MIB,
    rtol=1e-3,
    unit="MiB",
    hint="Multiply all five sizes and the bytes per element, then divide by 2^20.",
    misconceptions=(
        Misconception("megabytes", lambda p: geometry.tensor_nbytes(p["shape"], np.dtype(p["dtype"])) / 1e6,
                      "You divided by 10^6 (MB); a MiB is 2^20 = 1,048,576 bytes."),
        Misconception("elements", lambda p: geometry.tensor_nbytes(p["shape"], 1) / _MIB,
                      "You counted elements, not bytes: multiply by the item size."),
        Misconception("float32-always", lambda p: geometry.tensor_nbytes(p["shape"], 4) / _MIB,
                      "Check the item size of the dtype: float16 takes 2 bytes per element."),
        Misconception("no-channels", lambda p: geometry.tensor_nbytes(p["shape"][:1] + p["shape"][2:], np.dtype(p["dtype"])) / _MIB,
                      "You left out the channel axis: every channel is a full volume."),
    ),
))
