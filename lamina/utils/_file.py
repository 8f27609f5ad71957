"""Files from the internet: `get_file` downloads into the cache, checks hashes, extracts archives.

Every download goes to a temporary `.part` file beside its target and is renamed into place only
once its hash is verified, so the cache never holds a half-written or unverified file. Archives
are extracted into a temporary folder, member by member checked to stay inside it, and renamed
into place at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath, PureWindowsPath

__all__ = ["extract_archive", "get_file", "hash_file", "lamina_home"]

# Reads and hashes in 1 MiB chunks: large enough that Python overhead is negligible, small
# enough to keep memory flat for the 170 MB CIFAR archive.
_CHUNK_BYTES = 1 << 20
# Seconds without data before a download is abandoned; a stalled server should fail, not hang.
_TIMEOUT_S = 60
_SCHEMES = ("http", "https", "file")
_HASH_LENGTHS = {64: "sha256", 32: "md5"}


def lamina_home() -> Path:
    """Return lamina's home folder: `$LAMINA_HOME` if set, else `~/.lamina`."""
    home = os.environ.get("LAMINA_HOME")
    return Path(home).expanduser() if home else Path.home() / ".lamina"


def _hash_algorithm(file_hash: str, hash_algorithm: str) -> str:
    if hash_algorithm in ("sha256", "md5"):
        return hash_algorithm
    if hash_algorithm != "auto":
        raise ValueError(
            f"hash_algorithm must be 'auto', 'sha256' or 'md5'; got {hash_algorithm!r}"
        )
    algorithm = _HASH_LENGTHS.get(len(file_hash))
    if algorithm is None:
        raise ValueError(
            f"Cannot tell the hash algorithm of file_hash={file_hash!r}: a SHA-256 has 64 hex "
            "digits and an MD5 32. Pass the full hash, or set hash_algorithm='sha256' or 'md5'."
        )
    return algorithm


def hash_file(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Return the hex digest of a file's contents ('sha256' or 'md5'), read in chunks.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "empty"
    >>> path.write_bytes(b"")
    0
    >>> hash_file(path)
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    hasher = hashlib.new(algorithm)
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK_BYTES):
            hasher.update(chunk)
    return hasher.hexdigest()


def _refuse(archive: Path, member: str, why: str) -> ValueError:
    return ValueError(
        f"Refusing to extract {archive}: member {member!r} {why}. Archives may only contain "
        "relative paths inside the extraction folder. The file may be corrupted or malicious; "
        "do not use it."
    )


def _member_target(archive: Path, root: Path, name: str) -> Path:
    """Return where member `name` lands under `root`, or raise if it would land outside."""
    if not name or PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute():
        raise _refuse(archive, name, "has an absolute path")
    if PureWindowsPath(name).drive:
        raise _refuse(archive, name, "names a drive")
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        raise _refuse(archive, name, "contains '..'")
    target = (root / name).resolve()
    if not target.is_relative_to(root):
        raise _refuse(archive, name, "resolves outside the extraction folder")
    return target


def _checked_tar_members(archive: Path, tar: tarfile.TarFile, root: Path) -> list[tarfile.TarInfo]:
    """Every member of `tar`, after checking that none writes, or links, outside `root`."""
    members = tar.getmembers()
    for member in members:
        target = _member_target(archive, root, member.name)
        if member.issym():
            if PurePosixPath(member.linkname).is_absolute():
                raise _refuse(
                    archive, member.name, f"is a link to an absolute path {member.linkname!r}"
                )
            if not (target.parent / member.linkname).resolve().is_relative_to(root):
                raise _refuse(
                    archive, member.name, f"links outside the folder ({member.linkname!r})"
                )
        elif member.islnk():
            _member_target(archive, root, member.linkname)
        elif not (member.isfile() or member.isdir()):
            raise _refuse(archive, member.name, "is a device or pipe, not a file or folder")
    return members


def _extract_tar(archive: Path, destination: Path) -> None:
    with tarfile.open(archive) as tar:
        members = _checked_tar_members(archive, tar, destination.resolve())
        # `filter='data'` (Python >= 3.10.12 / 3.11.4 / 3.12) repeats these checks in the
        # standard library and also drops permission bits such as setuid; older Pythons rely
        # on the checks above alone.
        if hasattr(tarfile, "data_filter"):
            tar.extractall(destination, members=members, filter="data")
        else:  # pragma: no cover - Pythons without extraction filters
            tar.extractall(destination, members=members)


