"""Browser tests (Chromium through Playwright); see conftest.py."""
