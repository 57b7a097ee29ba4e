"""No traceback reaches a user (issue 13): every error case of the command line ends with a
message and an exit code, run as the admin runs it, in a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accounts.csv"
FILE_CONFIG = "crm: file\nconnection: {input: a.csv, output: o.csv}\n"
NO_SERVER = "state: postgresql+psycopg://nobody@127.0.0.1:1/none\n"

#: (name, files to create {name: text or bytes}, argv)
CASES: list[tuple[str, dict[str, str | bytes], list[str]]] = [
    ("no config", {}, ["sync"]),
    ("config not YAML", {"crmqual.yaml": "crm: [file\n"}, ["check"]),
    ("unknown crm", {"crmqual.yaml": "crm: acme\n"}, ["sync"]),
    ("config unknown key", {"crmqual.yaml": "crm: file\nconection: {}\n"}, ["check"]),
    (
        "file adapter, input missing",
        {"crmqual.yaml": "crm: file\nconnection: {input: nope.csv, output: out.csv}\n"},
        ["sync"],
    ),
    ("policy with nan", {"p.yaml": "name: x\nmax_limit: .nan\n"}, ["policy", "check", "p.yaml"]),
    ("policy not YAML", {"p.yaml": "name: [x\n"}, ["policy", "check", "p.yaml"]),
    ("assess a missing file", {}, ["assess", "missing.csv"]),
    ("assess undecodable bytes", {"a.csv": b"id,name\nA1,\xff\xfe\xfa\n"}, ["assess", "a.csv"]),
    ("assess a bad policy", {"p.yaml": "nope: 1\n"}, ["assess", str(EXAMPLES), "-p", "p.yaml"]),
    ("assess a bad date", {}, ["assess", str(EXAMPLES), "--as-of", "yesterday-ish"]),
    ("history unknown account", {"crmqual.yaml": FILE_CONFIG}, ["history", "nope"]),
    ("revert unknown run", {"crmqual.yaml": FILE_CONFIG}, ["revert", "999"]),
    ("prune a negative age", {"crmqual.yaml": FILE_CONFIG}, ["prune", "--older-than", "-3"]),
    ("init over a file", {"crmqual.yaml": "crm: file\n"}, ["init", "--crm", "file"]),
    ("init unknown crm", {}, ["init", "--crm", "acme"]),
    ("secret with a bad name", {}, ["secret", "set", "bad-name", "--stdin"]),
    ("sandbox serve, unknown faults", {}, ["sandbox", "serve", "--faults", "nope", "--db", "s.db"]),
    ("state store unreachable", {"crmqual.yaml": FILE_CONFIG + NO_SERVER}, ["runs"]),
    ("policy diff, no config", {}, ["policy", "diff", "default", "default"]),
    ("policy diff, missing policy", {}, ["policy", "diff", "nope.yaml", "default", "--input",
                                         str(EXAMPLES)]),
    ("policy diff, empty store", {"crmqual.yaml": FILE_CONFIG},
     ["policy", "diff", "default", "default"]),
    ("backtest, bad window", {"crmqual.yaml": FILE_CONFIG},
     ["policy", "backtest", "default", "--as-of", "2026-01-01", "--window", "3x"]),
    ("backtest, empty store", {"crmqual.yaml": FILE_CONFIG},
     ["policy", "backtest", "default", "--as-of", "2026-01-01"]),
    ("outcomes, missing file", {"crmqual.yaml": FILE_CONFIG}, ["outcomes", "import", "nope.csv"]),
    ("outcomes, no id column", {"crmqual.yaml": FILE_CONFIG, "o.csv": "a,b\n1,2\n"},
     ["outcomes", "import", "o.csv"]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "files", "argv"), CASES, ids=[c[0] for c in CASES])
def test_an_error_case_ends_with_a_message_not_a_traceback(
    name: str, files: dict[str, str | bytes], argv: list[str], tmp_path: Path
) -> None:
    for filename, content in files.items():
        path = tmp_path / filename
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CRMQUAL_STATE_URL"}
    env["XDG_STATE_HOME"] = str(tmp_path / "state")  # never the machine's own state store
    done = subprocess.run(
        [sys.executable, "-m", "crmqual", *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        input="",
    )
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert done.returncode != 0 or name.startswith("assess undecodable"), done
    if done.returncode != 0:
        assert done.stderr.strip(), "an error needs a message"
