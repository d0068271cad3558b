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


# ---------------------------------------------------------------------------------------------
# tensors.pixel-spacing: PixelSpacing is (row, column)
# ---------------------------------------------------------------------------------------------

def _ps_params(rng: np.random.Generator) -> dict:
    for _ in range(1000):  # a bounded redraw: a bank that never accepts fails its tests
        ps = (round(float(rng.uniform(0.4, 0.9)), 3), round(float(rng.uniform(0.4, 0.9)), 3))
        p = {"ps": ps, "origin": tuple(round(float(v), 1) for v in rng.uniform(-250, 0, size=3)),
             "row": int(rng.integers(20, 500)), "col": int(rng.integers(20, 500))}
        values = [_ps_solve(p), _ps_swapped_spacing(p), _ps_swapped_index(p)]
        if abs(ps[0] - ps[1]) > 0.1 and p["row"] != p["col"] and \
                min(abs(a - b) for i, a in enumerate(values) for b in values[i + 1:]) > 1.0:
            return p
    raise RuntimeError("redraw: no acceptable parameters in 1000 draws")


def _ps_world(p: dict, pixel_spacing, row: int, col: int) -> np.ndarray:
    s, o, d = geometry.geometry_from_dicom(pixel_spacing, p["origin"], [1, 0, 0, 0, 1, 0])
    return geometry.index_to_world([0, row, col], s, o, d)


def _ps_solve(p: dict) -> float:
    return float(_ps_world(p, p["ps"], p["row"], p["col"])[0])


def _ps_swapped_spacing(p: dict) -> float:
    return float(_ps_world(p, p["ps"][::-1], p["row"], p["col"])[0])


def _ps_swapped_index(p: dict) -> float:
    return float(_ps_world(p, p["ps"], p["col"], p["row"])[0])


register(Exercise(
    id="tensors.pixel-spacing",
    title="PixelSpacing is (row, column)",
    prompt=("A DICOM CT slice has PixelSpacing = [{ps[0]}, {ps[1]}], ImageOrientationPatient = "
            "[1, 0, 0, 0, 1, 0] and ImagePositionPatient = {origin} (mm, LPS+). Its pixel array is "
            "indexed [row, column]. What is the world x coordinate (mm) of the centre of the pixel in "
            "row {row}, column {col}?"),
    make_params=_ps_params,
    solve=_ps_solve,
    rtol=1e-6,
    atol=1e-3,
    unit="mm",
    hint=("The first orientation vector is the direction in which the column index grows; "
          "PixelSpacing[0] is the distance between rows, PixelSpacing[1] between columns."),
    misconceptions=(
        Misconception("xy-spacing", _ps_swapped_spacing,
                      "You read PixelSpacing as (x, y). It is [row spacing, column spacing]: a step to the "
                      "next column moves PixelSpacing[1] mm along the row direction."),
        Misconception("row-is-x", _ps_swapped_index,
                      "You moved along x by the row index. With this orientation x grows with the column "
                      "index (the first orientation vector is the direction along a row)."),
    ),
))


# ---------------------------------------------------------------------------------------------
# tensors.lps-to-ras
# ---------------------------------------------------------------------------------------------

def _lr_params(rng: np.random.Generator) -> dict:
    for _ in range(1000):  # a bounded redraw: a bank that never accepts fails its tests
        point = tuple(round(float(v), 1) for v in rng.uniform(-150, 150, size=3))
        if min(abs(v) for v in point) > 5:
            return {"point": point}
    raise RuntimeError("redraw: no acceptable parameters in 1000 draws")


