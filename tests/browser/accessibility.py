"""The accessibility checks the browser tests share (docs/design.md, Accessible on every device): axe-core's rules
for WCAG 2.0, 2.1 and 2.2 A and AA and its best practice, and the phone check that the page never scrolls
sideways at 390 px.

axe-core 4.14.1 is vendored beside this module with its licence (MPL-2.0, tests/browser/vendor/); it is given to
the page through the DevTools protocol, which the page's Content-Security-Policy does not govern, so the pages are
checked exactly as they are served."""

from functools import cache
from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_violations(page) -> list[str]:
    """Every axe violation on the page as it stands, one line each: rule, impact, what it means, where."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    violations = page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {
                runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
            });
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ' [' +
                    n.failureSummary.split('\\n').slice(1, 2).join('').trim() + ']' : '')),
            }));
        }""",
        list(TAGS),
    )
    return [
        f"{v['id']} ({v['impact']}: {v['help']}) on {len(v['nodes'])}: " + "; ".join(v["nodes"][:4])
        for v in violations
    ]


def sideways_scroll(page) -> int:
    """How many pixels the page is wider than the viewport (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def page_problems(page, name: str, shots: Path) -> list[str]:
    """The page as it stands at both sizes: axe's violations at 1366 px and at 390 px (the menu collapsed, rows
    stacked as cards), any sideways scroll at 390 px, and a screenshot at each size under `shots` to look at.
    The page is left at 390 px, the phone's."""
    shots.mkdir(parents=True, exist_ok=True)
    stem = name.replace(" ", "-").replace(",", "")
    problems = []
    for size, label in ((DESKTOP, "1366"), (PHONE, "390")):
        page.set_viewport_size(size)
        page.wait_for_timeout(100)  # the layout settles (a chart resizes)
        at = f"{name}, at {label} px"
        problems += [f"{at}: {line}" for line in axe_violations(page)]
        if size is PHONE and (wider := sideways_scroll(page)) > 0:
            problems.append(f"{at}: the page scrolls sideways by {wider} px")
        page.screenshot(path=str(shots / f"{stem}-{label}.png"), full_page=True)
    return problems
