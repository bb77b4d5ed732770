"""The shape of the code, as issue 18 counts it (figures, not limits):

- modules over 300 lines, and functions over 50 lines;
- places that derive a decision's attributes key from its type by slicing ('X'[0].lower() + ...);
- public functions whose signature hands an untyped dict (dict[str, Any]) to another module;
- the README's length.

    python bench/code_shape.py [TREE]      # TREE: a checkout (default: this one), e.g. a worktree of an older commit
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

SLICING = re.compile(r"\[0\]\.lower\(\)|\[:1\]\.lower\(\)")
UNTYPED = re.compile(r"dict\[str, Any\]|Dict\[str, Any\]")


def functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
    package = root / "swfagent"
    modules = sorted(p for p in package.rglob("*.py") if "article" not in p.parts)
    long_modules, long_functions, slicing, untyped = [], [], 0, []
    for path in modules:
        text = path.read_text()
        name = str(path.relative_to(root))
        lines = len(text.splitlines())
        if lines > 300:
            long_modules.append((name, lines))
        tree = ast.parse(text)
        for f in functions(tree):
            length = (f.end_lineno or f.lineno) - f.lineno + 1
            if length > 50:
                long_functions.append((f"{name}:{f.name}", length))
            if not f.name.startswith("_") and f.col_offset == 0:
                signature = ast.get_source_segment(text, f.returns) if f.returns else ""
                arguments = " ".join(ast.get_source_segment(text, a.annotation) or "" for a in f.args.args if a.annotation)
                if UNTYPED.search(signature or "") or UNTYPED.search(arguments):
                    untyped.append(f"{name}:{f.name}")
        slicing += sum(1 for line in text.splitlines() if SLICING.search(line))
    readme = len((root / "README.md").read_text().splitlines())
    print(f"tree: {root}")
    print(f"modules over 300 lines: {len(long_modules)}  " + ", ".join(f"{n} ({k})" for n, k in long_modules))
    print(f"functions over 50 lines: {len(long_functions)}  " + ", ".join(f"{n} ({k})" for n, k in long_functions))
    print(f"longest function: {max((k for _, k in long_functions), default=0)} lines")
    print(f"places slicing a type name into an attributes key: {slicing}")
    print(f"public functions taking or giving dict[str, Any]: {len(untyped)}  " + ", ".join(untyped))
    print(f"README.md: {readme} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
