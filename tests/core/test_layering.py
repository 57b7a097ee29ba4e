"""The rooms of the code and what each may import (README "Architecture"), checked on the
source so that a regression fails here rather than in a reviewer's head."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "src" / "crmqual"
CLI = ROOT / "cli"
#: ``python -m crmqual`` runs the CLI: the one module of the core allowed to import it.
MAIN_EXEMPTION = CORE / "__main__.py"


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports (absolute names), with the line."""
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_core_imports_no_adapter_cli_or_sandbox() -> None:
    wrong = []
    for path in sorted(CORE.rglob("*.py")):
        in_sandbox = path.is_relative_to(CORE / "sandbox")
        for line, name in imports(path):
            banned = ["crmqual.adapters", "crmqual.cli"]
            if not in_sandbox:
                banned.append("crmqual.sandbox")
            if path == MAIN_EXEMPTION and name in ("crmqual.cli.main", "crmqual.cli.main.main"):
                continue
            if any(_under(name, b) for b in banned):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_main_only_calls_the_cli_entry_point() -> None:
    tree = ast.parse(MAIN_EXEMPTION.read_text("utf-8"))
    body = [n for n in tree.body if not isinstance(n, ast.Expr | ast.ImportFrom)]
    assert body == [] or all(isinstance(n, ast.If) for n in body)
    assert [name for _, name in imports(MAIN_EXEMPTION)] == [
        "crmqual.cli.main",
        "crmqual.cli.main.main",
    ]


def test_the_cli_finds_no_part_of_the_contract_by_duck_typing() -> None:
    """The contract declares what an adapter has; no ``getattr(adapter, ...)`` probing."""
    wrong = []
    for path in sorted(CLI.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id not in ("getattr", "hasattr") or not node.args:
                continue
            probed = ast.unparse(node.args[0])
            if "adapter" in probed.lower():
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    assert not wrong, "\n".join(wrong)


def test_the_cli_reaches_adapters_through_the_registry_only() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted(CLI.rglob("*.py"))
        for line, name in imports(path)
        if _under(name, "crmqual.adapters")
    ]
    assert not wrong, "\n".join(wrong)
