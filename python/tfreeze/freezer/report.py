"""What ``freeze`` wrote, and how the frozen graph compared with the source."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from tfreeze.compare import ArrayDiff
from tfreeze.signature import IOEntry

__all__ = ["FreezeReport"]


@dataclass
class FreezeReport:
    """What freeze() wrote and how the frozen graph compared with the source."""

    output_path: str
    inputs: list[IOEntry]
    outputs: list[IOEntry]
    node_count: int
    byte_size: int
    seconds: float
    # output name -> difference of the frozen graph from the source, per verification run
    verification: dict[str, list[ArrayDiff]] = field(default_factory=dict)
    source_kind: str = ""
    stages: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    # {"nodes_before", "nodes_after", "bytes_before", "bytes_after"} when optimized
    optimization: dict[str, int] | None = None
    init: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # choices made for the user (guessed names)
    warnings: list[str] = field(default_factory=list)

    @property
    def max_abs_diff(self) -> float:
        return max((d.max_abs for diffs in self.verification.values() for d in diffs), default=0.0)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists, dicts, numbers and strings: what ``to_json`` writes."""
        document = dataclasses.asdict(self)
        document["inputs"] = [e.to_json() for e in self.inputs]
        document["outputs"] = [e.to_json() for e in self.outputs]
        document["verification"] = {
            name: [d.as_dict() for d in diffs] for name, diffs in self.verification.items()
        }
        return document

    def to_json(self, *, indent: int | None = None) -> str:
        """The report as a JSON string (``tfreeze freeze --json`` prints it)."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> FreezeReport:
        fields = dict(document)
        fields["inputs"] = [IOEntry.from_json(e) for e in document["inputs"]]
        fields["outputs"] = [IOEntry.from_json(e) for e in document["outputs"]]
        fields["verification"] = {
            name: [ArrayDiff.from_dict(d) for d in diffs]
            for name, diffs in document["verification"].items()
        }
        return cls(**fields)

    @classmethod
    def from_json(cls, text: str | dict[str, Any]) -> FreezeReport:
        """From ``to_json``'s string (or the dict earlier versions' ``to_json`` returned)."""
        return cls.from_dict(json.loads(text) if isinstance(text, str) else text)
