"""Time budgets in the UI tests (import as ``._timing``)."""

from __future__ import annotations

import os

# The time budgets are measured on a quiet machine by bench/ui.py; the tests check them
# with this much slack, so a loaded CI machine does not fail them but a regression of several
# times still does.
TIME_SLACK = float(os.environ.get("WAYLINE_UI_TIME_SLACK", "3"))


def assert_within(measured_ms: float, budget_ms: float, what: str) -> None:
    """Fail when ``measured_ms`` exceeds ``budget_ms`` times ``TIME_SLACK``."""
    print(f"\n{what}: {measured_ms:.0f} ms (budget {budget_ms:.0f} ms)")
    assert measured_ms < budget_ms * TIME_SLACK, (
        f"{what} took {measured_ms:.0f} ms, over {TIME_SLACK}x its {budget_ms:.0f} ms budget"
    )
