"""Headless Chromium for browser tests: Debian's chromium driven by Playwright.

Locally the browser tests skip with a clear message when no chromium is installed; CI
sets MAS_REQUIRE_BROWSER=1 so that a missing browser fails them instead.
Screenshots go to test-artifacts/.
"""

import os
import shutil
import threading
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = os.environ.get("MAS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _chromium_path() -> str | None:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser_page(live_server):
    """A fresh Playwright page in headless Chromium, pointed at the live server."""
    executable = _chromium_path()
    if executable is None:
        message = "headless Chromium not found (apt-get install chromium)"
        if os.environ.get("MAS_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: make install")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            locale="zh-CN", base_url=live_server.url, viewport={"width": 1280, "height": 900}
        )
        # Generous: a loaded 2-core machine can take seconds per page; this is not a timing check.
        context.set_default_timeout(45_000)
        page = context.new_page()
        try:
            yield page
        finally:
            # The test body ran inside Playwright's greenlet, whose database connection
            # is not the thread's usual one: close it here, in the same context.
            connections.close_all()
            context.close()
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            _wait_for_request_threads()


def _wait_for_request_threads(timeout: float = 5.0) -> None:
    """Let the live server's request threads see the browser hang up and close their
    database connections, so the test database can be dropped at the end of the run."""
    for thread in threading.enumerate():
        if "process_request_thread" in thread.name:
            thread.join(timeout)


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