def _extract_zip(archive: Path, destination: Path) -> None:
    with zipfile.ZipFile(archive) as zipped:
        root = destination.resolve()
        for name in zipped.namelist():
            _member_target(archive, root, name)
        zipped.extractall(destination)


def extract_archive(
    file_path: str | os.PathLike,
    path: str | os.PathLike,
    archive_format: str | list | None = "auto",
) -> bool:
    """Extract a tar (plain, gz, bz2, xz) or zip archive into the folder `path`.

    The archive is extracted into a temporary folder beside `path`, which replaces `path` only
    once every member is out. A member with an absolute path, a `..` component, a link leaving
    the folder, or a device file makes the whole archive refused with a `ValueError`.

    Args:
        file_path: the archive.
        path: the folder to create (replaced if it exists).
        archive_format: 'auto' (tar, then zip), 'tar', 'zip', a list of those, or None.

    Returns:
        True if the archive matched a format and was extracted, False otherwise.
    """
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else archive_format
    if isinstance(formats, str):
        formats = [formats]
    archive, destination = Path(file_path), Path(path)
    extractors = {
        "tar": (tarfile.is_tarfile, _extract_tar),
        "zip": (zipfile.is_zipfile, _extract_zip),
    }
    for archive_type in formats:
        if archive_type not in extractors:
            raise ValueError(
                f"archive_format must be 'auto', 'tar', 'zip', a list of those or None; "
                f"got {archive_format!r}"
            )
        is_match, extract = extractors[archive_type]
        if not is_match(archive):
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".part", dir=destination.parent)
        )
        try:
            extract(archive, staging)
            staging.chmod(0o755)  # mkdtemp's folders are private; extracted data is not.
            if destination.exists():
                shutil.rmtree(destination)
            os.replace(staging, destination)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return True
    return False


def _cache_folder(cache_dir: str | os.PathLike | None, cache_subdir: str | os.PathLike) -> Path:
    root = Path(cache_dir).expanduser() if cache_dir is not None else lamina_home()
    folder = root / cache_subdir
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(
            f"Cannot create the cache folder {folder}: {error}. Set the environment variable "
            "LAMINA_HOME (or pass cache_dir=) to a writable folder."
        ) from error
    return folder


def _file_name(fname: str | os.PathLike | None, origin: str) -> str:
    name = os.fspath(fname) if fname is not None else ""
    if not name:
        name = os.path.basename(urllib.parse.unquote(urllib.parse.urlsplit(origin).path))
        if not name:
            raise ValueError(
                f"Cannot take a file name from origin={origin!r}; pass fname='name.ext'."
            )
    if "/" in name or os.sep in name or name in (".", ".."):
        raise ValueError(
            f"fname must be a plain file name; got {name!r}. To choose the folder, pass "
            "cache_dir= (and cache_subdir=)."
        )
    return name


def _fetch_error(origin: str, error: BaseException) -> OSError:
    reason = getattr(error, "reason", None) or error
    return OSError(f"URL fetch failure on {origin}: {reason}")


