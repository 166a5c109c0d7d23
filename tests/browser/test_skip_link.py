"""The first Tab on any signed-in page reaches "Skip to main content", shown when focused, which takes the keyboard
past the top bar to the page's content (WCAG 2.4.1); and the top bar's links are white on NHS blue (WCAG 1.4.3)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def contrast(page, selector: str) -> float:
    """WCAG contrast of an element's text colour against the top bar's background."""
    return page.evaluate(
        """([selector]) => {
            const rgb = (s) => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
            const lum = ([r, g, b]) => {
                const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
                return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
            };
            const text = lum(rgb(getComputedStyle(document.querySelector(selector)).color));
            const back = lum(rgb(getComputedStyle(document.querySelector('nav.site-nav')).backgroundColor));
            return (Math.max(text, back) + 0.05) / (Math.min(text, back) + 0.05);
        }""",
        [selector],
    )


def test_the_first_tab_skips_to_the_content(page, login, alice):
    login(alice)
    page.goto("/patients/")
    page.keyboard.press("Tab")
    skip = page.get_by_test_id("skip-link")
    assert skip.evaluate("el => el === document.activeElement") and skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert contrast(page, "nav.site-nav .nav-link") >= 4.5
    assert contrast(page, "nav.site-nav .site-nav-who") >= 4.5
