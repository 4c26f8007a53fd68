"""The auditor's pages as a person sees them: rendered in a real headless Chromium at a fixed
window size (tooling/headless_browser.py, CDP over a WebSocket), not blank, and no network request.
Without a browser the test skips, and fails under CI=true (scripts/setup.sh installs one where it can)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tooling.headless_browser import Browser, browser, find_browser, pixel_spread

WIDTH, HEIGHT = 1280, 1024
SHOTS = Path(__file__).resolve().parents[2] / "build" / "auditor-pack"


@pytest.fixture(scope="module")
def chrome() -> Iterator[Browser]:
    executable = find_browser()
    if executable is None:
        message = "no Chromium found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with browser(executable, WIDTH, HEIGHT) as started:
        yield started


@pytest.mark.parametrize("page", ["index.html", "au-production.html"])
def test_the_page_renders_drawn_and_offline(chrome: Browser, au_production_pack: Path, page: str) -> None:
    visit = chrome.visit((au_production_pack / page).as_uri())
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / page.replace(".html", ".png")).write_bytes(visit.screenshot)
    variance, levels = pixel_spread(visit.screenshot)
    assert variance > 100 and levels > 16, (variance, levels)
    assert visit.other_requests == []
    assert not [m for m in visit.console if "Content Security Policy" in m], visit.console


def test_the_checks_can_fail_on_a_blank_page_that_fetches(chrome: Browser, tmp_path: Path) -> None:
    page = tmp_path / "blank.html"
    page.write_text('<!DOCTYPE html><html><head><link rel="stylesheet" href="http://127.0.0.1:9/x.css"></head></html>')
    visit = chrome.visit(page.as_uri())
    assert pixel_spread(visit.screenshot)[0] < 1
    assert visit.other_requests == ["http://127.0.0.1:9/x.css"]
