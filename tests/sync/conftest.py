import pytest

#: Due contacts that make a burst in the tests (BATCH_SIZE is four: a burst of six is two chunks).
BURST_THRESHOLD = 6


@pytest.fixture
def burst_settings(settings, configuration):
    """Saves only record (worker mode); six due contacts make a burst, four contacts per batch."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BURST_THRESHOLD=BURST_THRESHOLD,
                                    BATCH_SIZE=4, BATCH_POLL_INTERVAL=0)
    return configuration