register(Exercise(
    id="tensors.lps-to-ras",
    title="From DICOM's LPS+ to NIfTI's RAS+",
    prompt=("A DICOM viewer (world frame LPS+) shows the centre of a lesion at (x, y, z) = {point} mm. "
            "You want to mark the same physical point in a NIfTI-based tool (world frame RAS+). Give its "
            "RAS+ coordinates (x, y, z) in mm, as a list of three numbers."),
    make_params=_lr_params,
    solve=lambda p: geometry.lps_ras_flip(np.asarray(p["point"], dtype=float)),
    kind="array",
    rtol=0.0,
    atol=1e-3,
    unit="mm",
    hint="LPS+ has +x to the patient's left and +y posterior; RAS+ has +x right and +y anterior; z is shared.",
    quiz_format=lambda p, ref: ("What is its RAS+ y coordinate (mm)?", float(ref[1])),
    misconceptions=(
        Misconception("no-flip", lambda p: np.asarray(p["point"], dtype=float),
                      "You kept the coordinates: the two frames differ, and the point would land on the "
                      "other side of the patient. x and y change sign."),
        Misconception("flip-all", lambda p: -np.asarray(p["point"], dtype=float),
                      "z is superior in both frames: only x and y change sign."),
        Misconception("flip-x-only", lambda p: np.asarray(p["point"], dtype=float) * [-1, 1, 1],
                      "Both x (left vs right) and y (posterior vs anterior) change sign."),
    ),
))


# ---------------------------------------------------------------------------------------------
# tensors.oblique
# ---------------------------------------------------------------------------------------------

def _ob_params(rng: np.random.Generator) -> dict:
    p = _world_params(rng)
    p["angle"] = int(rng.choice([10, 15, 20, 25, 30, 35]))
    return p


def _ob_direction(p: dict) -> np.ndarray:
    t = np.radians(p["angle"])
    return np.array([[np.cos(t), -np.sin(t), 0.0], [np.sin(t), np.cos(t), 0.0], [0.0, 0.0, 1.0]])


def _ob_solve(p: dict) -> np.ndarray:
    return geometry.index_to_world(p["index"], p["spacing"], p["origin"], _ob_direction(p))


register(Exercise(
    id="tensors.oblique",
    title="World coordinate on an oblique grid",
    prompt=("An oblique acquisition is rotated by {angle}° about the z axis: its direction matrix (columns: "
            "the world directions of the w, h and d axes) is D = [[cos a, -sin a, 0], [sin a, cos a, 0], "
            "[0, 0, 1]] with a = {angle}°. The spacing is (s_d, s_h, s_w) = {spacing} mm and the origin "
            "(x, y, z) = {origin} mm. Give the world position (x, y, z), in mm, of the centre of voxel "
            "(d, h, w) = {index}, as a list of three numbers."),
    make_params=_ob_params,
    solve=_ob_solve,
    kind="array",
    atol=1e-3,
    rtol=1e-6,
    unit="mm",
    hint="p = origin + D @ (w s_w, h s_h, d s_d): scale the index in (w, h, d) order, then rotate.",
    quiz_format=lambda p, ref: ("What is its x coordinate (mm)?", float(ref[0])),
    misconceptions=(
        Misconception("no-direction", lambda p: geometry.index_to_world(p["index"], p["spacing"], p["origin"]),
                      "You left out the direction matrix: on an oblique grid the w and h axes are rotated, "
                      "so a step along w moves in x and y."),
        Misconception("transposed", lambda p: geometry.index_to_world(p["index"], p["spacing"], p["origin"],
                                                                     _ob_direction(p).T),
                      "You used the rows of D as the axis directions: its columns are the directions of w, h, d."),
        Misconception("array-order", lambda p: np.asarray(p["origin"]) + _ob_direction(p)
                      @ (np.asarray(p["index"]) * np.asarray(p["spacing"])),
                      "You multiplied D with (d s_d, h s_h, w s_w): the vector is in (w, h, d) order, the reverse "
                      "of the array's index order."),
    ),
))


# ---------------------------------------------------------------------------------------------
# tensors.slice-spacing (choose and justify)
# ---------------------------------------------------------------------------------------------

SPACING_CHOICES = (
    "SliceThickness: it is the distance from one slice to the next",
    "the difference of adjacent ImagePositionPatient values, projected on the slice normal, after sorting",
    "the difference of adjacent InstanceNumber values times SliceThickness",
    "SliceThickness plus the gap between slices, read from SpacingBetweenSlices if present",
)


def _ss_params(rng: np.random.Generator) -> dict:
    thickness = float(rng.choice([1.0, 1.25, 2.5, 3.0, 5.0]))
    factor = float(rng.choice([0.5, 0.8, 1.5, 2.0]))
    z0 = round(float(rng.uniform(-200, 100)), 2)
    spacing = thickness * factor
    zs = [round(z0 - k * spacing, 3) for k in range(4)]
    order = rng.permutation(4)
    return {"thickness": thickness, "z": [zs[i] for i in order], "instances": [int(i) + 1 for i in order]}


