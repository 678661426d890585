"""The browser fixtures (Debian's Chromium through Playwright), for the live-page test here."""

from tests.browser.conftest import allowed_console_errors, browser, page, signed_in

__all__ = ["allowed_console_errors", "browser", "page", "signed_in"]
