"""Argument checks shared by the public entry points: numbers, names and lists of names.

Python lets a string stand where a list is expected (it iterates its characters) and a string
or a bool stand where a number is expected (compared late, or silently as 0/1). Entry points
check their options with these helpers first, so a wrong argument is an
:class:`InvalidArgumentError` naming it, before anything is read or written.
"""

from __future__ import annotations

import math
import re
import reprlib
import unicodedata
from collections.abc import Iterable
from typing import Any

from soorma_lc.errors import InvalidArgumentError, SoormaValidationError

MAX_NAME_LENGTH = 255
"""Longest identifier (event id, tenant, agent id, ...) accepted anywhere."""

# Unicode categories that never belong in a name: controls, format (zero-width) characters,
# surrogates, private use, unassigned, and separators (spaces, line breaks).
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def check_int(
    value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` if it is an int (not a bool) within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{name} must be an integer, got {shown(value)}")
    _check_range(value, name, minimum, maximum)
    return value


def check_optional_int(value: Any, name: str, *, minimum: int | None = None) -> int | None:
    """:func:`check_int`, with None allowed (meaning "no limit")."""
    return None if value is None else check_int(value, name, minimum=minimum)


def check_seconds(
    value: Any,
    name: str,
    *,
    positive: bool = False,
    maximum: float | None = None,
) -> float:
    """``value`` as a finite number of seconds: zero or more, or above zero if ``positive``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(f"{name} must be a number of seconds, got {shown(value)}")
    if isinstance(value, float) and not math.isfinite(value):  # math.isfinite(huge int) overflows
        raise InvalidArgumentError(f"{name} must be finite, got {shown(value)}")
    if value < 0 or (positive and value == 0):
        bound = "positive" if positive else "zero or more"
        raise InvalidArgumentError(f"{name} must be {bound}, got {shown(value)}")
    _check_range(value, name, None, maximum)
    return float(value)


def check_optional_seconds(value: Any, name: str, *, positive: bool = False) -> float | None:
    """:func:`check_seconds`, with None allowed (meaning "no limit")."""
    return None if value is None else check_seconds(value, name, positive=positive)


def _check_range(value: float, name: str, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise InvalidArgumentError(f"{name} must be at least {minimum}, got {shown(value)}")
    if maximum is not None and value > maximum:
        raise InvalidArgumentError(f"{name} must be at most {maximum}, got {shown(value)}")


def name_problem(value: Any, *, max_length: int = MAX_NAME_LENGTH) -> str | None:
    """Why ``value`` is not a usable name (None when it is).

    A name is a non-empty string of at most ``max_length`` characters without whitespace,
    control, zero-width or other invisible characters, and not made of invisible ones only.
    """
    if not isinstance(value, str):
        return f"must be a string, got {shown(value)}"
    if not value:
        return "must not be empty"
    if len(value) > max_length:
        return f"is {len(value)} characters long; at most {max_length} allowed"
    if value.isascii() and value.isprintable() and " " not in value:
        return None  # visible ASCII only: the common case, without a per-character lookup
    for char in value:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            return f"contains the character {char!r} (U+{ord(char):04X}); names are visible text"
    return None


def check_name(
    value: Any,
    what: str,
    *,
    error: type[SoormaValidationError] = InvalidArgumentError,
    max_length: int = MAX_NAME_LENGTH,
) -> str:
    """``value`` if it is a usable name (see :func:`name_problem`), else ``error``."""
    problem = name_problem(value, max_length=max_length)
    if problem is not None:
        raise error(f"{what} {problem}")
    return value


def label_problem(value: Any, *, max_length: int = MAX_NAME_LENGTH) -> str | None:
    """Why ``value`` is not a usable label (None when it is): like a name, but spaces are
    allowed inside (an id from another system, a task or agent name); it may not be blank."""
    if not isinstance(value, str):
        return f"must be a string, got {shown(value)}"
    if not value.strip():
        return "must not be empty or blank"
    if value != value.strip():
        return "must not start or end with whitespace"
    return name_problem(value.replace(" ", "_"), max_length=max_length)


def check_label(
    value: Any,
    what: str,
    *,
    error: type[SoormaValidationError] = InvalidArgumentError,
    max_length: int = MAX_NAME_LENGTH,
) -> str:
    """``value`` if it is a usable label (see :func:`label_problem`), else ``error``."""
    problem = label_problem(value, max_length=max_length)
    if problem is not None:
        raise error(f"{what} {problem}")
    return value


def text_problem(value: Any, *, max_length: int) -> str | None:
    """Why ``value`` is not usable free text (None when it is): a string of at most
    ``max_length`` characters that UTF-8 can encode (no lone surrogates) and without NUL."""
    if not isinstance(value, str):
        return f"must be a string, got {shown(value)}"
    if len(value) > max_length:
        return f"is {len(value)} characters long; at most {max_length} allowed"
    if "\x00" in value:
        return "contains a NUL character"
    if not is_utf8_encodable(value):
        return "contains a lone surrogate, which UTF-8 cannot encode"
    return None


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def header_problem(name: Any, value: Any) -> str | None:
    """Why ``name: value`` cannot be sent as an HTTP header (None when it can): the name is an
    RFC 9110 token, the value printable ASCII without line breaks or other controls."""
    if not isinstance(name, str) or _HEADER_NAME.fullmatch(name) is None:
        return f"header name {shown(name)} is not an HTTP token"
    if not isinstance(value, str):
        return f"header {name} must be a string, got {shown(value)}"
    if any(ord(c) < 32 or ord(c) > 126 for c in value.replace("\t", " ")):
        return f"header {name} contains a line break, a control or a non-ASCII character"
    return None


def is_utf8_encodable(text: str) -> bool:
    """False when ``text`` holds a lone surrogate (it cannot be stored or sent as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def names_argument(
    value: Any,
    what: str,
    *,
    error: type[SoormaValidationError] = InvalidArgumentError,
) -> list[Any]:
    """``value`` as a list: a single string (or bytes) is one item, not its characters.

    Anything else must be an iterable (list, tuple, set, generator); None and other scalars are
    refused with ``error``.
    """
    if isinstance(value, str | bytes | bytearray):
        return [value]
    return items_argument(value, what, error=error)


def items_argument(
    value: Any,
    what: str,
    *,
    error: type[SoormaValidationError] = InvalidArgumentError,
) -> list[Any]:
    """``value`` as a list of items; a string, bytes, a mapping or a scalar is refused."""
    if isinstance(value, str | bytes | bytearray | dict) or not isinstance(value, Iterable):
        raise error(f"{what} must be a list, got {shown(value)}")
    return list(value)


_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 60
_REPR.maxother = 60


def shown(value: Any) -> str:
    """A short, safe description of any value for an error message: its type and a bounded
    ``repr`` (a value nested thousands deep or referring to itself cannot break it)."""
    try:
        text = _REPR.repr(value)
    except Exception:  # a hostile __repr__
        text = "<unprintable>"
    return f"{type(value).__name__} {text}"
