"""The checks every page of the browser tests goes through: axe-core (no serious or critical
violation), no sideways scrolling at 390 px, a screenshot at 1280 and 390 px, and on a
preview the total and "Prosegui" on screen together."""

import json
import os
from pathlib import Path

import pytest

from tests.e2e.conftest import SCREENSHOTS, VIEWPORTS

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# The impacts that fail a page; AXE_IMPACTS=minor,moderate,serious,critical shows them all.
BLOCKING = os.environ.get("AXE_IMPACTS", "serious,critical").split(",")

RUN_AXE = """async (impacts) => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
}"""

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > width + 1 && el.getClientRects().length)
    .slice(0, 5)
    .map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
                 (el.className && typeof el.className === "string" ? "." + el.className.split(" ").join(".") : ""));
  return { scrollWidth: document.documentElement.scrollWidth, width, wide };
}"""


def axe_source() -> str:
    if not AXE.exists():
        if os.environ.get("CI_REQUIRE_SERVICES"):
            pytest.fail(f"{AXE} is missing: `make test` installs it with `npm ci`")
        pytest.skip("axe-core is not installed (npm ci)")
    return AXE.read_text()


class PageChecker:
    """Checks the page a test is on; `check(name)` records problems, `assert_clean()` fails
    the test with all of them at once."""

    def __init__(self, page, flow: str):
        self.page = page
        self.flow = flow
        self.problems: list[str] = []
        self.checked: list[str] = []

    def check(self, name: str, *, preview: bool = False) -> None:
        page = self.page
        page.wait_for_load_state("load")
        folder = SCREENSHOTS / self.flow
        folder.mkdir(parents=True, exist_ok=True)
        for size_name, size in VIEWPORTS.items():
            page.set_viewport_size(size)
            page.screenshot(path=str(folder / f"{name}-{size_name}.png"), full_page=True)
            for violation in page.evaluate(RUN_AXE, BLOCKING):
                self.problems.append(f"{name} ({size_name}): axe {json.dumps(violation)}")
            if size_name == "desktop":
                body = page.inner_text("body")
                if "{#" in body or "{%" in body or "{{" in body:
                    self.problems.append(f"{name}: template syntax shown on the page")
            if size_name == "phone":
                sizes = page.evaluate(OVERFLOW)
                if sizes["scrollWidth"] > sizes["width"]:
                    self.problems.append(f"{name}: {sizes['scrollWidth']} px wide at 390: {sizes}")
                if preview:
                    self._total_beside_prosegui(name)
        page.set_viewport_size(VIEWPORTS["desktop"])
        self.checked.append(name)

    def _total_beside_prosegui(self, name: str) -> None:
        page = self.page
        button = page.get_by_role("button", name="Prosegui")
        button.scroll_into_view_if_needed()
        height = page.viewport_size["height"]
        width = page.viewport_size["width"]
        for label, locator in (("totale", page.locator("#totale")), ("Prosegui", button)):
            box = locator.bounding_box()
            if (
                box is None
                or box["y"] < 0
                or box["y"] + box["height"] > height
                or box["x"] < 0
                or box["x"] + box["width"] > width
            ):
                self.problems.append(f"{name}: at 390 px {label} is not on screen with Prosegui")

    def assert_clean(self) -> None:
        assert not self.problems, "\n".join(self.problems)
