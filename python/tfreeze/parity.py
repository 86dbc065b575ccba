"""``tfreeze.parity.check_parity``, where docs/python.md has always shown it;
the implementation lives in the measuring stage, ``tfreeze.measure.parity``."""

from __future__ import annotations

from tfreeze.measure.parity import ParityReport, check_parity

__all__ = ["ParityReport", "check_parity"]
