"""pytest fixtures around the Mailchimp emulator; any spec violation fails the test that caused it.

Load with ``pytest_plugins = ["shoop_mailchimp.testing.pytest_plugin"]``. No Django here.
"""

import json

import pytest

from shoop_mailchimp.testing.emulator import Emulator


@pytest.fixture(scope="session")
def mailchimp_emulator_server():
    """One emulator server per test session (the spec is loaded once)."""
    emulator = Emulator(require_spec=True).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def mailchimp_emulator(mailchimp_emulator_server):
    """The session emulator, reset; the test fails if it sent any request the spec refuses."""
    emulator = mailchimp_emulator_server
    emulator.reset()
    yield emulator
    violations = list(emulator.violations)
    emulator.faults.clear()
    if violations:
        pytest.fail(
            "Requests refused by the Mailchimp OpenAPI spec:\n" + json.dumps(violations, indent=2),
            pytrace=False,
        )


@pytest.fixture
def mailchimp_account(mailchimp_emulator):
    """``(emulator, api_key, list_id)`` for a fresh account with one audience."""
    api_key = mailchimp_emulator.add_account()
    list_id = mailchimp_emulator.add_list(api_key, name="Test audience")
    return mailchimp_emulator, api_key, list_id
