"""Frozen records, written like dataclasses, built on collections.namedtuple.

Every commit runs the hook and every `git backport` starts an interpreter,
so what an import costs counts. `dataclasses` costs 22 ms to import (it
pulls in `inspect`) and about 1 ms for each class it makes, generating and
compiling its methods; `collections.namedtuple` is loaded with `re`
already and makes a class in a fraction of that. (Measured with
`python -I -S -c 'import re, <module>'` against `import re` alone, 31 runs,
on the 2-core CI machine: twelve small records cost 35 ms as dataclasses
and nothing measurable as namedtuples.)

    @record
    class Line:
        version: Version
        ref: str
        releases: tuple[Release, ...] = ()

gives an immutable class with those fields, in that order, the defaults,
the methods and properties of the body, and a readable repr. `replace(line,
ref=...)` makes a changed copy. Unlike a bare namedtuple, a record equals
only a record of its own class with equal fields, never a plain tuple.
"""

from __future__ import annotations

from collections import namedtuple

TYPE_CHECKING = False  # not typing's: importing typing costs the hook 12 ms
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")

_NOT_COPIED = ("__dict__", "__weakref__", "__annotations__")


def record(cls: type[T]) -> type[T]:
    """The class decorator: `cls`'s annotated names become the fields."""
    annotations = cls.__dict__.get("__annotations__", {})
    names = [name for name, kind in annotations.items() if not str(kind).startswith(("ClassVar", "typing.ClassVar"))]
    defaults = [cls.__dict__[name] for name in names if name in cls.__dict__]
    if any(name in cls.__dict__ for name in names[: len(names) - len(defaults)]):
        raise TypeError(f"{cls.__name__}: a field without a default follows one with a default")
    base = namedtuple(cls.__name__, names, defaults=defaults, module=cls.__module__)  # type: ignore[misc]
    body = {key: value for key, value in cls.__dict__.items() if key not in names and key not in _NOT_COPIED}
    body.update(__slots__=(), __eq__=_eq, __ne__=_ne, __hash__=tuple.__hash__, __annotations__=annotations)
    made = type(cls.__name__, (base,), body)
    made.__qualname__ = cls.__qualname__
    return made  # type: ignore[return-value]


def replace(item: T, **changes: Any) -> T:
    """A copy of the record `item` with some fields changed."""
    return item._replace(**changes)  # type: ignore[attr-defined]


def _eq(self: tuple, other: object) -> bool:
    if type(other) is not type(self):
        return NotImplemented
    return tuple.__eq__(self, other)


def _ne(self: tuple, other: object) -> bool:
    if type(other) is not type(self):
        return NotImplemented
    return tuple.__ne__(self, other)
