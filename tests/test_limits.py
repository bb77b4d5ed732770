"""SWF's limits come from limits.py only: no other module of the package writes one down, and limits.py has no dead name.

Every module of swfagent is read with `ast`. SWF's limits searched for, as they would be written down:

- 32,768: characters in an input, a result, details or an execution context (MAX_DATA);
- 256: characters in a name, an id, an identity or a reason (MAX_NAME, MAX_REASON);
- 1,024: characters in a description (MAX_DESCRIPTION);
- 25,000: events in one execution's history (MAX_HISTORY_EVENTS);
- 1,048,576 (1 MB, also written 1024 * 1024): bytes in one request (MAX_REQUEST_BYTES);
- 1,000: events or executions in one page, open activity tasks and open timers in one execution (MAX_PAGE,
  MAX_OPEN_ACTIVITIES, MAX_OPEN_TIMERS);
- 31,536,000 (one year): seconds in any timeout (MAX_TIMEOUT);
- 90: days a closed execution's history is kept (MAX_RETENTION_DAYS).

Each is found as a number (an int, or a product of ints such as 1024 * 1024, folded first) and, spelled with or
without separators, inside a string that is not a docstring (a message such as "SWF's own limit is 25,000").

Not searched for: 100 (the decider's own bound on the decisions in one answer, DECISIONS_PER_RESPONSE, not SWF's) and
1,000,000 (the decider's bytes of decisions, RESPONSE_BYTES: its own share of SWF's 1 MB) are the agent's choices; 100
is also a column's width, the cap on a step's retries and an SNS subject's length. 2,000 (ACTIVITY_RATE, the activity
tasks SWF schedules a second on one task list) is in limits.py but not searched for: it is also the characters of an
alert's details and part of SVG's namespace (www.w3.org/2000/svg). HTTP statuses (400, 500) are not
limits, and neither are numbers that only happen to be equal to one: those are ALLOWED below, each with why.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import swfagent
from swfagent import limits

PACKAGE = Path(swfagent.__file__).parent
LIMITS = PACKAGE / "limits.py"

# The numbers of SWF's limits (the docstring says which limit each is).
SWF_LIMITS = {32_768, 256, 1_024, 25_000, 1_048_576, 1_000, 31_536_000, 90}

# (module, the name it is assigned to) -> why the number there is not SWF's limit
ALLOWED = {
    ("payloads.py", "CHUNK"): "1 MiB read from S3 at a time: a buffer's size, chosen, not SWF's request limit",
    ("web/pages.py", "LONG_HISTORY"): "the web console refreshes a history this long less often: a page's choice",
    ("ids.py", "MAX_STEP_ID"): "the room a step id leaves for its suffixes, as '-1000.wait1000': an id's digits",
    ("web/security.py", "MAX_SESSIONS"): "the web console's live logins kept: a bound of its own, not SWF's",
}

# A limit's number inside a string, with or without separators ("25,000", "25_000", "25000"), not part of a longer one
_SPELLED = re.compile(r"(?<![\w.,])(\d{1,3}(?:[,_]?\d{3})*)(?![\w]|[.,]\d)")


@dataclass(frozen=True)
class Found:
    """A number of SWF's limits written down outside limits.py."""

    module: str
    line: int
    number: int
    name: str | None  # what it is assigned to, if anything

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.number:,}" + (f" (in {self.name})" if self.name else "")


