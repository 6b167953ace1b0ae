"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import RunningServer, config_for_tests, running_server


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    """The demo configuration served on free ports of 127.0.0.1."""
    async with running_server(config_for_tests(tmp_path)) as running:
        yield running
