"""safetensors bytes, checked: the header is validated against the data before any tensor is
made, so a file that declares more bytes than it has, overlapping tensors or an unknown dtype
is refused with a message naming the file and the tensor."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import torch

__all__ = ["check_header", "check_safetensors_file", "from_bytes", "to_bytes"]

_ITEM_SIZE = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
}
MAX_HEADER_BYTES = 100 * 2**20


def check_header(prefix: bytes, total_size: int, source: str) -> dict[str, Any]:
    """Validate a safetensors header (from the first bytes of a file of `total_size` bytes)."""
    if total_size < 8 or len(prefix) < 8:
        raise ValueError(f"{source} is not a safetensors file: {total_size} bytes is too short")
    header_size = int.from_bytes(prefix[:8], "little")
    if header_size > MAX_HEADER_BYTES or header_size > total_size - 8:
        raise ValueError(
            f"{source}: the safetensors header declares {header_size} bytes but the file has "
            f"{total_size - 8} after the size field; it is truncated or corrupted"
        )
    if len(prefix) < 8 + header_size:
        raise ValueError(f"{source}: the safetensors header is incomplete")
    try:
        header = json.loads(prefix[8 : 8 + header_size])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{source}: the safetensors header is not valid JSON ({error})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{source}: the safetensors header is not a JSON object")
    body = total_size - 8 - header_size
    spans = []
    for name, spec in header.items():
        if name == "__metadata__":
            if not isinstance(spec, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in spec.items()
            ):
                raise ValueError(f"{source}: __metadata__ must map strings to strings")
            continue
        spans.append((*_check_tensor(name, spec, body, source), name))
    spans.sort()
    position = 0
    for begin, end, name in spans:
        if begin != position:
            problem = "overlaps the previous one" if begin < position else "leaves a gap before it"
            raise ValueError(f"{source}: tensor {name!r} {problem}; the file is corrupted")
        position = end
    if position != body:
        raise ValueError(
            f"{source}: the tensors declare {position} bytes of data but the file holds {body}; "
            "it is truncated or corrupted"
        )
    return header


def _check_tensor(name: str, spec: Any, body: int, source: str) -> tuple[int, int]:
    if not isinstance(spec, dict) or spec.get("dtype") not in _ITEM_SIZE:
        dtype = spec.get("dtype") if isinstance(spec, dict) else None
        raise ValueError(f"{source}: tensor {name!r} has an unsupported dtype {dtype!r}")
    shape, offsets = spec.get("shape"), spec.get("data_offsets")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise ValueError(f"{source}: tensor {name!r} has an invalid shape {shape!r}")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        or not 0 <= offsets[0] <= offsets[1]
    ):
        raise ValueError(f"{source}: tensor {name!r} has invalid data offsets {offsets!r}")
    expected = math.prod(shape) * _ITEM_SIZE[spec["dtype"]]
    begin, end = offsets
    if end - begin != expected:
        raise ValueError(
            f"{source}: tensor {name!r} of shape {tuple(shape)} and dtype {spec['dtype']} needs "
            f"{expected} bytes but its offsets span {end - begin}; the file is corrupted"
        )
    if end > body:
        raise ValueError(
            f"{source}: tensor {name!r} ends at byte {end} of data but the file holds only "
            f"{body}; it is truncated"
        )
    return begin, end


def from_bytes(data: bytes, source: str) -> dict[str, torch.Tensor]:
    """Tensors from safetensors bytes, after `check_header`."""
    from safetensors.torch import load

    check_header(data, len(data), source)
    return load(data)


def to_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """safetensors bytes of CPU, contiguous copies of `tensors`."""
    from safetensors.torch import save

    state = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    return save(state, metadata=metadata)


def check_safetensors_file(path: str | os.PathLike[str]) -> None:
    """Validate a .safetensors file's header against its size, reading only the header."""
    file = Path(path)
    total = file.stat().st_size
    with open(file, "rb") as handle:
        head = handle.read(8)
        if len(head) == 8:
            size = int.from_bytes(head, "little")
            if size <= min(MAX_HEADER_BYTES, total - 8):
                head += handle.read(size)
    check_header(head, total, f"weights file {str(path)!r}")
