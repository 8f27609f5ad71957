"""Files written atomically, and zip archives read with every member checked before use.

Writing: the bytes go to a temporary file in the destination's folder, are flushed and synced,
and the temporary file is renamed over the destination, so a crash or a full disk leaves the
previous file as it was. With torch.distributed initialised, only rank 0 writes.

Reading: an archive is refused, with the file and the problem named, when it is not a zip, has
a member twice, has a member it should not (including any path with a folder, `..`, or an
absolute path), misses a required member, declares sizes it does not have, or compresses
suspiciously well (a zip bomb). Sizes are checked before anything is read into memory.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

__all__ = ["MissingFileError", "atomic_write", "is_writer", "read_archive", "write_archive"]


class MissingFileError(FileNotFoundError, ValueError):
    """No file to load: Keras' load_model raises a ValueError ('File not found: ...'); this is
    also the FileNotFoundError lamina raised before."""


# A deflated member may expand at most this much; JSON compresses ~5-20x, weights are stored.
MAX_COMPRESSION_RATIO = 200
# No single member may exceed this (the weights of the largest zoo models are far below it).
MAX_MEMBER_BYTES = 64 * 2**30
_SMALL = 2**20  # members this small are never called bombs
# What zipfile raises on damaged data (a bad CRC, a broken deflate stream, a bad header).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    UnicodeDecodeError,
)


def is_writer() -> bool:
    """False on the ranks other than 0 of an initialised torch.distributed job."""
    import torch.distributed as dist

    return not (dist.is_available() and dist.is_initialized() and dist.get_rank() != 0)


def _default_permissions() -> int:
    # mkstemp creates files private (0600); give the result the permissions of a normal file.
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> None:
    """Call `write(handle)` on a temporary file beside `path`, then rename it to `path`.

    On any error the temporary file is removed, `path` keeps its previous content, and an
    OSError names the file (the original error is chained).
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _default_permissions())
        os.replace(temporary, target)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OSError(
                error.errno,
                f"Could not write {str(target)!r} ({error.strerror or error}); the previous "
                "file, if any, is unchanged",
            ) from error
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where the OS allows
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def write_archive(
    path: str | os.PathLike[str], members: dict[str, bytes], compress: Iterable[str] = ()
) -> None:
    """Write `members` (name -> bytes) as one zip file, atomically; `compress` names the
    members to deflate (the others are stored, so tensors can be read without inflating)."""
    deflated = set(compress)

    def write(handle: BinaryIO) -> None:
        with zipfile.ZipFile(handle, "w") as archive:
            for name, data in members.items():
                method = zipfile.ZIP_DEFLATED if name in deflated else zipfile.ZIP_STORED
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = method
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)

    atomic_write(path, write)


def _check_name(name: str, source: str) -> None:
    bad = (
        not name
        or name.startswith(("/", "\\"))
        or "/" in name
        or "\\" in name
        or ".." in name
        or "\x00" in name
        or (len(name) > 1 and name[1] == ":")
    )
    if bad:
        raise ValueError(
            f"{source}: refusing archive member {name!r}: lamina files hold only plain top-level "
            "members (no folders, '..', absolute or drive paths)"
        )


def read_archive(
    path: str | os.PathLike[str], allowed: Iterable[str], required: Iterable[str], what: str
) -> dict[str, bytes]:
    """Read and check every member of the zip file at `path`; returns name -> bytes.

    Args:
        allowed: the only member names that may appear.
        required: the names that must appear.
        what: how to call the file in messages ("lamina model file").
    """
    source = f"{what} {str(path)!r}"
    file = Path(path)
    if not file.is_file():
        raise MissingFileError(f"File not found: filepath={path}. No {what} at {str(path)!r}")
    size = file.stat().st_size
    with open(file, "rb") as raw:
        data = raw.read()
    if len(data) != size:
        raise ValueError(f"{source} changed while it was read; try again")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as error:
        raise ValueError(
            f"{source} is not a valid {what} (not a readable zip archive: {error}); it may be "
            "truncated or corrupted"
        ) from None
    with archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        for name in names:
            _check_name(name, source)
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"{source} has duplicate members {duplicates}; refusing it")
        unexpected = sorted(set(names) - set(allowed))
        if unexpected:
            raise ValueError(
                f"{source} has unexpected members {unexpected}; a {what} holds only "
                f"{sorted(allowed)}"
            )
        missing = sorted(set(required) - set(names))
        if missing:
            raise ValueError(f"{source} is missing {missing}; it is incomplete or not a {what}")
        total = 0
        for info in infos:
            _check_sizes(info, size, source)
            total += info.compress_size
        if total > size:
            raise ValueError(
                f"{source} declares {total} bytes of members in a {size}-byte file; it is "
                "truncated or corrupted"
            )
        members = {}
        for info in infos:
            try:
                with archive.open(info) as handle:
                    content = handle.read(info.file_size + 1)
            except _ZIP_ERRORS as error:
                raise ValueError(
                    f"{source}: member {info.filename!r} is corrupted ({error}); the file was "
                    "damaged after it was written"
                ) from None
            if len(content) != info.file_size:
                raise ValueError(
                    f"{source}: member {info.filename!r} holds {len(content)} bytes where its "
                    f"header declares {info.file_size}"
                )
            members[info.filename] = content
    return members


def _check_sizes(info: zipfile.ZipInfo, archive_size: int, source: str) -> None:
    name = info.filename
    if info.flag_bits & 0x1:
        raise ValueError(f"{source}: member {name!r} is encrypted; lamina files never are")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ValueError(f"{source}: member {name!r} is a symbolic link; refusing it")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ValueError(
            f"{source}: member {name!r} uses compression method {info.compress_type}; lamina "
            "files are stored or deflated only"
        )
    if info.file_size > MAX_MEMBER_BYTES:
        raise ValueError(
            f"{source}: member {name!r} declares {info.file_size} bytes, more than the "
            f"{MAX_MEMBER_BYTES}-byte limit; refusing it"
        )
    if info.compress_size > archive_size:
        raise ValueError(
            f"{source}: member {name!r} declares {info.compress_size} compressed bytes in a "
            f"{archive_size}-byte file; it is truncated or corrupted"
        )
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise ValueError(
            f"{source}: stored member {name!r} declares {info.file_size} bytes but occupies "
            f"{info.compress_size}; it is corrupted"
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > _SMALL and ratio > MAX_COMPRESSION_RATIO:
        raise ValueError(
            f"{source}: member {name!r} would expand {ratio:.0f}x (from {info.compress_size} to "
            f"{info.file_size} bytes), beyond the {MAX_COMPRESSION_RATIO}x limit: it looks like "
            "a zip bomb; refusing it"
        )
