"""One vocabulary: every state is an enum of status.py, and no module compares a state as a bare string."""

from __future__ import annotations

import ast
import enum
from pathlib import Path

from swfagent import status

PACKAGE = Path(status.__file__).parent
# every value of every enum in status.py: such a string compared anywhere else is a second spelling of a state
STATES = {str(m.value) for e in vars(status).values() if isinstance(e, type) and issubclass(e, enum.Enum) and e.__module__ == status.__name__ for m in e}


def _compared_strings(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for operand in operands:
                values = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
                found += [(node.lineno, v.value) for v in values
                          if isinstance(v, ast.Constant) and isinstance(v.value, str) and v.value in STATES]
    return found


def test_no_state_is_compared_as_a_bare_string() -> None:
    # the embedded SWF (local/) writes SWF's own wire format, where these words are SWF's data, not our states
    modules = [p for p in PACKAGE.rglob("*.py") if p.name != "status.py" and "local" not in p.relative_to(PACKAGE).parts]
    found = {str(p.relative_to(PACKAGE)): hits for p in modules if (hits := _compared_strings(p))}
    assert found == {}, found


def test_the_check_sees_a_bare_comparison(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text('x = "y"\nif x == "COMPLETED" or x in ("open", "all"):\n    pass\n')
    assert _compared_strings(probe) == [(2, "COMPLETED"), (2, "open"), (2, "all")]
