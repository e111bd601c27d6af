"""Landmark-guided face warping: move MediaPipe landmarks, drag the pixels along.

The core under the portrait avatar (avatar/portrait.py builds its per-control displacement
bases with it) and under tools/make_clips.py, which turns one real photo into clips with known
expression timelines. cv2 and numpy only: the landmarks come from avatar/face.py. The warp is piecewise-affine on a Delaunay triangulation of
the face landmarks plus fixed anchors (a ring around the face and the image border), so:

* it is exact at every landmark (a landmark moved by d is found d away in the output),
* the background outside the ring never moves, whatever the face does, and
* landmarks a pose does not name are filled in by harmonic (Laplacian) interpolation
  over the mesh, so a pose only has to name the features it moves and the skin around
  them follows smoothly instead of tearing.

Poses are written in face units (a fraction of the inter-ocular distance, along the
eye line and across it) so they do not depend on the photo's scale or a small roll.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# --- MediaPipe Face Mesh landmark groups ("right" = the subject's right = image left) ---

FACE_OVAL = (
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
    148,
    176,
    149,
    150,
    136,
    172,
    58,
    132,
    93,
    234,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
)
IRISES = tuple(range(468, 478))

# Lip chains run corner -> midline; the other half is the mirror chain.
UPPER_OUTER_R = (61, 185, 40, 39, 37, 0)
UPPER_OUTER_L = (291, 409, 270, 269, 267, 0)
LOWER_OUTER_R = (61, 146, 91, 181, 84, 17)
LOWER_OUTER_L = (291, 375, 321, 405, 314, 17)
UPPER_INNER_R = (78, 191, 80, 81, 82, 13)
UPPER_INNER_L = (308, 415, 310, 311, 312, 13)
LOWER_INNER_R = (78, 95, 88, 178, 87, 14)
LOWER_INNER_L = (308, 324, 318, 402, 317, 14)
# The lip line between the inner and outer contours, corner -> midline.
UPPER_MID_R = (62, 183, 42, 41, 38, 12)
UPPER_MID_L = (292, 407, 272, 271, 268, 12)
LOWER_MID_R = (62, 96, 89, 179, 86, 15)
LOWER_MID_L = (292, 325, 319, 403, 316, 15)

# Eyelid chains run outer corner -> inner corner, corners excluded.
EYE_UPPER_R = (246, 161, 160, 159, 158, 157, 173)
EYE_LOWER_R = (7, 163, 144, 145, 153, 154, 155)
EYE_UPPER_L = (466, 388, 387, 386, 385, 384, 398)
EYE_LOWER_L = (249, 390, 373, 374, 380, 381, 382)
EYE_CORNERS_R = (33, 133)
EYE_CORNERS_L = (263, 362)
# The fold above the upper lid and the skin below the lower lid, outer -> inner.
LID_FOLD_UPPER_R = (247, 30, 29, 27, 28, 56, 190)
LID_FOLD_UPPER_L = (467, 260, 259, 257, 258, 286, 414)
LID_FOLD_LOWER_R = (130, 25, 110, 24, 23, 22, 26, 112, 243)
LID_FOLD_LOWER_L = (359, 255, 339, 254, 253, 252, 256, 341, 463)

# Brows, outer -> inner.
BROW_UPPER_R = (70, 63, 105, 66, 107)
BROW_LOWER_R = (46, 53, 52, 65, 55)
BROW_UPPER_L = (300, 293, 334, 296, 336)
BROW_LOWER_L = (276, 283, 282, 295, 285)

NOSE = (1, 2, 4, 5, 6, 19, 94, 168, 197, 195, 98, 327, 129, 358, 64, 294, 48, 278, 219, 439)
CHEEK_R = (205, 50, 123, 116, 117, 118, 101, 36, 206, 207, 187)
CHEEK_L = (425, 280, 352, 345, 346, 347, 330, 266, 426, 427, 411)
CHIN = (152, 148, 377, 175, 199, 200, 18, 83, 313, 201, 421, 208, 428, 171, 396, 32, 262)

LANDMARK_COUNT = 478


# --- The warp ---------------------------------------------------------------------------


def _delaunay(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Triangles (M, 3) of point indices; OpenCV's Subdiv2D, as scipy is not a dependency."""
    subdiv = cv2.Subdiv2D((0, 0, width, height))
    # Subdiv2D returns coordinates, not indices; keep a lookup back to the inserted points.
    # Subdiv2D stores float32, so key on the float32 values it will hand back.
    points32 = np.asarray(points, dtype=np.float32)
    index_of = {}
    for i, (x, y) in enumerate(points32):
        subdiv.insert((float(x), float(y)))
        index_of[(float(x), float(y))] = i
    triangles = []
    for row in subdiv.getTriangleList().astype(np.float32):
        keys = [(float(row[k]), float(row[k + 1])) for k in (0, 2, 4)]
        if all(k in index_of for k in keys):  # drops Subdiv2D's virtual outer vertices
            triangles.append([index_of[k] for k in keys])
    return np.asarray(triangles, dtype=np.int32)


