"""What a conversion did to a checkpoint, and the error raised when it cannot load."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

Shape = Tuple[int, ...]


class CheckpointError(RuntimeError):
    """A checkpoint cannot be read or does not fit the model; the message names the keys and the fix."""

    def __init__(self, message: str, report: Optional["LoadReport"] = None):
        super().__init__(message)
        self.report = report


@dataclass
class LoadReport:
    """Key-level account of a conversion/load.

    Attributes:
        source: detected source layout (``"eva"``, ``"timm"``, ``"baai"``, ``"eva-clip"``...).
        unwrapped: container keys / prefixes that were stripped (``"model_ema"``, ``"visual."``).
        renamed: ``(old, new)`` pairs; fused tensors list each source key.
        dropped: ``(key, reason)`` for keys intentionally not loaded.
        resized: ``(key, old_shape, new_shape)``.
        added: ``(key, reason)`` for tensors synthesised (e.g. a zero head bias).
        missing: model keys the checkpoint lacks.
        unexpected: checkpoint keys the model does not have.
        mismatched: ``(key, checkpoint_shape, model_shape)``.
        hint: a suggestion for fixing a failed load.
    """

    source: str = "unknown"
    unwrapped: List[str] = field(default_factory=list)
    renamed: List[Tuple[str, str]] = field(default_factory=list)
    dropped: List[Tuple[str, str]] = field(default_factory=list)
    resized: List[Tuple[str, Shape, Shape]] = field(default_factory=list)
    added: List[Tuple[str, str]] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    mismatched: List[Tuple[str, Shape, Shape]] = field(default_factory=list)
    hint: str = ""

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def summary(self, max_items: int = 12) -> str:
        """Readable multi-line report; long lists are cut to ``max_items`` entries."""
        def block(title, items, fmt):
            if not items:
                return []
            lines = [f"  {title} ({len(items)}):"]
            lines += [f"    {fmt(it)}" for it in items[:max_items]]
            if len(items) > max_items:
                lines.append(f"    ... and {len(items) - max_items} more")
            return lines

        lines = [f"source layout: {self.source}" + (f" (unwrapped {', '.join(self.unwrapped)})"
                                                    if self.unwrapped else "")]
        lines += block("renamed", self.renamed, lambda r: f"{r[0]} -> {r[1]}")
        lines += block("dropped", self.dropped, lambda r: f"{r[0]}: {r[1]}")
        lines += block("resized", self.resized, lambda r: f"{r[0]}: {tuple(r[1])} -> {tuple(r[2])}")
        lines += block("added", self.added, lambda r: f"{r[0]}: {r[1]}")
        lines += block("missing in checkpoint", self.missing, str)
        lines += block("unexpected in checkpoint", self.unexpected, str)
        lines += block("shape mismatch (checkpoint vs model)", self.mismatched,
                       lambda r: f"{r[0]}: {tuple(r[1])} vs {tuple(r[2])}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def compare_keys(state, target, report: Optional[LoadReport] = None) -> LoadReport:
    """Fill ``report``'s missing / unexpected / mismatched lists from a state dict against the model's.

    Args:
        state: the tensors to load, by name.
        target: the model's ``state_dict()``.
    """
    report = report if report is not None else LoadReport()
    report.missing = [k for k in target if k not in state]
    report.unexpected = [k for k in state if k not in target]
    report.mismatched = [(k, tuple(state[k].shape), tuple(target[k].shape))
                         for k in state if k in target and state[k].shape != target[k].shape]
    return report
