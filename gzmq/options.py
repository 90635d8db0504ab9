"""Options as a declarative registry of descriptors.

One :class:`Option` per option, declared in the class body (or in a mixin
shared by a group of classes)::

    linger = Option(zmq.SocketOption.LINGER, Int32(minimum=-1), READ_WRITE, immediate=True,
                    doc="ZMQ_LINGER: how long (ms) close() keeps unsent messages.")

The descriptor is the only table: it validates values before libzmq sees
them, enforces access, registers the option for :func:`options`, carries the
static type and produces the documentation (:func:`options_markdown`).  The
libzmq id and wire type come from pyzmq's :class:`zmq.SocketOption` /
:class:`zmq.ContextOption`; a kind that disagrees with pyzmq's wire type is
refused when the class is defined.  The owner (a socket or a context)
provides ``_read_option(option)`` and ``_write_option(option, wire_value)``;
sockets pass them to :func:`read_socket_option` / :func:`write_socket_option`.
"""

from __future__ import annotations

import ctypes
import enum
import ipaddress
import os
import re
import string
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, Generic, TypeVar, overload

import zmq
import zmq.utils.z85

from gzmq.errors import (
    NotSupportedError,
    OptionValueError,
    ReadOnlyOptionError,
    UnknownOptionError,
    WriteOnlyOptionError,
)

__all__ = [
    "READ",
    "READ_WRITE",
    "WRITE",
    "Access",
    "Binary",
    "Bool",
    "Choice",
    "Cidr",
    "CurveKey",
    "Int32",
    "Int64",
    "Kind",
    "NullableText",
    "Option",
    "Text",
    "UInt64",
    "apply_options",
    "options",
    "options_markdown",
    "read_socket_option",
    "write_socket_option",
]

T = TypeVar("T")


class Access(enum.Flag):
    """Whether an option may be read, written, or both."""

    READ = 1
    WRITE = 2
    READ_WRITE = 3


READ = Access.READ
WRITE = Access.WRITE
READ_WRITE = Access.READ_WRITE


# -- kinds ------------------------------------------------------------------------


class Kind(Generic[T]):
    """How an option's value is checked, converted for libzmq, and read back."""

    #: How the expected type is named in error messages.
    expected = "value"
    #: pyzmq's wire type for the option: "int", "int64" or "bytes".
    wire = "int"
    #: Read through libzmq's C API with a buffer of this many bytes (pyzmq's
    #: fixed 255-byte buffer does not suit every option); None: through pyzmq.
    raw_size: int | None = None

    def encode(self, option: Option[T], value: Any) -> Any:
        """Check ``value`` and convert it to what pyzmq passes to libzmq.

        None as the result means "set with a NULL pointer" (clears the option).
        """
        raise NotImplementedError

    def decode(self, raw: Any) -> T:
        """Convert what libzmq returned to the option's Python value."""
        return raw

    def describe(self) -> str:
        """The type and accepted values, for the documentation."""
        return self.expected

    def type_error(self, option: Option[T], value: Any) -> TypeError:
        """A TypeError naming the option and the expected type."""
        return TypeError(
            f"option {option.name!r} expects {self.expected}, "
            f"got {type(value).__name__}: {value!r:.80}"
        )


class Bool(Kind[bool]):
    """A boolean (libzmq int 0/1); only True and False are accepted."""

    expected = "bool"

    def encode(self, option: Option[bool], value: Any) -> int:
        if not isinstance(value, bool):
            raise self.type_error(option, value)
        return int(value)

    def decode(self, raw: Any) -> bool:
        return bool(raw)


