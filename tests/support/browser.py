"""A real headless Chromium for the console's tests: Debian's `chromium` + `chromium-driver`.

Selenium drives the system browser through the system chromedriver (both from the same
Debian source package, so their versions match), never downloading anything: the driver's
path is given, so selenium-manager does not run, and it is told to stay offline anyway.
Chromium resolves no host but 127.0.0.1, which proves the page needs nothing from outside.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

os.environ.setdefault("SE_OFFLINE", "true")  # selenium-manager: never download a driver
os.environ.setdefault("SE_AVOID_STATS", "true")  # ... nor send usage statistics


def find_chromium() -> tuple[str, str] | None:
    """(browser, driver) paths when both are installed, else None."""
    browser = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    driver = CHROMEDRIVER if Path(CHROMEDRIVER).exists() else shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def start_chromium(browser: str, driver: str, width: int = 1280, height: int = 800) -> Any:
    """A headless Chromium (Selenium WebDriver) with a fixed viewport and its console log."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--autoplay-policy=no-user-gesture-required",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    # --headless=new takes --window-size as the window, not the page: pin the viewport.
    chrome.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    return chrome


def wait_for(condition: Callable[[], Any], timeout: float, what: str, poll: float = 0.1) -> Any:
    """Poll `condition()` until it returns something true (returned), or fail with `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)
