"""The ACME adapter (``acme_dist/``) installed beside crmqual as its own distribution."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmqual import registry

HERE = Path(__file__).parent
ENTRY_POINTS = "[crmqual.adapters]\nacme = acme_crm:PLUGIN\n"
METADATA = "Metadata-Version: 2.1\nName: crmqual-acme\nVersion: 0.1.0\nRequires-Dist: crmqual\n"


@pytest.fixture(scope="session")
def acme_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out as site-packages holds an installed crmqual-acme: the package and
    its dist-info with the entry point. Nothing of it is inside crmqual's source tree."""
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(HERE / "acme_dist" / "acme_crm", site / "acme_crm")
    info = site / "crmqual_acme-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(METADATA, "utf-8")
    (info / "entry_points.txt").write_text(ENTRY_POINTS, "utf-8")
    (info / "top_level.txt").write_text("acme_crm\n", "utf-8")
    return site


@pytest.fixture
def acme_installed(acme_site: Path) -> Iterator[Path]:
    """crmqual-acme importable and registered in this process, for the test's duration."""
    sys.path.insert(0, str(acme_site))
    registry.forget()
    try:
        yield acme_site
    finally:
        sys.path.remove(str(acme_site))
        for name in [m for m in sys.modules if m == "acme_crm" or m.startswith("acme_crm.")]:
            del sys.modules[name]
        registry.forget()
