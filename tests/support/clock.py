"""One frozen clock for the tests (docs/conventions.md, Tests: time is frozen explicitly, never read from the wall
clock in assertions). A test module that wants it says so with `pytest.mark.usefixtures("frozen_today")` and names
the moment: `FROZEN_AT` (a date, or an aware datetime where the time of day matters), or else its `TODAY`."""

import pytest
import time_machine


@pytest.fixture
def frozen_today(request):
    module = request.module
    moment = getattr(module, "FROZEN_AT", None) or getattr(module, "TODAY", None)
    if moment is None:
        raise pytest.UsageError(f"{module.__name__} uses frozen_today: give it FROZEN_AT or TODAY")
    with time_machine.travel(moment, tick=False):
        yield moment
