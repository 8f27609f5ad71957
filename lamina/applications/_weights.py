"""Where pretrained weights come from: `weights="imagenet"` (or another tag) names a file
that is looked for, in order,

1. in every folder of the environment variable `LAMINA_WEIGHTS` (separated by `os.pathsep`),
   at the file's relative path (`mobilenet_v1_0.25_224_keras/mobilenet_v1_0.25_224.h5`) or
   by its bare name;
2. in the cache, `$LAMINA_HOME/weights` (default `~/.lamina/weights`);
3. at its URL, downloaded into the cache,

and used only if its SHA-256 is the known one. A path given as `weights=` is used as it is.

>>> file = WeightsFile("demo/w.pt", "0" * 64)
>>> resolve_weights(None, file) is None
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..datasets._download import file_sha256
from ..utils._file import get_file, lamina_home

__all__ = ["WeightsFile", "find_weights", "resolve_weights", "weights_folders"]


@dataclass(frozen=True)
class WeightsFile:
    """A pretrained weights file: its path relative to a weights folder, its SHA-256, and
    the URL it can be downloaded from (None when there is no public copy)."""

    name: str
    sha256: str
    origin: str | None = None


def weights_folders() -> list[Path]:
    """The folders searched for weights files: `LAMINA_WEIGHTS`'s, then the cache."""
    listed = os.environ.get("LAMINA_WEIGHTS", "")
    folders = [Path(entry).expanduser() for entry in listed.split(os.pathsep) if entry]
    return [*folders, lamina_home() / "weights"]


def _verified(path: Path, file: WeightsFile) -> Path:
    actual = file_sha256(path)
    if actual != file.sha256:
        raise ValueError(
            f"The weights file {path} has the wrong SHA-256, so it is corrupted or is not "
            f"{file.name!r}.\n  expected: {file.sha256}\n  actual:   {actual}\n"
            "Delete it, or replace it with a good copy."
        )
    return path


def find_weights(file: WeightsFile) -> Path:
    """A verified local copy of `file`, else a verified download of it.

    Raises:
        FileNotFoundError: no copy on disk and no download possible; says where it looked.
        ValueError: a copy has the wrong SHA-256.
    """
    relative = PurePosixPath(file.name)
    for folder in weights_folders():
        for candidate in (folder.joinpath(*relative.parts), folder / relative.name):
            if candidate.is_file():
                return _verified(candidate, file)
    failure = "it has no public download address"
    if file.origin is not None:
        try:
            path = get_file(
                fname=relative.name,
                origin=file.origin,
                file_hash=file.sha256,
                cache_dir=lamina_home() / "weights",
                cache_subdir=Path(*relative.parent.parts),
            )
            return _verified(Path(path), file)
        except OSError as error:
            failure = f"downloading {file.origin} failed: {error}"
    searched = "\n".join(f"  {folder}" for folder in weights_folders())
    raise FileNotFoundError(
        f"Could not find the pretrained weights {file.name!r} (SHA-256 {file.sha256}); "
        f"{failure}. Looked in:\n{searched}\nPut the file in one of these folders (list yours "
        f"in the environment variable LAMINA_WEIGHTS, separated by {os.pathsep!r}), or pass "
        "its path as weights=."
    )


def resolve_weights(
    weights: str | os.PathLike[str] | None, file: WeightsFile, tag: str = "imagenet"
) -> Path | None:
    """None for `weights=None`; the located `file` for `weights=tag`; else `weights` as a
    path to an existing file."""
    if weights is None:
        return None
    if isinstance(weights, str) and weights == tag:
        return find_weights(file)
    path = Path(weights).expanduser()
    if not path.is_file():
        raise ValueError(
            f"weights must be None, {tag!r} or the path of a weights file; got {weights!r} "
            "(no such file)"
        )
    return path