def _laplacian(triangles: np.ndarray, count: int) -> np.ndarray:
    """Uniform graph Laplacian of the mesh edges (dense: a few hundred nodes)."""
    adjacency = np.zeros((count, count), dtype=np.float64)
    for a, b in ((0, 1), (1, 2), (2, 0)):
        adjacency[triangles[:, a], triangles[:, b]] = 1.0
        adjacency[triangles[:, b], triangles[:, a]] = 1.0
    return np.diag(adjacency.sum(axis=1)) - adjacency


@dataclass(frozen=True)
class FaceFrame:
    """The face's own axes: origin between the eyes, unit = inter-ocular distance."""

    origin: np.ndarray  # (2,) pixels
    x_axis: np.ndarray  # (2,) unit vector, image-left eye -> image-right eye
    y_axis: np.ndarray  # (2,) unit vector, down the face
    iod: float  # pixels

    @staticmethod
    def from_landmarks(landmarks: np.ndarray) -> FaceFrame:
        right = landmarks[list(EYE_CORNERS_R), :2].mean(axis=0)
        left = landmarks[list(EYE_CORNERS_L), :2].mean(axis=0)
        axis = left - right
        iod = float(np.hypot(*axis))
        x_axis = axis / iod
        y_axis = np.array([-x_axis[1], x_axis[0]])
        return FaceFrame((right + left) / 2, x_axis, y_axis, iod)

    def to_face(self, points: np.ndarray) -> np.ndarray:
        d = points[..., :2] - self.origin
        return np.stack([d @ self.x_axis, d @ self.y_axis], axis=-1) / self.iod

    def vector_to_pixels(self, v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        return (v[..., :1] * self.x_axis + v[..., 1:2] * self.y_axis) * self.iod


class FaceWarper:
    """A warp precomputed for one image and its landmarks; `warp` is then ~10 ms a frame.

    Mesh vertices are the 468 face landmarks (irises left out: they sit inside the eye and
    would fold over when a lid closes), a ring of fixed anchors around the face, and fixed
    points along the image border.
    """

    def __init__(self, shape: tuple[int, ...], landmarks: np.ndarray, ring_scale: float = 1.4, border_step: int = 64):
        self.height, self.width = int(shape[0]), int(shape[1])
        self.landmarks = np.asarray(landmarks, dtype=np.float64)[:, :2].copy()
        if len(self.landmarks) != LANDMARK_COUNT:
            raise ValueError(f"expected {LANDMARK_COUNT} landmarks, got {len(self.landmarks)}")
        self.frame = FaceFrame.from_landmarks(self.landmarks)
        face = self.landmarks[:468]

        # A fixed ring, far enough out that the skin between it and the face outline can
        # absorb a jaw drop or a head sway without visible stretching.
        oval = self.landmarks[list(FACE_OVAL)]
        centre = oval.mean(axis=0)
        ring = centre + ring_scale * (oval - centre)
        w1, h1 = self.width - 1, self.height - 1
        ring = ring[(ring[:, 0] > 1) & (ring[:, 0] < w1 - 1) & (ring[:, 1] > 1) & (ring[:, 1] < h1 - 1)]
        xs = np.unique(np.r_[np.arange(0, w1, border_step), w1])
        ys = np.unique(np.r_[np.arange(0, h1, border_step), h1])
        border = np.array(
            [(x, 0) for x in xs] + [(x, h1) for x in xs] + [(0, y) for y in ys[1:-1]] + [(w1, y) for y in ys[1:-1]],
            dtype=np.float64,
        )
        self.anchors = np.vstack([ring, border])
        self.vertices = np.vstack([face, self.anchors])
        self.face_count = len(face)
        self.triangles = _delaunay(self.vertices, self.width, self.height)
        self._laplacian = _laplacian(self.triangles, len(self.vertices))
        self._grid_x, self._grid_y = np.meshgrid(
            np.arange(self.width, dtype=np.float32), np.arange(self.height, dtype=np.float32)
        )

    def dense_displacements(self, displacements: dict[int, tuple[float, float]]) -> np.ndarray:
        """Pixel displacements for every mesh vertex: named landmarks as given, anchors 0,
        the rest harmonic (each the average of its mesh neighbours)."""
        n = len(self.vertices)
        fixed = np.zeros(n, dtype=bool)
        values = np.zeros((n, 2), dtype=np.float64)
        fixed[self.face_count :] = True
        for index, d in displacements.items():
            if index < self.face_count:  # irises are not mesh vertices; they ride along
                fixed[index] = True
                values[index] = d
        free = ~fixed
        if free.any():
            lap = self._laplacian
            rhs = -lap[np.ix_(free, fixed)] @ values[fixed]
            values[free] = np.linalg.solve(lap[np.ix_(free, free)], rhs)
        return values

    def folded_triangles(self, displacements: dict[int, tuple[float, float]]) -> np.ndarray:
        """Indices of triangles the displacements turn inside out (a visible tear); a pose
        should have none."""
        dst = self.vertices + self.dense_displacements(displacements)

        def signed_area(p):
            a, b, c = p[self.triangles[:, 0]], p[self.triangles[:, 1]], p[self.triangles[:, 2]]
            return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])

        before, after = signed_area(self.vertices), signed_area(dst)
        return np.flatnonzero(np.sign(before) != np.sign(after))

    def maps(self, displacements: dict[int, tuple[float, float]], smooth_px: float = 1.0):
        """cv2.remap maps (destination pixel -> source pixel) for the given displacements."""
        dst = self.vertices + self.dense_displacements(displacements)
        src = self.vertices
        tri = self.triangles
        # Per triangle, the affine taking destination (x, y, 1) to source (x, y).
        dst_h = np.concatenate([dst[tri], np.ones((len(tri), 3, 1))], axis=2)  # (M, 3, 3)
        det = np.linalg.det(dst_h)
        ok = np.abs(det) > 1e-9  # a triangle collapsed to a line covers no pixel anyway
        affine = np.zeros((len(tri), 2, 3))
        affine[:, 0, 0] = affine[:, 1, 1] = 1.0
        affine[ok] = np.linalg.solve(dst_h[ok], src[tri][ok]).transpose(0, 2, 1)

        # Rasterise triangle ids at their destination positions. Only triangles that move
        # matter: the rest are the identity, which is what an unpainted pixel gets.
        moving = np.abs(affine - np.array([[1, 0, 0], [0, 1, 0]])).max(axis=(1, 2)) > 1e-6
        ids = np.full((self.height, self.width), -1, dtype=np.int32)
        # Smallest first: a sliver (a closing lid's, a closing lip's) still paints its edge pixels,
        # and must not win them from the wide triangles beside it, or it shows what it squeezed.
        area = np.abs(det)
        order = np.flatnonzero(moving)
        for t in order[np.argsort(area[order], kind="stable")]:
            cv2.fillConvexPoly(ids, np.round(dst[tri[t]] * 16).astype(np.int32), int(t), lineType=cv2.LINE_8, shift=4)
        ys, xs = np.nonzero(ids >= 0)
        map_x = self._grid_x.copy()
        map_y = self._grid_y.copy()
        a = affine[ids[ys, xs]]
        map_x[ys, xs] = a[:, 0, 0] * xs + a[:, 0, 1] * ys + a[:, 0, 2]
        map_y[ys, xs] = a[:, 1, 0] * xs + a[:, 1, 1] * ys + a[:, 1, 2]
        if smooth_px > 0:
            # Piecewise-affine leaves creases along triangle edges; a pixel of blur on the
            # displacement (not the image) hides them without moving any landmark visibly.
            dx = cv2.GaussianBlur(map_x - self._grid_x, (0, 0), smooth_px)
            dy = cv2.GaussianBlur(map_y - self._grid_y, (0, 0), smooth_px)
            map_x, map_y = self._grid_x + dx, self._grid_y + dy
        return map_x, map_y

    def warp(self, image: np.ndarray, displacements: dict[int, tuple[float, float]], smooth_px: float = 1.0) -> np.ndarray:
        map_x, map_y = self.maps(displacements, smooth_px)
        return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def warp_face(
    image: np.ndarray, landmarks: np.ndarray, displacements: dict[int, tuple[float, float]], smooth_px: float = 1.0
) -> np.ndarray:
    """Warp `image` so that each landmark i in `displacements` moves by (dx, dy) pixels.

    `landmarks` is (478, 2 or 3) in pixels. One-off convenience; build a FaceWarper to
    warp many frames of the same photo.
    """
    return FaceWarper(image.shape, landmarks).warp(image, displacements, smooth_px)


