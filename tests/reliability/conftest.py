"""Fixtures for the reliability tests (their summary line is printed by tests/conftest.py)."""
import pytest

from shoop_mailchimp.mailchimp.errors import MailchimpError
from shoop_mailchimp.mailchimp.transport import MailchimpSession
from tests.reliability import registry
from tests.reliability.helpers import consent_violations


@pytest.fixture
def client_errors(monkeypatch):
    """Every MailchimpError the client raised in the test: refused, reset, timed out or answered >= 400."""
    errors = []
    original = MailchimpSession.run

    def counting(self, operation):
        try:
            return original(self, operation)
        except MailchimpError as error:
            errors.append(error)
            raise

    monkeypatch.setattr(MailchimpSession, "run", counting)
    return errors


@pytest.fixture
def worker_mode(settings):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")


@pytest.fixture
def consent_guard(configuration, mailchimp_account, client_errors):
    """An initialized shop; afterwards nobody in any audience may be subscribed without consent."""
    yield configuration
    violations = consent_violations(mailchimp_account[0])
    registry.tally("consent_violations", len(violations))
    assert not violations, "subscribed without consent: %s" % violations


@pytest.fixture
def scenario(consent_guard, client_errors):
    """One injected fault scenario; it and the requests that failed in it are counted in the summary."""
    registry.tally("faults")
    yield consent_guard
    registry.tally("requests_failed", len(client_errors))
