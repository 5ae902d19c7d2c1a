"""Progress for a person: "propagating 17 / 81, 3.2 frames/s, 25 s left"."""

from __future__ import annotations

import time

MIN_ELAPSED_S = 0.5  # a rate is shown once the job has run this long


class ProgressText:
    """The line for one job, its rate measured from the first report on."""

    def __init__(self, what: str, unit: str = "frames") -> None:
        self.what, self.unit = what, unit
        self._start: tuple[float, int] | None = None

    def __call__(self, done: int, total: int, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        if self._start is None:
            self._start = (now, done)
        text = f"{self.what} {done} / {total}"
        began, first = self._start
        elapsed = now - began
        if elapsed < MIN_ELAPSED_S or done <= first:
            return text
        rate = (done - first) / elapsed
        left = max(0, total - done) / rate
        return f"{text}, {rate:.1f} {self.unit}/s, {_duration(left)} left"


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
