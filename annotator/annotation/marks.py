"""A reviewer's verdict on one frame (accepted, or needs a fix) with an optional comment, and
its form in the tool's state file."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Verdict(enum.StrEnum):
    """What a reviewer decided about a frame."""

    ACCEPTED = "accepted"
    NEEDS_FIX = "needs_fix"

    @property
    def label(self) -> str:
        return "accepted" if self is Verdict.ACCEPTED else "needs fix"


@dataclass(frozen=True)
class QAMark:
    """One frame's review mark."""

    verdict: Verdict
    comment: str = ""

    def to_json(self) -> dict[str, str]:
        return {"verdict": self.verdict.value, "comment": self.comment}

    @classmethod
    def from_json(cls, value: Any) -> QAMark:
        """A mark as `to_json` writes it; a plain string (a note written before marks had
        verdicts) is a frame that needs a fix, the note its comment. ValueError otherwise."""
        if isinstance(value, str):
            return cls(Verdict.NEEDS_FIX, value)
        if not isinstance(value, dict) or not isinstance(value.get("comment", ""), str):
            raise ValueError(f"bad QA mark {value!r}")
        return cls(Verdict(str(value.get("verdict"))), value.get("comment", ""))
