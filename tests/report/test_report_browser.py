"""The report page in a real headless browser: Debian's chromium and chromium-driver through
Selenium, the page opened from a file:// URL with every host unresolvable.

Without chromium (a laptop) these tests skip, saying why; with ``CRMQUAL_REQUIRE_BROWSER=1``
(set by ``.ci/run``) a missing browser fails them. A full-page screenshot of each page is
kept under ``artifacts/report/`` (gitignored; ``$CRMQUAL_ARTIFACTS`` to put it elsewhere).
"""

from __future__ import annotations

import base64
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_portfolio import TARGET, write_book

from crmqual.policy import load_policy
from crmqual.report import write_report
from crmqual.state import StateStore

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
DRIVER = ("/usr/bin/chromedriver",)
#: The page's plots, by id: every one must be there, each followed by its table.
PLOTS = (
    "grades",
    "exposure",
    "statuses",
    "utilisation",
    "migration",
    "flags",
    "completeness",
    "runs",
)
TABLES = (*PLOTS, "limits", "downgraded", "new_severe_list", "top")


def _first(paths: tuple[str, ...]) -> str | None:
    return next((p for p in paths if Path(p).exists()), None)


def _unavailable(reason: str) -> None:
    if os.environ.get("CRMQUAL_REQUIRE_BROWSER") == "1":
        pytest.fail(f"CRMQUAL_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (pip install -e '.[dev]')")
    browser, chromedriver = _first(CHROMIUM), _first(DRIVER)
    if browser is None or chromedriver is None:
        _unavailable("no chromium/chromedriver: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--force-device-scale-factor=1",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # no host resolves: nothing can be fetched
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(options=options, service=Service(chromedriver))
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The made-up book's report, in English and Chinese, on a SQLite store."""
    where = tmp_path_factory.mktemp("report")
    policy = load_policy()
    out = {}
    with StateStore(f"sqlite:///{where / 'state.sqlite'}") as store:
        write_book(store)
        for lang in ("en", "zh"):
            out[lang] = where / f"report-{lang}.html"
            write_report(
                store,
                TARGET,
                out[lang],
                lang=lang,
                policy=policy,
                record_url=lambda i: f"https://crm.example.invalid/Accounts/{i}",
            )
    return out


def _open(driver: Any, page: Path) -> list[dict[str, Any]]:
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(page.as_uri())
    return list(driver.get_log("browser"))


def _artifact(driver: Any, name: str, tmp_path: Path) -> Path:
    """A full-page screenshot, kept in the test's tmp dir and under artifacts/report/."""
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    data = base64.b64decode(shot["data"])
    folder = Path(os.environ.get("CRMQUAL_ARTIFACTS", REPO / "artifacts")) / "report"
    folder.mkdir(parents=True, exist_ok=True)
    for path in (tmp_path / name, folder / name):
        path.write_bytes(data)
    return folder / name


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_loads_offline_with_every_plot_and_table(
    driver: Any, pages: dict[str, Path], lang: str, tmp_path: Path
) -> None:
    errors = [e for e in _open(driver, pages[lang]) if e["level"] == "SEVERE"]
    assert errors == []
    assert driver.execute_script("return document.documentElement.lang") == (
        "zh-CN" if lang == "zh" else "en"
    )
    # nothing was fetched: no resource besides the page itself
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    for key in PLOTS:
        svg = driver.find_element("id", f"plot-{key}")
        size = svg.size
        assert size["width"] > 200 and size["height"] > 100, key
        following = driver.execute_script(
            "return arguments[0].parentElement.nextElementSibling.id", svg
        )
        assert following == f"table-{key}", key  # the plot's own table right under it
    for key in TABLES:
        rows = driver.find_elements("css selector", f"#table-{key} tbody tr")
        assert rows, key
    assert len(driver.find_elements("css selector", "#table-top tbody tr")) == 25
    links = driver.find_elements("css selector", "#table-top a")
    assert links and links[0].get_attribute("href").startswith("https://crm.example.invalid/")
    assert driver.find_elements("css selector", "script") == []
    shot = _artifact(driver, f"report-{lang}.png", tmp_path)
    assert shot.stat().st_size > 10_000


def test_a_fetch_would_be_caught(driver: Any, pages: dict[str, Path], tmp_path: Path) -> None:
    """The check above can fail: a page that tries to fetch an image is blocked and logs it."""
    html = pages["en"].read_text(encoding="utf-8")
    bad = tmp_path / "fetching.html"
    bad.write_text(html.replace("<body>", '<body><img src="https://example.com/x.png">'), "utf-8")
    errors = [e for e in _open(driver, bad) if e["level"] == "SEVERE"]
    assert errors, "a blocked fetch must show as a console error"


def _fonts_of(driver: Any, selector: str) -> list[dict[str, Any]]:
    """The fonts the browser drew ``selector``'s text with (DevTools' CSS domain)."""
    driver.execute_cdp_cmd("DOM.enable", {})
    driver.execute_cdp_cmd("CSS.enable", {})
    root = driver.execute_cdp_cmd("DOM.getDocument", {})["root"]["nodeId"]
    node = driver.execute_cdp_cmd("DOM.querySelector", {"nodeId": root, "selector": selector})
    fonts = driver.execute_cdp_cmd("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})
    return list(fonts["fonts"])


def _heading_png(driver: Any, page: Path, font: str | None, tmp_path: Path) -> bytes:
    """The h1 of ``page`` as the browser draws it, with its font forced to ``font``."""
    html = page.read_text(encoding="utf-8")
    if font is not None:
        html = html.replace("</head>", f"<style>h1 {{ font-family: {font}; }}</style></head>")
    copy = tmp_path / f"heading-{abs(hash(font))}.html"
    copy.write_text(html, encoding="utf-8")
    _open(driver, copy)
    return bytes(driver.find_element("tag name", "h1").screenshot_as_png)


def _differs(a: bytes, b: bytes) -> float:
    """Share of pixels that differ between two PNGs (1.0 when their sizes differ)."""
    from PIL import Image, ImageChops

    one, two = Image.open(io.BytesIO(a)).convert("L"), Image.open(io.BytesIO(b)).convert("L")
    if one.size != two.size:
        return 1.0
    diff = ImageChops.difference(one, two).point(lambda v: 255 if v > 40 else 0)
    return sum(1 for v in diff.tobytes() if v) / (one.size[0] * one.size[1])


def test_chinese_heading_is_drawn_with_a_cjk_font(
    driver: Any, pages: dict[str, Path], tmp_path: Path
) -> None:
    if shutil.which("fc-list") is None:
        pytest.skip("fontconfig is not installed")
    _open(driver, pages["zh"])
    heading = driver.find_element("tag name", "h1").text
    assert heading == "信用组合报告"
    fonts = _fonts_of(driver, "h1")
    cjk = [f for f in fonts if "CJK" in f["familyName"] or "CJK" in f["postScriptName"]]
    assert cjk, f"no CJK font drew the heading: {fonts}"
    assert sum(f["glyphCount"] for f in cjk) == len(heading)  # every glyph, no box
    assert not any(f["isCustomFont"] for f in fonts)  # a system font, nothing downloaded
    # A screenshot of the heading against a reference rendering in Noto Sans CJK SC...
    page = _heading_png(driver, pages["zh"], None, tmp_path)
    reference = _heading_png(driver, pages["zh"], '"Noto Sans CJK SC"', tmp_path)
    assert _differs(page, reference) < 0.01
    # ...which a different face (a serif) does not match: the comparison can fail.
    serif = _heading_png(driver, pages["zh"], '"Noto Serif CJK SC"', tmp_path)
    assert _differs(page, serif) > 0.01
