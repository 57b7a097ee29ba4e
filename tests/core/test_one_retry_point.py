"""One retry point (issue 12): tenacity is imported by crmqual/http.py alone, no function
elsewhere sleeps inside a loop (a hand-made retry loop) but the named waits below, and each
failing ``Action`` of the HTTP client is one crmqual error class, of one kind."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

from crmqual.errors import EXIT_CODES, ErrorKind
from crmqual.http import ERROR_CLASSES, Action

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("src/crmqual", "adapters", "cli")
HTTP = "src/crmqual/http.py"

#: Waits in a loop that are not retries: (module glob, function glob, why).
ALLOWED_WAITS = (
    ("src/crmqual/state*", "*", "the state store's waits for a database lock"),
    ("adapters/zoho/bulk.py", "ZohoBulk.poll_job", "polling a Zoho bulk job's state"),
    ("adapters/salesforce/bulk.py", "BulkJobs._wait", "polling a Bulk API 2.0 job's state"),
)


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            yield where, ast.parse(path.read_text("utf-8"), filename=where)


def _called(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


class _Waits(ast.NodeVisitor):
    """(function's qualified name, line) of every ``sleep`` call inside a loop of it."""

    def __init__(self) -> None:
        self.scope: list[str] = []
        self.loops: list[int] = [0]
        self.found: list[tuple[str, int]] = []

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        self.scope.append(getattr(node, "name", "<lambda>"))
        self.loops.append(0)  # a nested function starts outside any loop
        self.generic_visit(node)
        self.loops.pop()
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    def _loop(self, node: ast.AST) -> None:
        self.loops[-1] += 1
        self.generic_visit(node)
        self.loops[-1] -= 1

    visit_For = visit_AsyncFor = visit_While = _loop
    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _loop

    def visit_Call(self, node: ast.Call) -> None:
        if self.loops[-1] and _called(node).lstrip("_").endswith("sleep"):
            self.found.append((".".join(self.scope) or "<module>", node.lineno))
        self.generic_visit(node)


def _tenacity_imports(tree: ast.Module) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        if any(n == "tenacity" or n.startswith("tenacity.") for n in names):
            lines.append(node.lineno)
    return lines


def test_only_crmqual_http_imports_tenacity() -> None:
    offenders = [
        f"{where}:{line}"
        for where, tree in _modules()
        if where != HTTP
        for line in _tenacity_imports(tree)
    ]
    assert offenders == []
    assert _tenacity_imports(dict(_modules())[HTTP]), "http.py is where the retries live"


def test_no_sleep_inside_a_loop_outside_http_but_the_named_waits() -> None:
    offenders, allowed_seen = [], set()
    for where, tree in _modules():
        if where == HTTP:
            continue
        waits = _Waits()
        waits.visit(tree)
        for function, line in waits.found:
            rule = next(
                (r for r in ALLOWED_WAITS if fnmatch(where, r[0]) and fnmatch(function, r[1])),
                None,
            )
            if rule is None:
                offenders.append(f"{where}:{line} in {function}")
            else:
                allowed_seen.add(rule)
    assert offenders == [], "retry through crmqual.http.HttpClient.retrying instead"
    assert allowed_seen == set(ALLOWED_WAITS), "an allowed wait is gone: drop it from the list"


def test_the_scan_sees_a_hand_made_retry_loop() -> None:
    tree = ast.parse(
        "import time\n"
        "class C:\n"
        "    def send(self):\n"
        "        for attempt in range(3):\n"
        "            try:\n"
        "                return self.post()\n"
        "            except OSError:\n"
        "                time.sleep(2 ** attempt)\n"
        "    def wait(self):\n"
        "        self._sleep(1)\n"
    )
    waits = _Waits()
    waits.visit(tree)
    assert waits.found == [("C.send", 8)]
    assert _tenacity_imports(ast.parse("from tenacity.wait import wait_fixed")) == [1]


def test_each_failing_action_is_one_error_class_of_one_kind() -> None:
    failing = set(Action) - {Action.OK, Action.RECORD}
    assert set(ERROR_CLASSES) == failing
    kinds = {action: cls.kind for action, cls in ERROR_CLASSES.items()}
    assert kinds[Action.QUOTA] == ErrorKind.QUOTA
    assert {kinds[a] for a in failing - {Action.QUOTA}} == {ErrorKind.CRM_UNAVAILABLE}
    assert all(kind in EXIT_CODES for kind in kinds.values())