# --- Expression poses -----------------------------------------------------------------------
#
# A pose is a list of moves: (landmarks, inward, down) in face units (inter-ocular distance).
# "inward" points toward the face's midline on either side, so one entry serves both halves;
# a chain of landmarks can take a (start, end) pair per axis, spread linearly along the chain.
# Tuned against the real model on astronaut.png (see make_clips.py for the measured values).

Move = tuple[tuple[int, ...], object, object]


@dataclass(frozen=True)
class CloseGap:
    """Bring two facing chains (e.g. the inner lips) together, whatever their gap in this
    photo: a fixed offset would cross them over where the gap is small and fold the mesh.

    `upper_share` of the closing is done by the upper chain, the rest by the lower one;
    `fraction` < 1 leaves a hair of gap so no triangle collapses. Added on top of the
    pose's other moves of the same landmarks. Give both halves of the face in one
    CloseGap: pairs are deduplicated, so the shared midline pair is not closed twice.
    """

    upper: tuple[int, ...]
    lower: tuple[int, ...]
    fraction: float = 0.95
    upper_share: float = 0.6

    def offsets(self, face_xy: np.ndarray) -> dict[int, np.ndarray]:
        out = {}
        for up, low in dict(zip(self.upper, self.lower, strict=True)).items():
            if up == low:  # a shared corner has no gap
                continue
            gap = self.fraction * (face_xy[low] - face_xy[up])
            out[up] = self.upper_share * gap
            out[low] = (self.upper_share - 1.0) * gap
        return out


