"""Frozen records, written like dataclasses, built on collections.namedtuple.

Every commit runs the hook and every `git backport` starts an interpreter,
so what an import costs counts. `dataclasses` costs 22 ms to import (it
pulls in `inspect`) and about 1 ms for each class it makes, generating and
compiling its methods; `collections.namedtuple` is loaded with `re`
already and makes a class in a fraction of that. (Measured with
`python -I -S -c 'import re, <module>'` against `import re` alone, 31 runs,
on a 2-core machine like CI's: twelve small records cost 35 ms as
dataclasses and nothing measurable as namedtuples.)

    @record
    class Line:
        version: Version
        ref: str
        releases: tuple[Release, ...] = ()

gives an immutable class with those fields, in that order, the defaults,
the methods and properties of the body (but not zero-argument super(): the
class is made anew), and a readable repr. `replace(line, ref=...)` makes a
changed copy. Unlike a bare namedtuple, a record equals
only a record of its own class with equal fields, never a plain tuple.

Being tuples, records go through `json.dumps` as arrays, nested records
and all, in C. `rebuild(Line, json.loads(text))` turns the arrays back
into records, guided by the field annotations; `layout(Line)` describes
every record class that involves, for a cache key that must change when
any of them does.
"""

from __future__ import annotations

import re
import sys
from collections import namedtuple

TYPE_CHECKING = False  # not typing's: importing typing costs the hook 12 ms
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from typing_extensions import dataclass_transform

    T = TypeVar("T")
else:

    def dataclass_transform(**_: object) -> object:
        """At run time, nothing: the decorator only tells type checkers
        that @record makes frozen classes with the annotated fields."""
        return lambda decorated: decorated

_NOT_COPIED = ("__dict__", "__weakref__", "__annotations__")


@dataclass_transform(frozen_default=True)
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
    return made  # the namedtuple subclass stands for cls


def replace(item: T, **changes: Any) -> T:
    """A copy of the record `item` with some fields changed."""
    changed: T = item._replace(**changes)  # type: ignore[attr-defined]
    return changed


def _eq(self: tuple, other: object) -> bool:
    # False, not NotImplemented: that would let tuple's own == decide
    return type(other) is type(self) and tuple.__eq__(self, other)


def _ne(self: tuple, other: object) -> bool:
    return type(other) is not type(self) or tuple.__ne__(self, other)


# -- back from JSON ----------------------------------------------------------------

_SCALARS = frozenset({"str", "int", "bool", "float", "None"})
_TUPLE_OF = re.compile(r"tuple\[(.*), \.\.\.\]")
_builders: dict[type, Callable[[Any], Any]] = {}


def rebuild(cls: type[T], data: Any) -> T:
    """The record `json.loads(json.dumps(item))` came from, given its class.

    Raises TypeError, ValueError or IndexError when the data does not fit."""
    built: T = _builder(cls)(data)
    return built


def layout(cls: type) -> list[list[str]]:
    """[name, "field: annotation", ...] of `cls` and of every record its fields hold."""
    seen: dict[type, list[str]] = {}

    def visit(kind: type) -> None:
        if kind not in seen:
            seen[kind] = [kind.__name__, *(f"{name}: {kind.__annotations__[name]}" for name in kind._fields)]  # type: ignore[attr-defined]
            for name in kind._fields:  # type: ignore[attr-defined]
                for word in re.findall(r"\w+", str(kind.__annotations__[name])):
                    found = _record_class(kind, word)
                    if found is not None:
                        visit(found)

    visit(cls)
    return list(seen.values())


def _builder(cls: type) -> Callable[[Any], Any]:
    """A function from the JSON arrays of a `cls` to the record, made once
    per class from the field annotations: a cached check result holds some
    20,000 records, so only the fields that need it are converted."""
    found = _builders.get(cls)
    if found is None:
        fields = cls._fields  # type: ignore[attr-defined]
        convert = [(i, c) for i, f in enumerate(fields) if (c := _converter(str(cls.__annotations__[f]), cls))]
        count, new = len(fields), tuple.__new__

        def build(data: list[Any]) -> Any:
            if not isinstance(data, list) or len(data) != count:
                raise ValueError(f"{cls.__name__}: expected a list of {count} fields")
            for index, change in convert:
                data[index] = change(data[index])
            return new(cls, data)

        found = _builders[cls] = build
    return found


def _converter(annotation: str, owner: type) -> Callable[[Any], Any] | None:
    """How to turn JSON back into a value of the annotated type; None: as it is."""
    annotation = annotation.strip()
    if annotation.endswith("| None"):
        inner = _converter(annotation[: -len("| None")], owner)
        return None if inner is None else (lambda value: None if value is None else inner(value))
    if annotation in _SCALARS:
        return None
    many = _TUPLE_OF.fullmatch(annotation)
    if many:
        item = _converter(many.group(1), owner)
        return tuple if item is None else (lambda values: tuple(map(item, values)))
    kind = _record_class(owner, annotation)
    if kind is None:
        raise TypeError(f"{owner.__name__}: cannot rebuild a field of type {annotation!r} from JSON")
    return _builder(kind)


def _record_class(owner: type, name: str) -> type | None:
    """The record class `name` stands for where `owner` was written, if any."""
    found = vars(sys.modules[owner.__module__]).get(name)
    return found if isinstance(found, type) and issubclass(found, tuple) and hasattr(found, "_fields") else None
