"""Fixtures for the fulfillment tests."""

import pytest

from tests.fulfillment.factories import committing


@pytest.fixture
def run_tasks():
    """Run the Celery tasks queued on commit inside the block (eager, as after a commit)."""
    return committing