def _download(origin: str, target: Path, file_hash: str | None, algorithm: str) -> None:
    """Stream `origin` into `target.<random>.part`, verify it, then rename it to `target`."""
    print(f"Downloading data from {origin}")
    descriptor, part_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".part", dir=target.parent
    )
    part = Path(part_name)
    hasher = hashlib.new(algorithm)
    try:
        with os.fdopen(descriptor, "wb") as out:
            request = urllib.request.Request(origin, headers={"User-Agent": "lamina"})
            try:
                with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
                    expected_bytes = int(response.headers.get("Content-Length") or -1)
                    received = 0
                    while chunk := response.read(_CHUNK_BYTES):
                        out.write(chunk)
                        hasher.update(chunk)
                        received += len(chunk)
                        if expected_bytes > 0 and sys.stdout.isatty():
                            print(f"\r{received / expected_bytes:6.1%}", end="", flush=True)
                    if expected_bytes > 0 and sys.stdout.isatty():
                        print()
            except (OSError, http.client.HTTPException, ValueError) as error:
                raise _fetch_error(origin, error) from error
        if expected_bytes > 0 and received != expected_bytes:
            raise OSError(
                f"URL fetch failure on {origin}: received {received} of {expected_bytes} bytes"
            )
        actual = hasher.hexdigest()
        if file_hash is not None and actual != file_hash:
            raise ValueError(
                f"The file downloaded from {origin} is corrupted or not the expected one: its "
                f"{algorithm} is {actual}, expected {file_hash}. Nothing was saved. Try again; "
                "if it persists, the file at the URL has changed."
            )
        # mkstemp creates files readable by their owner only; a cache holds public data.
        os.chmod(part, 0o644)
        os.replace(part, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()


def get_file(
    fname: str | os.PathLike | None = None,
    origin: str | None = None,
    file_hash: str | None = None,
    hash_algorithm: str = "auto",
    extract: bool = False,
    cache_dir: str | os.PathLike | None = None,
    cache_subdir: str | os.PathLike = "datasets",
    force_download: bool = False,
    archive_format: str | Iterable[str] | None = "auto",
    untar: bool = False,
    md5_hash: str | None = None,
) -> str:
    """Download a file from a URL unless it is already in the cache, and return its local path.

    The file lands in `cache_dir/cache_subdir/fname`: by default `~/.lamina/datasets/` (or
    `$LAMINA_HOME/datasets/`). With `file_hash`, a cached copy with another hash is downloaded
    again, and a download with another hash raises `ValueError` and leaves nothing behind.

    Args:
        fname: local file name; defaults to the last component of `origin`'s path. With
            `extract=True` and a name without a dot, the name of the extraction folder.
        origin: URL of the file: http(s):// or file://.
        file_hash: expected SHA-256 (64 hex digits) or MD5 (32) of the file.
        hash_algorithm: 'sha256', 'md5', or 'auto' (chosen by the length of `file_hash`).
        extract: extract the tar or zip archive, and return the extraction folder.
        cache_dir: root of the cache; default `$LAMINA_HOME` or `~/.lamina`.
        cache_subdir: folder under `cache_dir` (an absolute path is used as is).
        force_download: download even if a cached copy exists.
        archive_format: 'auto', 'tar', 'zip', a list of those, or None (for `extract`).
        untar: older Keras spelling of `extract=True` with `archive_format='tar'`.
        md5_hash: older Keras spelling of `file_hash=` with `hash_algorithm='md5'`.

    Returns:
        The path of the file, or of the extraction folder with `extract=True`.

    Never download a file you do not trust; pass `file_hash` (from a separate channel) so that
    what arrives is what you expect.

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "notes.txt").write_text("hello")
    >>> url = (folder / "notes.txt").as_uri()
    >>> path = get_file(origin=url, cache_dir=folder / "cache")  # doctest: +ELLIPSIS
    Downloading data from file://...
    >>> pathlib.Path(path).read_text()
    'hello'
    """
    if origin is None:
        raise ValueError("get_file needs origin=, the URL of the file to download.")
    scheme = urllib.parse.urlsplit(origin).scheme
    if scheme not in _SCHEMES:
        raise ValueError(
            f"get_file downloads http://, https:// and file:// URLs; got origin={origin!r}."
        )
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    algorithm = "sha256"
    if file_hash is not None:
        file_hash = file_hash.strip().lower()
        algorithm = _hash_algorithm(file_hash, hash_algorithm)
    if untar:
        extract, archive_format = True, "tar"

    folder = _cache_folder(cache_dir, cache_subdir)
    name = _file_name(fname, origin)
    target = folder / name
    extraction_folder = None
    if extract:
        # Keras 3's names: 'data.tar.gz' is saved as is and extracted to 'data_extracted';
        # a dotless 'data' is the folder, and the archive is saved as 'data_archive'.
        if fname is not None and "." not in name:
            extraction_folder, target = folder / name, folder / f"{name}_archive"
        elif fname is not None:
            extraction_folder = folder / f"{name[: name.find('.')]}_extracted"
        else:
            extraction_folder, target = folder / name, folder / f"{name}_archive"

    download = force_download or not target.is_file()
    if not download and file_hash is not None:
        actual = hash_file(target, algorithm)
        if actual != file_hash:
            print(
                f"The cached file {target} has {algorithm} {actual}, expected {file_hash}: "
                "downloading it again."
            )
            download = True
    if download:
        _download(origin, target, file_hash, algorithm)

    if extraction_folder is None:
        return str(target)
    already_extracted = not download and extraction_folder.is_dir()
    if not already_extracted and not extract_archive(target, extraction_folder, archive_format):
        raise ValueError(
            f"extract=True, but {target} (from {origin}) is not a {archive_format} archive "
            "that lamina can extract (tar, tar.gz, tar.bz2, tar.xz or zip)."
        )
    return str(extraction_folder)
