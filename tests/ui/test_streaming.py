"""Answer pieces joined for the page: nothing lost or reordered, the first at once, then a few a second."""

from __future__ import annotations

from collections.abc import Iterator

from chatbot.ui.streaming import coalesce


class StepClock:
    """A clock that advances ``step_s`` each time it is read: one read per piece."""

    def __init__(self, step_s: float) -> None:
        self.now = 0.0
        self.step_s = step_s

    def __call__(self) -> float:
        self.now += self.step_s
        return self.now


def tokens(count: int) -> Iterator[str]:
    for number in range(count):
        yield f"t{number} "


def test_text_is_kept_whole_and_in_order() -> None:
    pieces = list(coalesce(tokens(100), interval_s=0.1, clock=StepClock(0.012)))
    assert "".join(pieces) == "".join(tokens(100))


def test_the_first_piece_comes_alone_and_later_ones_are_joined() -> None:
    pieces = list(coalesce(tokens(100), interval_s=0.1, clock=StepClock(0.012)))
    assert pieces[0] == "t0 "
    # 100 pieces 12 ms apart over 1.2 s: about 12 updates, not 100
    assert 8 <= len(pieces) <= 15


def test_slow_pieces_pass_one_by_one() -> None:
    pieces = list(coalesce(tokens(5), interval_s=0.1, clock=StepClock(0.5)))
    assert pieces == list(tokens(5))


def test_nothing_in_nothing_out() -> None:
    assert list(coalesce([], interval_s=0.1)) == []
