"""pytest plugin: a failing tfreeze parity check prints its report as a
section of the test's failure output, and the ``tfreeze_parity`` fixture
gives tests assert_parity without an import.

Enabled automatically where tfreeze is installed (entry point ``pytest11``);
disable with ``-p no:tfreeze``. It imports tfreeze (and so TensorFlow's C
library) only when a test uses the fixture or fails.
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def tfreeze_parity() -> Any:
    """assert_parity, as a fixture."""
    from tfreeze.testing import assert_parity

    return assert_parity


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if call.excinfo is not None:
        from tfreeze.testing import ParityError

        if isinstance(call.excinfo.value, ParityError):
            report.sections.append(("tfreeze parity report", str(call.excinfo.value)))
    return report
