"""Fixtures shared by the engine tests of this folder."""

from __future__ import annotations

import pytest

from matcher.config import DispatchConfig
from matcher.engine import Engine
from matcher.store import MemoryStore
from tests.builders import without_offers


@pytest.fixture
async def engine():
    """An engine over a fresh memory store with the default config, offers off (assignments are
    final), closed after the test."""
    engine = Engine(MemoryStore(), without_offers(DispatchConfig()))
    yield engine
    engine.close()