def _chain(values, count: int) -> np.ndarray:
    """A value per chain landmark: a constant, (start, end), or (start, middle, end)."""
    if isinstance(values, tuple):
        knots = np.linspace(0.0, 1.0, len(values))
        return np.interp(np.linspace(0.0, 1.0, count), knots, values)
    return np.full(count, float(values))


def _both(right: tuple[int, ...], left: tuple[int, ...], inward, down) -> list[Move]:
    return [(right, inward, down), (left, inward, down)]


# Her photo smiles broadly, so "neutral" is the real work: close the lips over the teeth,
# bring the lip corners down and in to a relaxed line, let the cheeks and lower lids drop.
NEUTRAL: list = [
    *_both(UPPER_OUTER_R, UPPER_OUTER_L, (0.18, 0.0), (0.20, 0.07)),
    *_both(UPPER_INNER_R, UPPER_INNER_L, (0.18, 0.0), (0.20, 0.03)),
    *_both(LOWER_INNER_R, LOWER_INNER_L, (0.18, 0.0), (0.20, 0.03)),
    *_both(LOWER_OUTER_R, LOWER_OUTER_L, (0.18, 0.0), (0.20, -0.02)),
    CloseGap(UPPER_INNER_R + UPPER_INNER_L, LOWER_INNER_R + LOWER_INNER_L),
    *_both(CHEEK_R, CHEEK_L, 0.02, 0.06),
    *_both(EYE_LOWER_R, EYE_LOWER_L, 0.0, 0.025),
    *_both(LID_FOLD_LOWER_R, LID_FOLD_LOWER_L, 0.0, 0.03),
    *_both(EYE_UPPER_R, EYE_UPPER_L, 0.0, -0.01),
    *_both(EYE_CORNERS_R, EYE_CORNERS_L, 0.0, 0.0),
    (NOSE, 0.0, 0.0),
]

