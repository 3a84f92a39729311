"""Shared fixtures: every test starts with grad mode on and the global generator seeded."""

import pytest

import autodiff as ad
from autodiff import engine


@pytest.fixture(autouse=True)
def _grad_mode_and_seed():
    """Seed the generator; fail a test that leaves grad mode off (and turn it back on)."""
    engine.grad_state.enabled = True
    ad.manual_seed(0)
    yield
    leaked = not ad.is_grad_enabled()
    engine.grad_state.enabled = True
    assert not leaked, "the test left grad mode disabled (a no_grad that was not exited)"
