"""backport.record: frozen records on namedtuple, and their way back from JSON."""

from __future__ import annotations

import json

import pytest

from backport.models import CheckResult, Line, Nomination, Release, Request, Version
from backport.record import layout, rebuild, record, replace


@record
class Pair:
    left: str
    right: int = 0

    @property
    def both(self) -> str:
        return f"{self.left}{self.right}"


@record
class Other:
    left: str
    right: int = 0


def test_fields_defaults_methods_and_immutability() -> None:
    pair = Pair("a")
    assert (pair.left, pair.right, pair.both) == ("a", 0, "a0")
    assert repr(pair) == "Pair(left='a', right=0)"
    with pytest.raises(AttributeError):
        pair.left = "b"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        pair.extra = 1  # type: ignore[attr-defined]  # no __dict__
    assert replace(pair, right=2) == Pair("a", 2) and pair == Pair("a", 0)


def test_a_record_equals_only_its_own_kind() -> None:
    assert Pair("a", 1) == Pair("a", 1) and Pair("a", 1) != Pair("a", 2)
    assert Pair("a", 1) != Other("a", 1)
    assert Pair("a", 1) != ("a", 1)
    assert len({Pair("a", 1), Pair("a", 1), Other("a", 1)}) == 2
    assert Version((4, 9)) < Version((4, 10))  # ordered as their fields


def test_a_field_without_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError, match="without a default"):

        @record
        class Bad:
            first: int = 0
            second: int


def test_nested_records_come_back_from_json_equal() -> None:
    line = Line(Version((4, 20)), "stable-4.20", "c" * 40, (Release("RELEASE-4.20.0", (4, 20, 0), "d" * 40, "2025-01-01"),))
    nomination = Nomination("trailer", "Backport-to: 4.19+", "request", (Request(Version((4, 19)), True),), None)
    for item in (line, nomination, CheckResult("staging", "e" * 40, (line,), ())):
        again = rebuild(type(item), json.loads(json.dumps(item)))
        assert again == item and type(again) is type(item)
        assert isinstance(again.__getattribute__(item._fields[0]), type(getattr(item, item._fields[0])))
    assert rebuild(Nomination, json.loads(json.dumps(nomination))).requests[0].version == Version((4, 19))


@pytest.mark.parametrize("damage", [3, "text", {"0": 1}, [1, 2], None])
def test_what_does_not_fit_is_an_error(damage: object) -> None:
    with pytest.raises((TypeError, ValueError, IndexError)):
        rebuild(Line, damage)


def test_layout_names_every_record_reached() -> None:
    names = [entry[0] for entry in layout(CheckResult)]
    assert names[0] == "CheckResult"
    assert {"Line", "Release", "Version", "Verdict", "Candidate", "Nomination", "Request", "Target"} <= set(names)
    assert "version: Version" in layout(Line)[0]