SMILE: list = [  # the photo itself, a little broader
    *_both(UPPER_OUTER_R, UPPER_OUTER_L, (-0.03, 0.0), (-0.03, 0.0)),
    *_both(LOWER_OUTER_R, LOWER_OUTER_L, (-0.03, 0.0), (-0.03, 0.0)),
    *_both(UPPER_INNER_R, UPPER_INNER_L, (-0.03, 0.0), (-0.03, 0.0)),
    *_both(LOWER_INNER_R, LOWER_INNER_L, (-0.03, 0.0), (-0.03, 0.0)),
    (NOSE, 0.0, 0.0),
]

# Pain (PSPI): brows down and together, lids squeezed, upper lip raised, corners not up.
# Written on top of NEUTRAL (see POSE_BASES), so it only adds the pain movements.
WINCE: list = [
    # The brows have to come down hard: with the sway and video compression the model's
    # browDown sits well below what a still reads, and it reads brow-to-lid distance.
    *_both(BROW_UPPER_R, BROW_UPPER_L, (0.02, 0.14), 0.26),
    *_both(BROW_LOWER_R, BROW_LOWER_L, (0.02, 0.14), 0.26),
    # The lid fold follows the brow down but must taper to the eye corners, which stay.
    *_both(LID_FOLD_UPPER_R, LID_FOLD_UPPER_L, 0.0, (0.02, 0.16, 0.02)),
    *_both(EYE_UPPER_R, EYE_UPPER_L, 0.0, 0.0),
    *_both(EYE_LOWER_R, EYE_LOWER_L, 0.0, 0.0),
    CloseGap(EYE_UPPER_R + EYE_UPPER_L, EYE_LOWER_R + EYE_LOWER_L, fraction=0.85, upper_share=0.7),
    *_both(EYE_CORNERS_R, EYE_CORNERS_L, 0.0, 0.0),
    *_both(LID_FOLD_LOWER_R, LID_FOLD_LOWER_L, 0.0, (0.0, -0.03, 0.0)),
    *_both(UPPER_OUTER_R, UPPER_OUTER_L, 0.0, (0.0, -0.04)),
    *_both(UPPER_INNER_R, UPPER_INNER_L, 0.0, (0.0, -0.024)),
    (NOSE, 0.0, 0.0),
]

SURPRISE: list = [
    *_both(BROW_UPPER_R, BROW_UPPER_L, 0.0, -0.12),
    *_both(BROW_LOWER_R, BROW_LOWER_L, 0.0, -0.12),
    *_both(LID_FOLD_UPPER_R, LID_FOLD_UPPER_L, 0.0, (-0.03, -0.07, -0.03)),
    *_both(EYE_UPPER_R, EYE_UPPER_L, 0.0, (-0.02, -0.05, -0.02)),
    *_both(EYE_LOWER_R, EYE_LOWER_L, 0.0, 0.01),
    *_both(EYE_CORNERS_R, EYE_CORNERS_L, 0.0, 0.0),
    # A dropped jaw: the lower lip and chin go down together, the corners barely move.
    *_both(LOWER_INNER_R, LOWER_INNER_L, 0.0, (0.02, 0.14)),
    *_both(LOWER_OUTER_R, LOWER_OUTER_L, 0.0, (0.02, 0.15)),
    (CHIN, 0.0, 0.15),
    (NOSE, 0.0, 0.0),
]

