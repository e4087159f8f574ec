"""The HTML audit report in a real browser (headless Chromium): the counts it shows equal the JSON's,
a filter click hides the other rows, the path graph is drawn as SVG, no script errors, and a
screenshot. The page keeps its filter state in the URL fragment (`#rule=...`, `#click=ELEMENT_ID`
clicks an element after load), so `--dump-dom` shows the result of the click."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_audit_rules import seed_report

from reasoner.audit.report_html import render_html

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def browser() -> str | None:
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


pytestmark = pytest.mark.skipif(
    browser() is None and os.environ.get("REASONER_REQUIRE_BROWSER") != "1",
    reason="no chromium on PATH (Debian: apt-get install chromium)",
)


def run_browser(tmp_path: Path, *args: str) -> str:
    exe = browser()
    assert exe, "REASONER_REQUIRE_BROWSER=1 but no chromium on PATH"
    cmd = [
        exe,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
        *args,
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("report") / "audit.html"
    p.write_text(render_html(seed_report()), encoding="utf-8")
    return p


def dom(tmp_path: Path, page: Path, fragment: str = "") -> str:
    out = run_browser(tmp_path, "--dump-dom", page.as_uri() + (f"#{fragment}" if fragment else ""))
    assert 'data-ready="1"' in out, out[:2000]
    errors = re.search(r'<pre id="errors">(.*?)</pre>', out, re.S)
    assert errors is not None and errors.group(1).strip() == "", errors and errors.group(1)
    return out


def shown_rows(out: str) -> list[dict[str, str]]:
    body = re.search(r'<tbody id="rows">(.*?)</tbody>', out, re.S)
    assert body
    return [dict(re.findall(r'data-(\w+)="([^"]*)"', m)) for m in re.findall(r'<tr class="row"([^>]*)>', body.group(1))]


def test_counts_equal_the_json(tmp_path, page):
    r = seed_report()
    out = dom(tmp_path, page)
    assert re.search(r'id="count-total">(\d+)<', out).group(1) == str(len(r.findings))
    for status, n in r.summary.by_status.items():
        assert re.search(rf'id="count-{status}">(\d+)<', out).group(1) == str(n)
    shown = int(re.search(r'id="count-shown">(\d+)<', out).group(1))
    assert shown == len(r.findings) - r.summary.by_status["suppressed"]


def test_filter_click_hides_the_other_rows(tmp_path, page):
    r = seed_report()
    out = dom(tmp_path, page, "click=card-fail")
    rows = shown_rows(out)
    assert rows and {x["status"] for x in rows} == {"fail"}
    assert len(rows) == r.summary.by_status["fail"]
    assert 'class="card fail active"' in out


def test_path_graph_is_svg(tmp_path, page):
    out = dom(tmp_path, page, "rule=privilege-escalation")
    rows = shown_rows(out)
    assert rows and {x["rule"] for x in rows} == {"privilege-escalation"}
    assert re.search(r'<svg class="path-graph"[^>]*>.*?<rect.*?</svg>', out, re.S)
    assert "sso-admin" in out and "AssumeRole" in out


def test_screenshot(tmp_path, page):
    shot = tmp_path / "audit.png"
    run_browser(
        tmp_path, f"--screenshot={shot}", "--window-size=1280,1500", page.as_uri() + "#rule=privilege-escalation"
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
