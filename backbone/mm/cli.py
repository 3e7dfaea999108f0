"""What the mm-based parts' commands share (`eva seg`, `eva video`): the part's runner, and training a config
with a clear message when it diverges. (Their argument parsers use ``eva.backbone.cli.add_train_verb``.)"""
from __future__ import annotations

import sys
from typing import Callable, Iterable, Optional


def build_part_runner(args, imports: Iterable[str], register: Optional[Callable] = None, resume: bool = False,
                      edit: Optional[Callable] = None):
    """The runner for ``args.config`` with the part's modules imported (``register``: the framework's
    ``register_all_modules``, called without touching the default scope)."""
    from .runner import build_runner

    if register is not None:
        register(init_default_scope=False)
    return build_runner(args.config, args.work_dir, resume, args.cfg_options, imports=list(imports), edit=edit)


def train(args, part: str, imports: Iterable[str], register: Optional[Callable] = None) -> int:
    """Train ``args.config``; a diverged run ends with exit code 3 and the message of what to do."""
    from .optim import NonFiniteError

    runner = build_part_runner(args, imports, register, resume=args.resume)
    try:
        runner.train()
    except NonFiniteError as e:
        print(f"eva {part}: {e}", file=sys.stderr)
        return 3
    return 0