# Anger: brows down and together, a hard stare (lids half-narrowed), lip corners down.
ANGER: list = [
    *_both(BROW_UPPER_R, BROW_UPPER_L, (0.02, 0.14), 0.24),
    *_both(BROW_LOWER_R, BROW_LOWER_L, (0.02, 0.14), 0.24),
    *_both(LID_FOLD_UPPER_R, LID_FOLD_UPPER_L, 0.0, (0.02, 0.14, 0.02)),
    *_both(EYE_UPPER_R, EYE_UPPER_L, 0.0, 0.0),
    *_both(EYE_LOWER_R, EYE_LOWER_L, 0.0, 0.0),
    CloseGap(EYE_UPPER_R + EYE_UPPER_L, EYE_LOWER_R + EYE_LOWER_L, fraction=0.45, upper_share=0.8),
    *_both(EYE_CORNERS_R, EYE_CORNERS_L, 0.0, 0.0),
    *_both(UPPER_OUTER_R, UPPER_OUTER_L, 0.0, (0.08, 0.0)),
    *_both(LOWER_OUTER_R, LOWER_OUTER_L, 0.0, (0.08, 0.0)),
    *_both(UPPER_INNER_R, UPPER_INNER_L, 0.0, (0.08, 0.0)),
    *_both(LOWER_INNER_R, LOWER_INNER_L, 0.0, (0.08, 0.0)),
    (NOSE, 0.0, 0.0),
]

POSES: dict[str, list] = {
    "smile": SMILE,
    "neutral": NEUTRAL,
    "wince": WINCE,
    "surprise": SURPRISE,
    "anger": ANGER,
}
# Every non-smile pose starts from the relaxed face: the photo's own smile has to go first.
POSE_BASES: dict[str, tuple[str, ...]] = {
    "smile": (),
    "neutral": (),
    "wince": ("neutral",),
    "surprise": ("neutral",),
    "anger": ("neutral",),
}


def pose_offsets(frame: FaceFrame, landmarks: np.ndarray, moves: list) -> dict[int, np.ndarray]:
    """A pose's moves as pixel offsets per landmark.

    A later chain move of a landmark replaces an earlier one (the two halves of a lip
    chain share the midline point); CloseGap moves are added on top of them.
    """
    face_xy = frame.to_face(np.asarray(landmarks)[:, :2])
    face_x = face_xy[:, 0]
    out: dict[int, np.ndarray] = {}
    for move in moves:
        if isinstance(move, CloseGap):
            continue
        indices, inward, down = move
        ins = _chain(inward, len(indices))
        downs = _chain(down, len(indices))
        for i, a, b in zip(indices, ins, downs, strict=True):
            # Toward the midline on each side, fading to nothing on the midline itself.
            side = float(np.clip(face_x[i] / 0.08, -1.0, 1.0))
            out[i] = frame.vector_to_pixels(np.array([-side * a, b]))
    for move in moves:
        if isinstance(move, CloseGap):
            for i, d in move.offsets(face_xy).items():
                out[i] = out.get(i, np.zeros(2)) + frame.vector_to_pixels(d)
    return out


def expression_displacements(
    landmarks: np.ndarray, weights: dict[str, float], frame: FaceFrame | None = None
) -> dict[int, np.ndarray]:
    """Pixel displacements for a blend of poses, e.g. {"neutral": 0.3, "wince": 0.7}.

    Each pose counts with its bases (wince = neutral + the pain moves), at the pose's
    weight; a base shared by two poses adds up to at most 1 (so neutral -> wince keeps the
    smile away all through the transition). Landmarks named
    by any pose are pinned (zero where that pose does not move them), so features a pose
    leaves alone stay put instead of being dragged by the harmonic fill.
    """
    frame = frame or FaceFrame.from_landmarks(np.asarray(landmarks))
    effective: dict[str, float] = {}
    for name, w in weights.items():
        if name not in POSES:
            raise KeyError(f"unknown pose {name!r}; known: {', '.join(POSES)}")
        for part in (*POSE_BASES[name], name):
            effective[part] = min(1.0, effective.get(part, 0.0) + float(w))
    total: dict[int, np.ndarray] = {}
    for name, w in effective.items():
        for i, d in pose_offsets(frame, landmarks, POSES[name]).items():
            total[i] = total.get(i, np.zeros(2)) + w * d
    return total
