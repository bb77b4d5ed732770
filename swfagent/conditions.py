"""A diamond's condition on a step's result: a regular expression, `equals`, `matches`, or `json: PATH` with
`equals/gt/ge/lt/le/present`. Pure."""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from typing import Any

from .limits import shorten


class Test(enum.Enum):
    """What a condition compares."""

    MATCHES = "matches"
    EQUALS = "equals"
    GT = "gt"
    GE = "ge"
    LT = "lt"
    LE = "le"
    PRESENT = "present"


OPERATORS = tuple(t.value for t in Test if t is not Test.MATCHES)
_MISSING = object()


@dataclass(frozen=True)
class Condition:
    """One test of one step's result; `path` is a dotted path into the result read as JSON, or None for the text."""

    test: Test
    value: Any = None
    pattern: re.Pattern[str] | None = None
    path: tuple[str, ...] | None = None

    def __str__(self) -> str:
        where = "result" if self.path is None else "result." + ".".join(self.path)
        if self.test is Test.MATCHES and self.pattern is not None:
            return f"{where} matches {self.pattern.pattern}"
        if self.test is Test.PRESENT:
            return f"{where} {'present' if self.value else 'absent'}"
        shown = self.value if isinstance(self.value, str) else json.dumps(self.value)
        return f"{where} {self.test.value} {shown}"

    def unmet(self, text: str) -> str | None:
        """Why the condition does not hold on this result, or None when it holds."""
        text = text.strip()
        if self.path is None:
            if self.test is Test.MATCHES and self.pattern is not None:
                if self.pattern.fullmatch(text) is None:
                    return f"result {shorten(text, 40)!r} does not match {self.pattern.pattern}"
                return None
            ok = text == self.value if isinstance(self.value, str) else _loads(text) == self.value
            return None if ok else f"result {shorten(text, 40)!r} does not equal {self.value!r}"
        found = _at(_loads(text), self.path)
        if self.test is Test.PRESENT:
            ok = (found is not _MISSING) == bool(self.value)
        elif found is _MISSING:
            return f"result {shorten(text, 40)!r}: no {'.'.join(self.path)}"
        else:
            ok = _compare(self.test, found, self.value)
        shown = "absent" if found is _MISSING else shorten(json.dumps(found), 40)
        return None if ok else f"result.{'.'.join(self.path)} is {shown}, not {self.test.value} {self.value!r}"


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _MISSING


def _at(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return _MISSING
    return value


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _compare(test: Test, found: Any, value: Any) -> bool:
    if test is Test.EQUALS:
        return bool(found == value)
    if test is Test.MATCHES:
        return isinstance(found, str) and re.fullmatch(str(value), found, re.DOTALL) is not None
    if not (_number(found) and _number(value)) and not (isinstance(found, str) and isinstance(value, str)):
        return False
    return bool({Test.GT: found > value, Test.GE: found >= value, Test.LT: found < value, Test.LE: found <= value}[test])


def parse_condition(raw: Any) -> Condition:
    """A condition as config.yaml writes it; ValueError with a one-line reason if it is not one."""
    if isinstance(raw, str):
        return Condition(Test.MATCHES, pattern=_regex(raw))
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"must be a regular expression or a mapping with equals, matches or json, not {_kind(raw)}")
    keys = set(raw)
    if "json" in keys:
        path_text = raw["json"]
        if not isinstance(path_text, str) or not path_text or any(not p for p in path_text.split(".")):
            raise ValueError("json: must be a dotted path into the result, such as counts.errors")
        tests = keys - {"json"}
        allowed = set(OPERATORS) | {"matches"}
        if len(tests) != 1 or not tests <= allowed:
            found = ", ".join(sorted(map(str, tests))) or "none"
            raise ValueError(f"json: needs exactly one of {', '.join(sorted(allowed))}, not {found}")
        name = tests.pop()
        value = raw[name]
        test = Test(name)
        if test in (Test.GT, Test.GE, Test.LT, Test.LE) and not (_number(value) or isinstance(value, str)):
            raise ValueError(f"{name}: must be a number or a string, not {_kind(value)}")
        if test is Test.PRESENT and not isinstance(value, bool):
            raise ValueError(f"present: must be true or false, not {_kind(value)}")
        if test is Test.MATCHES:
            _regex(value)
        return Condition(test, value, path=tuple(path_text.split(".")))
    if keys == {"matches"}:
        return Condition(Test.MATCHES, pattern=_regex(raw["matches"]))
    if keys == {"equals"}:
        value = raw["equals"]
        if isinstance(value, (dict, list)) or value is None:
            raise ValueError(f"equals: must be a string, a number or true/false, not {_kind(value)}")
        return Condition(Test.EQUALS, value)
    found = ", ".join(sorted(map(str, keys)))
    raise ValueError(f"must have one of equals, matches or json (with {', '.join(OPERATORS)}), not {found}")


def _regex(value: Any) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise ValueError(f"must be a regular expression string, not {_kind(value)}")
    try:
        return re.compile(value, re.DOTALL)
    except (re.error, RecursionError, OverflowError) as exc:
        raise ValueError(f"is not a valid regular expression: {exc}") from None


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__