class _Integer(Kind[int]):
    low = -(2**31)
    high = 2**31 - 1
    bits = "int32"

    def __init__(self, minimum: int | None = None, maximum: int | None = None) -> None:
        self.minimum = self.low if minimum is None else minimum
        self.maximum = self.high if maximum is None else maximum
        if not self.low <= self.minimum <= self.maximum <= self.high:
            raise ValueError(f"bad range [{minimum}, {maximum}] for {type(self).__name__}")

    def encode(self, option: Option[int], value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.type_error(option, value)
        if not self.minimum <= value <= self.maximum:
            raise OptionValueError(
                f"option {option.name!r} must be between {self.minimum} and "
                f"{self.maximum}, got {value}"
            )
        return int(value)

    def decode(self, raw: Any) -> int:
        return int(raw)

    def describe(self) -> str:
        low = "" if self.minimum == self.low else f"{self.minimum}"
        high = "" if self.maximum == self.high else f"{self.maximum}"
        if not low and not high:
            return f"int ({self.bits})"
        if not high:
            return f"int ({self.bits}) ≥ {low}"
        return f"int ({self.bits}) {low or self.low} … {high}"


class Int32(_Integer):
    """A signed 32-bit integer, optionally narrowed to [minimum, maximum]."""

    expected = "int (32-bit)"


class Int64(_Integer):
    """A signed 64-bit integer, optionally narrowed to [minimum, maximum]."""

    expected = "int (64-bit)"
    wire = "int64"
    low = -(2**63)
    high = 2**63 - 1
    bits = "int64"


class UInt64(_Integer):
    """An unsigned 64-bit integer (passed to pyzmq as its two's complement int64)."""

    expected = "int (unsigned 64-bit)"
    wire = "int64"
    low = 0
    high = 2**64 - 1
    bits = "uint64"

    def encode(self, option: Option[int], value: Any) -> int:
        number = super().encode(option, value)
        return number - 2**64 if number >= 2**63 else number

    def decode(self, raw: Any) -> int:
        number = int(raw)
        return number + 2**64 if number < 0 else number


def _text(option: Option[Any], kind: Kind[Any], value: Any, low: int, high: int) -> bytes:
    if not isinstance(value, str):
        raise kind.type_error(option, value)
    data = value.encode("utf-8")
    if b"\0" in data:
        raise OptionValueError(f"option {option.name!r} cannot contain NUL characters")
    if not low <= len(data) <= high:
        raise OptionValueError(
            f"option {option.name!r} must be {low} to {high} bytes of UTF-8, got {len(data)}"
        )
    return data


def _untext(raw: Any) -> str:
    if isinstance(raw, bytes):
        return raw.rstrip(b"\0").decode("utf-8", "replace")
    return str(raw)


class Text(Kind[str]):
    """A UTF-8 string without NUL characters (libzmq's character options)."""

    expected = "str"
    wire = "bytes"

    def __init__(self, min_bytes: int = 0, max_bytes: int = 255) -> None:
        self.min_bytes = min_bytes
        self.max_bytes = max_bytes
        self.raw_size = max_bytes + 1  # pyzmq's 255-byte buffer misses the NUL of 255 bytes

    def encode(self, option: Option[str], value: Any) -> bytes:
        return _text(option, self, value, self.min_bytes, self.max_bytes)

    def decode(self, raw: Any) -> str:
        return _untext(raw)

    def describe(self) -> str:
        return f"str ({self.min_bytes} … {self.max_bytes} bytes)"


class NullableText(Kind["str | None"]):
    """A UTF-8 string, or None: setting None clears the option, None reads back when unset."""

    expected = "str or None"
    wire = "bytes"

    def __init__(self, min_bytes: int = 1, max_bytes: int = 255) -> None:
        self.min_bytes = min_bytes
        self.max_bytes = max_bytes
        self.raw_size = max_bytes + 1  # pyzmq's 255-byte buffer misses the NUL of 255 bytes

    def encode(self, option: Option[str | None], value: Any) -> bytes | None:
        if value is None:
            return None
        return _text(option, self, value, self.min_bytes, self.max_bytes)

    def decode(self, raw: Any) -> str | None:
        return _untext(raw) or None

    def describe(self) -> str:
        return f"str ({self.min_bytes} … {self.max_bytes} bytes) or None"


class Cidr(NullableText):
    """A TCP accept filter: an IPv4/IPv6 address with an optional /prefix; None clears all."""

    expected = "str (address or address/prefix) or None"

    def __init__(self) -> None:
        super().__init__(min_bytes=1, max_bytes=254)

    def encode(self, option: Option[str | None], value: Any) -> bytes | None:
        data = super().encode(option, value)
        if data is None:
            return None
        address, slash, prefix = value.partition("/")
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            raise OptionValueError(
                f"option {option.name!r} expects an IP address (no host names), got {value!r}"
            ) from None
        if slash and not (prefix.isdigit() and int(prefix) <= parsed.max_prefixlen):
            raise OptionValueError(
                f"option {option.name!r}: the prefix length of {value!r} must be "
                f"0 to {parsed.max_prefixlen}"
            )
        return data

    def describe(self) -> str:
        return "str: IP address[/prefix]; None clears"


class Binary(Kind[bytes]):
    """Binary data (bytes, bytearray, memoryview, or str as UTF-8); NUL bytes are kept."""

    expected = "bytes"
    wire = "bytes"

    def __init__(
        self, min_bytes: int = 0, max_bytes: int = 255, *, leading_nul: bool = True
    ) -> None:
        self.min_bytes = min_bytes
        self.max_bytes = max_bytes
        self.leading_nul = leading_nul

    def encode(self, option: Option[bytes], value: Any) -> bytes:
        if isinstance(value, str):
            data = value.encode("utf-8")
        elif isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
        else:
            raise self.type_error(option, value)
        if not self.min_bytes <= len(data) <= self.max_bytes:
            raise OptionValueError(
                f"option {option.name!r} must be {self.min_bytes} to {self.max_bytes} "
                f"bytes long, got {len(data)}"
            )
        if not self.leading_nul and data[:1] == b"\0":
            raise OptionValueError(
                f"option {option.name!r} may not start with a NUL byte "
                "(libzmq reserves those for its own routing ids)"
            )
        return data

    def decode(self, raw: Any) -> bytes:
        return bytes(raw)

    def describe(self) -> str:
        return f"bytes ({self.min_bytes} … {self.max_bytes})"


_Z85_ALPHABET = frozenset(string.digits + string.ascii_letters + ".-:+=^!/*?&<>()[]{}@%$#")
_UNSET_KEY = "0" * 40  # Z85 of 32 zero bytes: what libzmq reports for a key never set


class CurveKey(Kind["str | None"]):
    """A CURVE key: 40 Z85 characters (or 32 raw bytes); reads back as Z85, None if unset."""

    expected = "a 40-character Z85 str or 32 bytes"
    wire = "bytes"
    raw_size = 41  # libzmq returns Z85 text only into a buffer of exactly 41 bytes

    def encode(self, option: Option[str | None], value: Any) -> bytes:
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            if len(data) == 32:
                return data
            if len(data) != 40:
                raise OptionValueError(
                    f"option {option.name!r} takes 32 raw bytes or 40 Z85 characters, "
                    f"got {len(data)} bytes"
                )
            value = data.decode("latin-1")
        if not isinstance(value, str):
            raise self.type_error(option, value)
        if len(value) != 40:
            raise OptionValueError(
                f"option {option.name!r} takes a 40-character Z85 key, got {len(value)} "
                "characters"
            )
        bad = sorted(set(value) - _Z85_ALPHABET)
        if bad:
            raise OptionValueError(f"option {option.name!r}: not Z85 characters: {''.join(bad)!r}")
        return value.encode("ascii")

    def decode(self, raw: Any) -> str | None:
        data = bytes(raw).rstrip(b"\0")
        if len(data) == 32:
            data = zmq.utils.z85.encode(data)
        text = data.decode("ascii")
        return None if text == _UNSET_KEY else text

    def describe(self) -> str:
        return "str (40 Z85 chars) or 32 bytes"


class Choice(Kind[Any]):
    """One of a fixed set of names (zeromq.js's string enums) mapped to libzmq ints.

    Names are str (or None); anything else is a TypeError, an unknown name an
    OptionValueError.
    """

    def __init__(self, names: Mapping[str | None, int]) -> None:
        self.names = dict(names)
        self.values = {value: name for name, value in self.names.items()}
        self.expected = " or ".join(repr(name) for name in self.names)

    def encode(self, option: Option[Any], value: Any) -> int:
        if value is not None and not isinstance(value, str):
            raise self.type_error(option, value)
        try:
            return self.names[value]
        except KeyError:
            raise OptionValueError(
                f"option {option.name!r} expects {self.expected}, got {value!r}"
            ) from None

    def decode(self, raw: Any) -> Any:
        return self.values.get(int(raw), int(raw))

    def describe(self) -> str:
        return " | ".join("None" if name is None else f'"{name}"' for name in self.names)


# -- the descriptor -----------------------------------------------------------------

_CONSTANT = re.compile(r"ZMQ_[A-Z0-9_]+")


class Option(Generic[T]):
    """A socket or context option: descriptor, validator and registry entry.

    ``id`` is pyzmq's enum member (``zmq.SocketOption.LINGER``); the kind
    must agree with pyzmq's wire type for it.  ``immediate`` options take
    effect at once; setting any other option on a socket that is already
    bound or connected warns LateOptionWarning.  ``capability`` names a
    :data:`gzmq.capability` the linked libzmq must have, ``since`` the libzmq
    version that introduced the option; without them the option raises
    NotSupportedError when used.  The first line of ``doc`` starts with the
    libzmq constant.
    """

    def __init__(
        self,
        id: int,
        kind: Kind[T],
        access: Access = READ_WRITE,
        *,
        doc: str,
        immediate: bool = False,
        capability: str | None = None,
        since: tuple[int, int, int] | None = None,
    ) -> None:
        if not _CONSTANT.match(doc):
            raise ValueError(f"an option's doc starts with its libzmq constant, got {doc!r}")
        if isinstance(id, zmq.SocketOption) and id._opt_type.value != kind.wire:
            raise TypeError(
                f"ZMQ_{id.name} is {id._opt_type.value} in pyzmq, "
                f"but {type(kind).__name__} is {kind.wire}"
            )
        self.id = int(id)
        self.kind = kind
        self.access = access
        self.doc = doc
        self.__doc__ = doc
        self.immediate = immediate
        self.capability = capability
        self.since = since
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<Option {self.name} {self.constant} {self.access.name} {self.kind.expected}>"

    @property
    def constant(self) -> str:
        """The libzmq constant, e.g. "ZMQ_LINGER" (the start of the docstring)."""
        match = _CONSTANT.match(self.doc)
        return match.group() if match else ""

    @property
    def readable(self) -> bool:
        """Whether the option can be read."""
        return bool(self.access & READ)

    @property
    def writable(self) -> bool:
        """Whether the option can be written."""
        return bool(self.access & WRITE)

    @property
    def supported(self) -> bool:
        """Whether the linked libzmq has this option."""
        if self.capability is not None and not zmq.has(self.capability):
            return False
        return self.since is None or zmq.zmq_version_info() >= self.since

    def check_supported(self) -> None:
        """Raise NotSupportedError if the linked libzmq lacks this option."""
        if self.capability is not None and not zmq.has(self.capability):
            how = _HOW_TO_GET.get(self.capability, "")
            raise NotSupportedError(
                f"option {self.name!r} needs libzmq built with {self.capability} "
                f"support; this libzmq ({zmq.zmq_version()}) has none{how}"
            )
        if self.since is not None and zmq.zmq_version_info() < self.since:
            wanted = ".".join(map(str, self.since))
            raise NotSupportedError(
                f"option {self.name!r} needs libzmq {wanted} or newer; "
                f"this is {zmq.zmq_version()}"
            )

    @overload
    def __get__(self, instance: None, owner: type) -> Option[T]: ...

    @overload
    def __get__(self, instance: object, owner: type) -> T: ...

    def __get__(self, instance: object | None, owner: type) -> Option[T] | T:
        if instance is None:
            return self
        if not self.access & READ:
            raise WriteOnlyOptionError(f"option {self.name!r} is write-only")
        if self.capability is not None or self.since is not None:
            self.check_supported()
        return self.kind.decode(instance._read_option(self))  # type: ignore[attr-defined]

    def __set__(self, instance: object, value: T) -> None:
        if not self.access & WRITE:
            raise ReadOnlyOptionError(f"option {self.name!r} is read-only")
        if self.capability is not None or self.since is not None:
            self.check_supported()
        wire = self.kind.encode(self, value)
        instance._write_option(self, wire)  # type: ignore[attr-defined]


_HOW_TO_GET = {
    "draft": (
        "; build libzmq with -DENABLE_DRAFTS=ON and pyzmq against it "
        "(ZMQ_DRAFT_API=1 pip install --no-binary pyzmq pyzmq)"
    ),
    "gssapi": "; build libzmq with --with-libgssapi_krb5 and pyzmq against it",
    "vmci": "; build libzmq with VMCI (--with-vmci) and pyzmq against it",
    "curve": "; pyzmq's wheels include CURVE (libsodium)",
}


# -- reading and writing through libzmq -----------------------------------------------

_get = zmq.Socket.get
_set = zmq.Socket.set


class _CApi:
    """zmq_getsockopt / zmq_setsockopt of the libzmq that pyzmq loaded, through ctypes.

    Used only where pyzmq cannot express the call: setting NULL (which clears
    an option) and reading CURVE keys (libzmq wants an exact 41-byte buffer).
    """

    def __init__(self) -> None:
        import zmq.backend.cython._zmq as backend

        library = ctypes.CDLL(backend.__file__, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
        self.getsockopt = library.zmq_getsockopt
        self.getsockopt.argtypes = [
            ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t),
        ]
        self.getsockopt.restype = ctypes.c_int
        self.setsockopt = library.zmq_setsockopt
        self.setsockopt.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
        self.setsockopt.restype = ctypes.c_int
        self.errno = library.zmq_errno
        self.errno.argtypes = []
        self.errno.restype = ctypes.c_int


_c_api: _CApi | None = None


def _capi() -> _CApi:
    global _c_api
    if _c_api is None:
        try:
            _c_api = _CApi()
        except (ImportError, OSError, AttributeError) as error:
            raise NotSupportedError(
                f"this option needs libzmq's C API through pyzmq's Cython backend ({error})"
            ) from None
    return _c_api


def read_socket_option(sock: zmq.Socket[Any], option: Option[Any]) -> Any:
    """Read an option's raw value from a pyzmq socket (the owner has checked it is usable)."""
    size = option.kind.raw_size
    if size is None:
        return _get(sock, option.id)
    try:
        api = _capi()
    except NotSupportedError:
        return _get(sock, option.id)  # pyzmq without its Cython backend: its 255 bytes
    buffer = ctypes.create_string_buffer(size)
    length = ctypes.c_size_t(size)
    if api.getsockopt(sock.underlying, option.id, buffer, ctypes.byref(length)) != 0:
        raise zmq.ZMQError(api.errno())
    return buffer.raw[: length.value]


def write_socket_option(sock: zmq.Socket[Any], option: Option[Any], wire: Any) -> None:
    """Write an encoded value to a pyzmq socket; None sets NULL (clears the option)."""
    if wire is not None:
        _set(sock, option.id, wire)
        return
    api = _capi()
    if api.setsockopt(sock.underlying, option.id, None, 0) != 0:
        raise zmq.ZMQError(api.errno())


# -- the registry -------------------------------------------------------------------------


def _registry(cls: type) -> dict[str, Option[Any]]:
    found: dict[str, Option[Any]] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, Option):
                found[name] = value
    return dict(sorted(found.items()))


