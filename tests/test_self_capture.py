"""When the self-portrait takes a visitor's face and when it lets it go (pure logic, synthetic moments)."""

from avatar.self_capture import CalmFaceRule, CalmSecondFinder, FaceMoment, Verdict


def calm(t, **changes):
    base = dict(t_s=t, faces=1, switched=False, face_x=0.5, face_y=0.5, face_size=0.3)
    return FaceMoment(**{**base, **changes})


def feed(finder, moments):
    return [finder.offer(m) for m in moments]


def frames(t0, t1, fps=30, **changes):
    n = round((t1 - t0) * fps)
    return [calm(t0 + i / fps, **changes) for i in range(n)]


def test_a_calm_second_is_captured_once():
    finder = CalmSecondFinder()
    verdicts = feed(finder, frames(0.0, 3.0))
    assert verdicts.count(Verdict.CAPTURE) == 1
    first = verdicts.index(Verdict.CAPTURE)
    assert abs(first / 30 - 1.0) < 0.05


def test_an_expression_restarts_the_calm_second():
    finder = CalmSecondFinder()
    moments = frames(0.0, 0.8) + frames(0.8, 1.0, smile=0.7) + frames(1.0, 2.5)
    verdicts = feed(finder, moments)
    assert verdicts.index(Verdict.CAPTURE) / 30 >= 2.0 - 0.05


def test_turned_small_moving_or_crowded_faces_are_not_taken():
    for changes in (dict(yaw_deg=25.0), dict(face_size=0.05), dict(faces=2), dict(talking=0.6), dict(blink=0.9)):
        assert Verdict.CAPTURE not in feed(CalmSecondFinder(), frames(0.0, 3.0, **changes)), changes
    drifting = [calm(i / 30, face_x=0.3 + 0.002 * i) for i in range(90)]
    assert Verdict.CAPTURE not in feed(CalmSecondFinder(), drifting)


def test_the_face_is_forgotten_when_the_visitor_changes_or_leaves():
    finder = CalmSecondFinder(CalmFaceRule(left_after_s=3.0))
    assert Verdict.CAPTURE in feed(finder, frames(0.0, 2.0))
    assert feed(finder, [calm(2.1, switched=True)]) == [Verdict.FORGET]
    assert Verdict.CAPTURE in feed(finder, frames(2.2, 4.0))
    gone = feed(finder, [calm(4.0 + i / 30, faces=0) for i in range(1, 100)])
    assert gone.count(Verdict.FORGET) == 1 and abs(4.0 + (gone.index(Verdict.FORGET) + 1) / 30 - 7.0) < 0.05
    assert Verdict.CAPTURE in feed(finder, frames(8.0, 10.0))


def test_a_glance_away_keeps_the_face():
    finder = CalmSecondFinder()
    feed(finder, frames(0.0, 2.0))
    assert Verdict.FORGET not in feed(finder, [calm(2.0 + i / 30, faces=0) for i in range(30)] + frames(3.0, 4.0))
