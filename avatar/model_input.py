"""What the empathy model is given each frame, exactly as frames.csv records it.

Between the expression stage and the empathy model (pipeline.py), and again in a replay (replay.py).
The model is fed the logged precision of the time and the channels it reads, so that the log is a
complete record of its input: a replay of frames.csv with the live run's settings gives the live echo
digit for digit. While a lost face is held, frames.csv leaves the channels empty but logs `held`;
the model is then given the last logged reading times the logged `held`, which a replay can rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass

from avatar.expression import Expression
from avatar.logs import format_value

HELD_DECIMALS = 4  # frames.csv's `held` column (contract.py)


def as_logged(value: float) -> float:
    """`value` as it reads back from frames.csv (6 decimals; logs.format_value)."""
    text = format_value(float(value))
    return float(text) if text else 0.0


@dataclass(frozen=True)
class ModelInput:
    """One frame's input to EmpathyModel.step."""

    t_s: float
    expression: Expression
    faces: int


class ModelInputs:
    """Turns each frame's expression into the model's input; remembers the last reading for the hold."""

    def __init__(self) -> None:
        self._last: Expression | None = None

    def take(self, t_s: float, expression: Expression, faces: int) -> ModelInput:
        if expression.present:
            seen = Expression(
                present=True,
                smile=as_logged(expression.smile),
                wince=as_logged(expression.wince),
                sad=as_logged(expression.sad),
                distress=as_logged(expression.distress),
                yaw_deg=as_logged(expression.yaw_deg),
                pitch_deg=as_logged(expression.pitch_deg),
                roll_deg=as_logged(expression.roll_deg),
            )
            self._last = seen
        else:
            seen = self._held(round(float(expression.held), HELD_DECIMALS))
        return ModelInput(as_logged(t_s), seen, int(faces))

    def _held(self, held: float) -> Expression:
        last = self._last
        if last is None or held <= 0.0:
            return Expression(present=False, held=max(0.0, held))
        return Expression(present=False, held=held, smile=last.smile * held, wince=last.wince * held,
                          sad=last.sad * held, distress=last.distress * held)
