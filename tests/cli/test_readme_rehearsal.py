"""README's rehearsal against the sandbox, run exactly as written (issue 14)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def rehearsal_block() -> str:
    text = README.read_text("utf-8")
    section = text.split("### Rehearse against the sandbox", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, flags=re.S)
    assert match, "no sh block under 'Rehearse against the sandbox'"
    return match.group(1)


@pytest.mark.slow
def test_the_readme_rehearsal_runs_as_written(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    for name in ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN", "CRMQUAL_CONFIG"):
        env.pop(name, None)
    # A step that fails must not leave the served sandbox running.
    script = "set -euo pipefail\ntrap 'kill ${SANDBOX:-} 2>/dev/null || true' EXIT\n"
    script += rehearsal_block()
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "next: `crmqual provision --dry-run`, then `crmqual provision`" in out
    assert "next: `crmqual sync --dry-run`" in out
    assert "crmqual sync: ok (full, run 1)" in out and "written 500" in out
    assert "written 0" in out  # the second sync
    plan = json.loads((tmp_path / "plan.json").read_text("utf-8"))
    assert plan["dry_run"] and plan["changed"] == 500
    config = (tmp_path / "crmqual.yaml").read_text("utf-8")
    secrets = (tmp_path / "sandbox.env").read_text("utf-8")
    assert "${ZOHO_REFRESH_TOKEN}" in config
    token = re.search(r"ZOHO_REFRESH_TOKEN=(\S+)", secrets)
    assert token and token.group(1).strip("'") not in config
    assert (tmp_path / "sandbox.env").stat().st_mode & 0o077 == 0
