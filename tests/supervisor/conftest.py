"""Fixtures of the supervisor API tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import config_for_tests

from .helpers import Api, open_api


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    """The demo configuration served on free ports, with an HTTP client per token."""
    async with open_api(config_for_tests(tmp_path)) as opened:
        yield opened
