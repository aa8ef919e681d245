import pytest
from django.core.cache import cache
from shuup.core import cache as shuup_cache
from shuup.testing.factories import get_default_shop

from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.mailchimp import limits
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.testing.emulator import rules

#: Emulator rules (Mailchimp's behaviour beyond its OpenAPI description, see docs/emulator.rst)
#: switched off for the shop-side tests, with the reason each one breaks them today. Remove an entry
#: once the sync handles the rule; ``SHOOP_MAILCHIMP_EMULATOR_RULES_ON=<rule>`` (or ``all``) runs the
#: suite with it on to check. The emulator's own tests (tests/emulator/) always run with every rule on.
RULES_THE_SYNC_DOES_NOT_HANDLE_YET = {
    rules.COMPLIANCE_STATE: "a new consent after an unsubscribe in Mailchimp is sent as 'subscribed' "
    "(Mailchimp: 400 Member In Compliance State); it has to go through 'pending'",
    rules.BATCH_SHUFFLE: "the bulk sync puts a contact's customer and member, and an order and its products, "
    "in one batch and needs them run in order (customer first: the member stays transactional; "
    "order first: 400, product missing)",
    rules.FAKE_EMAILS: "not the sync: the shop-side tests' addresses are at example.com, which Mailchimp refuses "
    "as fake; switch on once they use realistic ones (the sync already fails such a contact alone)",
}


@pytest.fixture(autouse=True)
def clean_shuup_caches():
    """Shuup caches configuration between tests; without this settings leak and admin logins fail."""
    cache.clear()
    shuup_cache.init_cache()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def no_throttling_pauses(monkeypatch):
    """A 429 in one test pauses its shop (the same id in every test) for this process; not in the next test."""
    monkeypatch.setattr(limits, "_local_pauses", {})


@pytest.fixture
def mailchimp_emulator_rules_off():
    return frozenset(RULES_THE_SYNC_DOES_NOT_HANDLE_YET)


@pytest.fixture
def shop(db):
    return get_default_shop()


@pytest.fixture
def mailchimp_settings(settings, mailchimp_emulator):
    """Aim the app at the emulator (the base URL setting is the only switch)."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, API_BASE_URL=mailchimp_emulator.base_url)
    return settings.SHOOP_MAILCHIMP


@pytest.fixture
def configuration(shop, mailchimp_settings, mailchimp_account):
    """An enabled, initialized configuration for the default shop, on a fresh emulator account."""
    emulator, api_key, list_id = mailchimp_account
    config = MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, list_id=list_id, enabled=True)
    initialize(config)
    config.refresh_from_db()
    return config
