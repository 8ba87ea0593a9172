"""The header's "Sign up" button is readable as chromium draws it."""

import re

import pytest

pytestmark = pytest.mark.browser

COLOURS = """el => {
  const style = getComputedStyle(el);
  return [style.color, style.backgroundColor];
}"""


def _luminance(rgb: str) -> float:
    channels = []
    for value in [int(v) for v in re.findall(r"\d+", rgb)[:3]]:
        c = value / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_sign_up_button_has_aa_contrast(page):
    page.goto("/")
    button = page.locator("header nav").get_by_role("link", name="Sign up")
    text, background = button.evaluate(COLOURS)
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    assert _contrast(text, background) >= 4.5, (text, background)
    button.hover()
    text, background = button.evaluate(COLOURS)
    assert _contrast(text, background) >= 4.5, (text, background)