_cache: dict[type, Mapping[str, Option[Any]]] = {}


def options(cls_or_instance: type | object) -> Mapping[str, Option[Any]]:
    """A read-only mapping of option name to :class:`Option` for a class or instance."""
    cls = cls_or_instance if isinstance(cls_or_instance, type) else type(cls_or_instance)
    try:
        return _cache[cls]
    except KeyError:
        pass
    registry = _registry(cls)
    if not registry:
        raise TypeError(
            "gzmq.options() needs a gzmq socket or context class or instance, "
            f"got {cls.__name__}"
        )
    mapping = _cache[cls] = MappingProxyType(registry)
    return mapping


def apply_options(target: object, values: Mapping[str, Any]) -> None:
    """Set keyword options on ``target``; unknown or read-only names raise UnknownOptionError."""
    registry = options(target)
    for name, value in values.items():
        option = registry.get(name)
        if option is None or not option.writable:
            valid = ", ".join(n for n, o in registry.items() if o.writable)
            what = "a read-only option" if option is not None else "not an option"
            raise UnknownOptionError(
                f"{name!r} is {what} of {type(target).__name__}; writable options: {valid}"
            )
        setattr(target, name, value)


def iter_readable(cls: type) -> Iterator[Option[Any]]:
    """The readable options of a class, in name order."""
    return (option for option in options(cls).values() if option.readable)


# -- documentation ------------------------------------------------------------------------


def options_markdown() -> str:
    """The option tables of docs/options.md, generated from the registry."""
    from gzmq._options_doc import markdown

    return markdown()
