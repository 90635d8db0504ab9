"""CURVE certificates in pyzmq's (and czmq's) file format (DESIGN §8), for gzmq.auth.

``NAME.key`` holds the public key, ``NAME.key_secret`` both keys, as the
text files pyzmq's ``zmq.auth.create_certificates`` writes; files written by
either are read by both.  Public API: :mod:`gzmq.auth` re-exports
:class:`Certificate`, :func:`create_certificates`, :func:`load_certificate`
and :func:`load_certificates`.
"""

from __future__ import annotations

import datetime
import errno
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple, Union

import zmq
from zmq.utils import z85

__all__ = [
    "Certificate",
    "PathLike",
    "create_certificates",
    "load_certificate",
    "load_certificates",
    "z85_key",
]

PathLike = Union[str, "os.PathLike[str]"]


class Certificate(NamedTuple):
    """The keys of a certificate file, Z85: ``secret`` is None in a public certificate."""

    public: str
    secret: str | None



_Z85_LENGTH = 40


def z85_key(key: object, what: str) -> str:
    """A CURVE key as 40 Z85 characters; ValueError/TypeError naming ``what``."""
    if isinstance(key, (bytes, bytearray, memoryview)):
        data = bytes(key)
        if len(data) == 32:
            return z85.encode(data).decode("ascii")
        try:
            key = data.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError(f"{what}: not a Z85 key: {data[:48]!r}") from None
    if not isinstance(key, str):
        raise TypeError(
            f"{what}: a CURVE key is a 40-character Z85 str (or bytes), "
            f"got {type(key).__name__}: {key!r:.60}"
        )
    if len(key) != _Z85_LENGTH:
        raise ValueError(
            f"{what}: a CURVE key has {_Z85_LENGTH} Z85 characters, got {len(key)}: {key!r:.60}"
        )
    try:
        raw = z85.decode(key.encode("ascii"))
    except (ValueError, KeyError, UnicodeEncodeError, OverflowError, TypeError):
        raise ValueError(f"{what}: not a Z85 key: {key!r}") from None
    if len(raw) != 32:
        raise ValueError(f"{what}: not a Z85 key: {key!r}")
    return key


_PUBLIC_BANNER = """\
#   ****  Generated on {now} by gzmq  ****
#   ZeroMQ CURVE Public Certificate
#   Exchange securely, or use a secure mechanism to verify the contents
#   of this file after exchange. Store public certificates in your home
#   directory, in the .curve subdirectory.

"""

_SECRET_BANNER = """\
#   ****  Generated on {now} by gzmq  ****
#   ZeroMQ CURVE **Secret** Certificate
#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

"""


def _certificate_text(
    banner: str, public: str, secret: str | None, metadata: Mapping[str, str]
) -> str:
    lines = [banner.format(now=datetime.datetime.now().isoformat(sep=" ", timespec="seconds"))]
    lines.append("metadata\n")
    for name, value in metadata.items():
        lines.append(f"    {name} = \"{value}\"\n")
    lines.append("curve\n")
    lines.append(f"    public-key = \"{public}\"\n")
    if secret is not None:
        lines.append(f"    secret-key = \"{secret}\"\n")
    return "".join(lines)


def _write_file(path: Path, text: str, mode: int) -> None:
    """Write ``text`` to ``path`` with permissions ``mode``, atomically (replacing it)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def create_certificates(
    directory: PathLike,
    name: str,
    metadata: Mapping[str, str] | None = None,
    *,
    overwrite: bool = False,
) -> tuple[Path, Path]:
    """Write a new key pair as ``NAME.key`` (public) and ``NAME.key_secret``; their paths.

    The files are in pyzmq's (czmq's) format, readable by
    ``zmq.auth.load_certificate``; the secret one is made mode 0600.
    ``metadata`` (str: str) goes into the secret certificate's metadata
    section.  FileNotFoundError if ``directory`` does not exist,
    FileExistsError if either file exists (unless ``overwrite=True``).
    """
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"directory must be a path, got {type(directory).__name__}")
    folder = Path(directory)
    if not folder.is_dir():
        raise FileNotFoundError(
            errno.ENOENT, "no such certificate directory", str(folder)
        )
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\0" in name:
        raise ValueError(
            f"certificate name must be a non-empty file name without '/', got {name!r}"
        )
    fields = dict(metadata or {})
    for key, value in fields.items():
        if (
            not isinstance(key, str) or not isinstance(value, str)
            or not key or any(c in key for c in " =\n\"") or any(c in value for c in "\n\"")
        ):
            raise ValueError(
                f"certificate metadata must be str names (no spaces, '=', quotes) and "
                f"one-line str values without quotes, got {key!r}: {value!r}"
            )
    public_path = folder / f"{name}.key"
    secret_path = folder / f"{name}.key_secret"
    if not overwrite:
        for path in (public_path, secret_path):
            if path.exists():
                raise FileExistsError(
                    errno.EEXIST,
                    "certificate exists (remove it or pass overwrite=True)",
                    str(path),
                )
    public_raw, secret_raw = zmq.curve_keypair()
    public, secret = public_raw.decode("ascii"), secret_raw.decode("ascii")
    _write_file(secret_path, _certificate_text(_SECRET_BANNER, public, secret, fields), 0o600)
    _write_file(public_path, _certificate_text(_PUBLIC_BANNER, public, None, {}), 0o644)
    return public_path, secret_path


def load_certificate(path: PathLike) -> Certificate:
    """The keys of a certificate file (pyzmq's or czmq's format): ``(public, secret or None)``.

    FileNotFoundError if there is no such file; ValueError naming the file
    if it has no public key, a key is not 40 Z85 characters, or the secret
    key does not belong to the public key.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"a certificate path must be a str or path, got {type(path).__name__}")
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(errno.ENOENT, "no such certificate file", str(file))
    if file.is_dir():
        raise IsADirectoryError(
            errno.EISDIR,
            "a directory, not a certificate file (load_certificates() reads directories)",
            str(file),
        )
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{str(file)!r} is not a certificate (not UTF-8 text)") from None
    values: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, equals, value = stripped.partition("=")
        name = name.strip()
        if equals and name in ("public-key", "secret-key") and name not in values:
            values[name] = value.strip().strip("\"'")
    if "public-key" not in values:
        raise ValueError(f"no public key in certificate {str(file)!r}")
    public = z85_key(values["public-key"], f"public key in {str(file)!r}")
    secret = None
    if "secret-key" in values:
        secret = z85_key(values["secret-key"], f"secret key in {str(file)!r}")
        if zmq.curve_public(secret.encode("ascii")).decode("ascii") != public:
            raise ValueError(
                f"certificate {str(file)!r}: the secret key does not belong to the public key"
            )
    return Certificate(public, secret)


def load_certificates(directory: PathLike) -> dict[str, Path]:
    """The public keys of the ``*.key`` certificates in ``directory``: key (Z85) -> file.

    NotADirectoryError if ``directory`` is not one; ValueError naming the
    file for a certificate that cannot be read.
    """
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"directory must be a path, got {type(directory).__name__}")
    folder = Path(directory)
    if not folder.is_dir():
        raise NotADirectoryError(
            errno.ENOTDIR, "not a directory of certificates", str(folder)
        )
    keys: dict[str, Path] = {}
    for file in sorted(folder.glob("*.key")):
        if file.is_file():
            keys[load_certificate(file).public] = file
    return keys
