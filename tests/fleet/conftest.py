"""The fleet's tests reuse the Zoho tests' served sandbox (tests/zoho/zoho_backend.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "zoho"))
