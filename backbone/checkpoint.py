"""Reading, loading and writing checkpoints safely."""
from __future__ import annotations

import argparse
import os
import pickle
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, Mapping, Optional, Union

import torch
from torch import nn

from .convert import CheckpointError, LoadReport, convert_state_dict

PathOrState = Union[str, os.PathLike, Mapping]

# Plain data types that released training checkpoints carry next to the weights (training args, numpy
# scalars). Allowing them lets torch.load stay in weights_only mode: no code from a checkpoint ever runs.
SAFE_GLOBALS = [argparse.Namespace]
try:
    import numpy as np
    from numpy.core.multiarray import _reconstruct, scalar

    SAFE_GLOBALS += [np.dtype, np.ndarray, scalar, _reconstruct]
    SAFE_GLOBALS += sorted({type(np.dtype(t)) for t in np.sctypeDict.values()}, key=str)  # dtype classes
except Exception:  # pragma: no cover - numpy is optional here
    pass
# Registered process-wide (a `safe_globals` context would remove them again on exit, also for other users).
torch.serialization.add_safe_globals(SAFE_GLOBALS)


def read_checkpoint(path: Union[str, os.PathLike], weights_only: bool = True) -> dict:
    """Read a ``.pt/.pth/.bin`` (torch) or ``.safetensors`` file into a dict on the CPU.

    Args:
        path: the file.
        weights_only: refuse pickled code (default). Pass False only for files you trust.

    Raises:
        CheckpointError: missing, truncated/corrupt, or code-carrying files, with the fix in the message.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file
        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError) as e:
            raise CheckpointError(f"{path} is not a readable safetensors file (truncated or corrupt?): {e}") from e
    try:
        return torch.load(path, map_location="cpu", weights_only=weights_only)
    except pickle.UnpicklingError as e:
        if "Unsupported global" in str(e):
            raise CheckpointError(
                f"{path} contains pickled Python objects beyond tensors, and loading it could run code. If you "
                f"trust its origin, load it with weights_only=False (CLI: --unsafe-pickle) and re-save it with "
                f"`eva convert`. Details: {str(e).splitlines()[0]}") from e
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or corrupt?): {e}") from e
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as e:
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or corrupt?): "
                              f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from e


def load_checkpoint(model: nn.Module, path_or_state: PathOrState, strict: bool = True,
                    weights_only: bool = True) -> LoadReport:
    """Convert and load a checkpoint of any supported layout into ``model``.

    Works for models built on the meta device (tensors are assigned, not copied).

    Args:
        model: an :class:`~eva.backbone.EVAViT`.
        path_or_state: a file path, or an already loaded (state) dict.
        strict: raise :class:`CheckpointError` listing missing / unexpected / mis-shaped keys.
        weights_only: see :func:`read_checkpoint`.

    Returns:
        The :class:`LoadReport` of renamed, dropped, resized, missing and unexpected keys.
    """
    where = str(path_or_state) if isinstance(path_or_state, (str, os.PathLike)) else "state dict"
    obj = read_checkpoint(path_or_state, weights_only) if isinstance(path_or_state, (str, os.PathLike)) \
        else path_or_state
    try:
        sd, report = convert_state_dict(obj, model)
    except ValueError as e:
        raise CheckpointError(f"cannot convert {where}: {e}") from e
    if strict and not report.ok:
        raise CheckpointError(f"checkpoint {where} does not fit the model:\n{report.summary()}", report)
    loadable = {k: v for k, v in sd.items() if k not in report.unexpected and
                k not in {m[0] for m in report.mismatched}}
    on_meta = any(p.is_meta for p in model.parameters())
    model.load_state_dict(loadable, strict=False, assign=on_meta)
    return report


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Union[str, os.PathLike]) -> Iterator[str]:
    """Yield a temporary file name next to ``path``; it replaces ``path`` only if the block completes, so an
    interrupted write never leaves a broken or half-written file (and the previous one stays intact)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it owner-only; a plain open() would follow the umask
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())  # on disk before the rename, so a power loss cannot leave an empty file
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_checkpoint(obj: Mapping, path: Union[str, os.PathLike], metadata: Optional[Dict[str, str]] = None) -> None:
    """Write atomically (see :func:`atomic_path`).

    ``.safetensors`` paths get a safetensors file of the (flat) tensor dict, others ``torch.save``.
    """
    with atomic_path(path) as tmp:
        if str(path).endswith(".safetensors"):
            from safetensors.torch import save_file
            save_file({k: v.contiguous() for k, v in obj.items()}, tmp, metadata=metadata)
        else:
            torch.save(dict(obj), tmp)
