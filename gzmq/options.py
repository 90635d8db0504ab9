"""Options as a declarative registry of descriptors.

One :class:`Option` per option, declared in the class body (or in a mixin
shared by a group of classes)::

    linger = Option(zmq.LINGER, Int32(minimum=-1), READ_WRITE, immediate=True,
                    doc="ZMQ_LINGER: how long (ms) close() keeps unsent messages.")

The descriptor is the only table: it validates values before libzmq sees
them, enforces access, registers the option for :func:`options` and carries
the static type.  The owner (a socket or a context) provides
``_read_option(option)`` and ``_write_option(option, wire_value)``.
"""

from __future__ import annotations

import enum
import string
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, Generic, TypeVar, overload

import zmq

from gzmq.errors import (
    NotSupportedError,
    OptionValueError,
    ReadOnlyOptionError,
    UnknownOptionError,
    WriteOnlyOptionError,
)

__all__ = [
    "Access",
    "READ",
    "WRITE",
    "READ_WRITE",
    "Option",
    "Kind",
    "Bool",
    "Int32",
    "Int64",
    "UInt64",
    "Text",
    "Binary",
    "CurveKey",
    "Choice",
    "options",
    "apply_options",
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


class Kind(Generic[T]):
    """How an option's value is checked, converted for libzmq, and read back."""

    #: How the expected type is named in error messages.
    expected = "value"

    def encode(self, option: Option[T], value: Any) -> Any:
        """Check ``value`` and convert it to what pyzmq passes to libzmq."""
        raise NotImplementedError

    def decode(self, raw: Any) -> T:
        """Convert what libzmq returned to the option's Python value."""
        return raw  # type: ignore[no-any-return]

    def type_error(self, option: Option[T], value: Any) -> TypeError:
        """A TypeError naming the option and the expected type."""
        return TypeError(
            f"option {option.name!r} expects {self.expected}, "
            f"got {type(value).__name__}: {value!r}"
        )


class Bool(Kind[bool]):
    """A boolean (libzmq int 0/1)."""

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

    def __init__(self, minimum: int | None = None, maximum: int | None = None) -> None:
        self.minimum = self.low if minimum is None else minimum
        self.maximum = self.high if maximum is None else maximum

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


class Int32(_Integer):
    """A signed 32-bit integer, optionally narrowed to [minimum, maximum]."""

    expected = "int (32-bit)"


class Int64(_Integer):
    """A signed 64-bit integer."""

    expected = "int (64-bit)"
    low = -(2**63)
    high = 2**63 - 1


class UInt64(_Integer):
    """An unsigned 64-bit integer."""

    expected = "int (unsigned 64-bit)"
    low = 0
    high = 2**64 - 1


class Text(Kind[str]):
    """A UTF-8 string (libzmq's character options)."""

    expected = "str"

    def __init__(self, max_bytes: int = 255) -> None:
        self.max_bytes = max_bytes

    def encode(self, option: Option[str], value: Any) -> bytes:
        if not isinstance(value, str):
            raise self.type_error(option, value)
        data = value.encode("utf-8")
        if b"\0" in data:
            raise OptionValueError(f"option {option.name!r} cannot contain NUL characters")
        if len(data) > self.max_bytes:
            raise OptionValueError(
                f"option {option.name!r} is at most {self.max_bytes} bytes of UTF-8, "
                f"got {len(data)}"
            )
        return data

    def decode(self, raw: Any) -> str:
        if isinstance(raw, bytes):
            return raw.rstrip(b"\0").decode("utf-8", "replace")
        return str(raw)


class Binary(Kind[bytes]):
    """Binary data (bytes, bytearray, memoryview, or str as UTF-8); NUL bytes kept."""

    expected = "bytes"

    def __init__(self, min_bytes: int = 0, max_bytes: int = 255) -> None:
        self.min_bytes = min_bytes
        self.max_bytes = max_bytes

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
        return data

    def decode(self, raw: Any) -> bytes:
        return bytes(raw)


_Z85_ALPHABET = frozenset(string.digits + string.ascii_letters + ".-:+=^!/*?&<>()[]{}@%$#")


class CurveKey(Kind[str]):
    """A CURVE key: 40 Z85 characters (or 32 raw bytes); read back as Z85 text."""

    expected = "a 40-character Z85 str or 32 bytes"

    def encode(self, option: Option[str], value: Any) -> bytes:
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            if len(data) == 32:
                return data
            if len(data) == 40:
                value = data.decode("ascii", "replace")
            else:
                raise OptionValueError(
                    f"option {option.name!r} takes 32 raw bytes or 40 Z85 characters, "
                    f"got {len(data)} bytes"
                )
        if not isinstance(value, str):
            raise self.type_error(option, value)
        if len(value) != 40:
            raise OptionValueError(
                f"option {option.name!r} takes a 40-character Z85 key, got {len(value)} "
                "characters"
            )
        bad = sorted(set(value) - _Z85_ALPHABET)
        if bad:
            raise OptionValueError(
                f"option {option.name!r}: not Z85 characters: {''.join(bad)!r}"
            )
        return value.encode("ascii")

    def decode(self, raw: Any) -> str:
        data = bytes(raw).rstrip(b"\0")
        if len(data) == 32:
            return zmq.utils.z85.encode(data).decode("ascii")
        return data.decode("ascii")


class Choice(Kind[Any]):
    """One of a fixed set of names (zeromq.js's string enums) mapped to ints."""

    def __init__(self, names: Mapping[Any, int]) -> None:
        self.names = dict(names)
        self.values = {value: name for name, value in self.names.items()}
        self.expected = " or ".join(repr(name) for name in self.names)

    def encode(self, option: Option[Any], value: Any) -> int:
        try:
            return self.names[value]
        except (KeyError, TypeError):
            raise OptionValueError(
                f"option {option.name!r} expects {self.expected}, got {value!r}"
            ) from None

    def decode(self, raw: Any) -> Any:
        return self.values.get(int(raw), int(raw))


class Option(Generic[T]):
    """A socket or context option: descriptor, validator and registry entry.

    ``immediate`` options take effect at once; setting any other option on a
    socket that is already bound or connected warns LateOptionWarning.
    ``capability`` names a :data:`gzmq.capability` the linked libzmq must
    have, ``since`` the libzmq version that introduced the option.
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
        return f"<Option {self.name} {self.access.name} {self.kind.expected}>"

    @property
    def readable(self) -> bool:
        """Whether the option can be read."""
        return bool(self.access & READ)

    @property
    def writable(self) -> bool:
        """Whether the option can be written."""
        return bool(self.access & WRITE)

    def check_supported(self) -> None:
        """Raise NotSupportedError if the linked libzmq lacks this option."""
        if self.capability is not None and not zmq.has(self.capability):
            raise NotSupportedError(
                f"option {self.name!r} needs libzmq built with {self.capability} "
                f"support; this libzmq ({zmq.zmq_version()}) has none"
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
        self.check_supported()
        return self.kind.decode(instance._read_option(self))  # type: ignore[attr-defined]

    def __set__(self, instance: object, value: T) -> None:
        if not self.access & WRITE:
            raise ReadOnlyOptionError(f"option {self.name!r} is read-only")
        wire = self.kind.encode(self, value)
        self.check_supported()
        instance._write_option(self, wire)  # type: ignore[attr-defined]


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
        mapping = _cache[cls] = MappingProxyType(_registry(cls))
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
