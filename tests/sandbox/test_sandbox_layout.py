"""The sandbox's layout (issue 12): shared machinery beside one package per dialect; it is
started through its own entry point; its extra is named when missing."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from crmqual.sandbox.dialects import DIALECTS
from crmqual.sandbox.zoho.backend import ZohoSandbox

SANDBOX = Path(__file__).resolve().parents[2] / "src" / "crmqual" / "sandbox"
#: The command group serves each dialect: the one shared module that imports them.
DISPATCHERS = {"command.py"}


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_shared_machinery_imports_no_dialect() -> None:
    dialects = tuple(DIALECTS.values())
    shared = [p for p in SANDBOX.glob("*.py") if p.name not in DISPATCHERS]
    assert {p.name for p in shared} >= {"store.py", "clock.py", "faults.py", "server.py"}
    wrong = [
        f"{p.name} imports {name}"
        for p in shared
        for name in _imported(p)
        if any(name == d or name.startswith(d + ".") for d in dialects)
    ]
    assert not wrong, wrong


def test_each_dialect_is_a_package(tmp_path: Path) -> None:
    for package in DIALECTS.values():
        folder = SANDBOX / package.rsplit(".", 1)[-1]
        assert (folder / "__init__.py").is_file() and (folder / "backend.py").is_file()
    assert not list(SANDBOX.glob("zoho_*"))


def test_a_served_sandbox_starts_through_its_own_entry_point(tmp_path: Path) -> None:
    argv = ZohoSandbox(tmp_path / "z.db").serve_command()
    assert argv[1:3] == ["-m", "crmqual.sandbox"]
    assert not any("crmqual.cli" in a for a in argv)
    done = subprocess.run(
        [sys.executable, "-m", "crmqual.sandbox", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "serve" in done.stdout


#: Runs the CLI as if Werkzeug and Faker were not installed (the `sandbox` extra missing).
_WITHOUT_EXTRA = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("werkzeug", "faker"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Block())
from crmqual.cli.main import main
main(sys.argv[1:], prog_name="crmqual")
"""


def _without_extra(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", _WITHOUT_EXTRA, *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("command", [["demo"], ["sandbox", "serve"], ["sandbox", "--help"]])
def test_without_the_extra_demo_and_sandbox_say_what_to_install(command: list[str]) -> None:
    done = _without_extra(*command)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert (
        f"crmqual {command[0]} needs the sandbox extra (Werkzeug and Faker not installed): "
        "pip install 'crmqual[sandbox]'"
    ) in done.stderr


def test_without_the_extra_every_other_command_works(tmp_path: Path) -> None:
    assert _without_extra("--help").returncode == 0
    examples = Path(__file__).resolve().parents[2] / "examples" / "accounts.csv"
    done = _without_extra("assess", str(examples), "--json")
    assert done.returncode in (0, 1), done.stderr
    assert done.stdout.count("\n") >= 10