def _fold(node: ast.AST) -> int | None:
    """The int an expression of int constants comes to (1024 * 1024 -> 1048576); None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return int(node.value) if float(node.value).is_integer() else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _fold(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Pow, ast.LShift, ast.Add)):
        left, right = _fold(node.left), _fold(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Pow):
            return left**right if 0 <= right < 64 else None
        return left << right if 0 <= right < 64 else None
    return None


def _assigned_names(tree: ast.AST) -> dict[int, str]:
    """id(value node) -> the name it is assigned to (each element of a tuple assignment paired with its name)."""
    names: dict[int, str] = {}
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        if value is None:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                names[id(value)] = target.id
            elif isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
                for t, v in zip(target.elts, value.elts, strict=True):
                    if isinstance(t, ast.Name):
                        names[id(v)] = t.id
    return names


def _docstrings(tree: ast.AST) -> set[int]:
    """id() of every docstring's node: prose may name SWF's limits."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def _numbers(node: ast.AST, names: dict[int, str], docstrings: set[int],
             name: str | None = None) -> Iterator[tuple[int, int, str | None]]:
    """(number, line, the name its expression is assigned to) for each number written in node: products folded whole."""
    name = names.get(id(node), name)
    value = _fold(node)
    if value is not None:
        yield value, getattr(node, "lineno", 0), name
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
        for spelled in _SPELLED.findall(node.value):
            yield int(re.sub(r"[,_]", "", spelled)), node.lineno, name
        return
    for child in ast.iter_child_nodes(node):
        yield from _numbers(child, names, docstrings, name)


def limits_written_in(source: str, module: str) -> list[Found]:
    """The numbers of SWF's limits written in a module's source, but those ALLOWED."""
    tree = ast.parse(source)
    names, docstrings = _assigned_names(tree), _docstrings(tree)
    return [Found(module, line, abs(number), name) for number, line, name in _numbers(tree, names, docstrings)
            if abs(number) in SWF_LIMITS and (module, name) not in ALLOWED]  # abs: text[-256:] is a limit too


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p != LIMITS)


def test_no_module_but_limits_py_writes_down_an_swf_limit() -> None:
    found = [f for path in _modules()
             for f in limits_written_in(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).as_posix())]
    assert not found, "import these from swfagent/limits.py:\n" + "\n".join(map(str, found))


def test_the_search_finds_a_limit_however_it_is_written() -> None:
    source = '''"""A docstring may say 25,000 events."""
HISTORY = 25_000
REQUEST = 1024 * 1024
NAME = len("x") > 256
TAIL = identity[-256:]
ENOUGH = "SWF's own limit is 25,000"
WIDE = f"at most {x} of 32768 characters"
REFRESH, LONG_HISTORY = 2, 1000
'''
    found = [(f.line, f.number) for f in limits_written_in(source, "example.py")]
    assert found == [(2, 25_000), (3, 1_048_576), (4, 256), (5, 256), (6, 25_000), (7, 32_768), (8, 1_000)]


def test_what_is_not_a_limit_is_not_found() -> None:
    source = '''
STATUS = 400
FAILED = 500
RETRIES = 100
WIDTH = 60
RESULT = "1000000 characters, 10,000 events, 1.000 s, 2560 bytes, v1024a"
PAGE = 0.25
'''
    assert limits_written_in(source, "example.py") == []
    assert limits_written_in("CHUNK = 1024 * 1024\n", "payloads.py") == []  # ALLOWED: a buffer, not a limit
    assert limits_written_in("OTHER = 1024 * 1024\n", "payloads.py") != []
    assert limits_written_in('MAX_STEP_ID = MAX_NAME - len("-1000.wait1000")\n', "ids.py") == []  # ALLOWED, nested


def test_every_allowed_place_still_exists() -> None:
    for module, name in ALLOWED:
        tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
        assert name in _assigned_names(tree).values(), f"{module} no longer assigns {name}: drop it from ALLOWED"


def test_limits_py_has_no_dead_name() -> None:
    constants = [n for n in vars(limits) if n.isupper() and isinstance(getattr(limits, n), int)]
    used: set[str] = set()
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith("limits"):
                used.update(alias.name for alias in node.names)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "limits":
                used.add(node.attr)
    assert constants and sorted(set(constants) - used) == []


def test_limits_py_holds_each_limit_searched_for() -> None:
    assert SWF_LIMITS - {v for n, v in vars(limits).items() if n.isupper() and isinstance(v, int)} == set()