register(Exercise(
    id="tensors.slice-spacing",
    title="Which slice spacing? (choose and justify)",
    prompt=("Four files of an axial CT series (ImageOrientationPatient [1, 0, 0, 0, 1, 0]) have "
            "SliceThickness {thickness} mm, InstanceNumber {instances} and ImagePositionPatient z = {z} mm "
            "(x and y equal). Before resampling the stacked volume you need its slice spacing s_d. Where "
            "does it come from? Choose one, then compute it for these files."),
    make_params=_ss_params,
    solve=lambda p: SPACING_CHOICES[1],
    kind="choice",
    choices=SPACING_CHOICES,
    hint=("Sort the slices by their position along the normal and compare the gaps with SliceThickness: "
          "slices may overlap or leave gaps."),
    misconceptions=(
        Misconception("thickness", lambda p: SPACING_CHOICES[0],
                      "SliceThickness is how thick a slab of patient each slice averages; the slices can "
                      "overlap (closer than their thickness) or leave gaps. Here, compare it with the z gaps."),
        Misconception("instance-number", lambda p: SPACING_CHOICES[2],
                      "InstanceNumber is only a label the scanner gives each image; it says neither where a "
                      "slice is nor how far apart two slices are (series can skip numbers)."),
        Misconception("spacing-tag", lambda p: SPACING_CHOICES[3],
                      "SpacingBetweenSlices is optional and inconsistently used by vendors; the positions "
                      "are the geometry itself. Use them, and check that the gaps are even."),
    ),
))


# ---------------------------------------------------------------------------------------------
# tensors.resample-extent (run it and measure)
# ---------------------------------------------------------------------------------------------

def _re_masks(p: dict) -> tuple[np.ndarray, np.ndarray]:
    from companion.data import phantom_3d

    _, mask, sp = phantom_3d((16, 64, 64), (p["s_d"], 1.0, 1.0), n_lesions=1, seed=p["seed"])
    iso = geometry.resample(mask.astype(np.float32), sp, (1.0, 1.0, 1.0)) > 0.5
    return mask, iso


def _extent_d(m: np.ndarray) -> int:
    return int(np.ptp(np.nonzero(m)[0])) + 1


def _re_solve(p: dict) -> int:
    return _extent_d(_re_masks(p)[1])


def _re_params(rng: np.random.Generator) -> dict:
    for _ in range(100):
        p = {"s_d": float(rng.choice([2.0, 3.0, 4.0, 5.0])), "seed": int(rng.integers(0, 1000))}
        mask, iso = _re_masks(p)
        values = [_extent_d(iso), _extent_d(mask), _extent_d(mask) * p["s_d"]]
        if _extent_d(mask) >= 2 and len(set(values)) == 3:
            return p
    return {"s_d": 4.0, "seed": 3}


register(Exercise(
    id="tensors.resample-extent",
    kind="experiment",  # run the chapter's experiment with your settings
    title="Run the resampling experiment with your own spacing",
    prompt=("Repeat the chapter's resampling experiment with your own numbers: "
            "ph, mask, sp = phantom_3d((16, 64, 64), ({s_d}, 1.0, 1.0), n_lesions=1, seed={seed}); resample "
            "the mask to 1 mm isotropic spacing with resample(mask.astype(np.float32), sp, (1.0, 1.0, 1.0)) "
            "> 0.5. How many voxels long is the lesion along the slice axis d after resampling (from its "
            "first to its last voxel, inclusive)?"),
    make_params=_re_params,
    solve=_re_solve,
    integer=True,
    rtol=0.0,
    atol=0.5,
    unit="voxels",
    hint="np.nonzero(iso)[0] lists the d index of every lesion voxel: take max - min + 1.",
    misconceptions=(
        Misconception("before-resampling", lambda p: _extent_d(_re_masks(p)[0]),
                      "That is the extent before resampling, in voxels of the coarse grid; resample first."),
        Misconception("slices-times-spacing", lambda p: _extent_d(_re_masks(p)[0]) * p["s_d"],
                      "That is the number of coarse slices times their spacing: after resampling, count "
                      "the 1 mm voxels; interpolation between the slices changes the count."),
    ),
))
