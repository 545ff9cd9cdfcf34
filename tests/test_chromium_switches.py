"""The switches the browser tests start Chromium with (tests/browser_helpers.py ``CHROMIUM_ARGS``): every
feature Playwright switches off stays off, and the address bar's popup, which no test looks at, is not
started in each browser context."""

from __future__ import annotations

import pytest

from browser_helpers import _Chromium, chromium, launch  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def test_chromium_keeps_playwrights_switches_and_starts_no_address_bar_popup(chromium):
    """A Chromium of its own, launched by the session's Playwright (the ``chromium`` fixture's: a worker can
    run only one), so that its command line can be read."""
    import psutil

    def command_line(process) -> str:
        try:
            return " ".join(process.cmdline())
        except psutil.Error:  # ended meanwhile: a block of another test, the shared build's processes
            return ""

    def browsers() -> set:
        return {c for c in psutil.Process().children(recursive=True)
                if "--type=" not in command_line(c) and "--disable-features=" in command_line(c)}

    before = browsers()
    browser = launch(_Chromium.playwright)
    try:
        (process,) = browsers() - before
        given = [arg.split("=", 1)[1].split(",") for arg in process.cmdline() if arg.startswith("--disable-features=")]
        assert len(given) == 2, given  # Playwright's own, then CHROMIUM_ARGS's, which Chromium heeds alone
        playwrights, ours = given
        assert set(playwrights) <= set(ours), f"Playwright switches off {sorted(set(playwrights) - set(ours))} too"
        browser.new_context().new_page().goto("about:blank")
        targets = browser.new_browser_cdp_session().send("Target.getTargets")["targetInfos"]
    finally:
        browser.close()
    assert [t["url"] for t in targets if t["type"] == "page"] == ["about:blank"]
    assert [t["url"] for t in targets if t["type"] != "page"] == []  # chrome://omnibox-popup.top-chrome/ without the switch
