import pytest
from django.core.cache import cache
from shuup.core.models import Currency, Shop, ShopStatus

from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.models import MailchimpConfiguration

#: Due contacts that make a burst in the tests (BATCH_SIZE is four: a burst of six is two chunks).
BURST_THRESHOLD = 6


@pytest.fixture
def burst_settings(settings, configuration):
    """Saves only record (worker mode); six due contacts make a burst, four contacts per batch."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BURST_THRESHOLD=BURST_THRESHOLD,
                                    BATCH_SIZE=4, BATCH_POLL_INTERVAL=0)
    return configuration


@pytest.fixture
def taxless_shop(shop):
    """The default shop, its prices entered without tax."""
    shop.prices_include_tax = False
    shop.save()
    return shop


@pytest.fixture
def dinar_shop(shop):
    """A shop selling in Kuwaiti dinars: three decimal places."""
    Currency.objects.update_or_create(code="KWD", defaults={"decimal_places": 3})
    shop.currency = "KWD"
    shop.save()
    cache.clear()
    return shop


@pytest.fixture
def south_and_north(settings, shop, fresh_configuration, mailchimp_account):
    """Two shops on their own domains, each initialized with its own audience of one account: the default shop
    (south.example.com) and North (north.example.com, in SEK, prices with tax). Their configurations."""
    emulator, api_key, _list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, WEBHOOK_BASE_URL="https://hooks.example.net")
    shop.domain = "south.example.com"
    shop.save()
    initialize(fresh_configuration)
    south_config = MailchimpConfiguration.objects.get(pk=fresh_configuration.pk)
    north = Shop.objects.create(identifier="north", name="North", public_name="North", currency="SEK",
                                domain="north.example.com", status=ShopStatus.ENABLED, prices_include_tax=True)
    north_config = MailchimpConfiguration.objects.create(shop=north, api_key=api_key, enabled=True,
                                                         list_id=emulator.add_list(api_key, name="North"))
    initialize(north_config)
    north_config.refresh_from_db()
    return south_config, north_config
