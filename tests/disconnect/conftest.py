import pytest

from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.models import MailchimpConfiguration

#: Where the shop runs (the host of WEBHOOK_BASE_URL), and where a copy of its database runs.
PRODUCTION = "https://shop.example.com"
STAGING = "https://staging.example.com"


def run_on(settings, base_url):
    """This process runs on the site of ``base_url`` (a deployment's own setting)."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, WEBHOOK_BASE_URL=base_url)


@pytest.fixture
def connected(settings, shop, mailchimp_settings, mailchimp_account):
    """An initialized configuration on PRODUCTION, whose webhook is registered with the emulator's audience."""
    emulator, api_key, list_id = mailchimp_account
    run_on(settings, PRODUCTION)
    configuration = MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, list_id=list_id, enabled=True)
    initialize(configuration)
    configuration.refresh_from_db()
    assert configuration.webhook_id and configuration.site == "shop.example.com"
    return configuration


def initialized_on_domain(shop, mailchimp_account, domain):
    """The shop's configuration initialized while the shop's domain was ``domain`` (no WEBHOOK_BASE_URL: the
    domain names the site it remembers), read again from the database."""
    _emulator, api_key, list_id = mailchimp_account
    shop.domain = domain
    shop.save()
    configuration = MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, list_id=list_id, enabled=True)
    initialize(configuration)
    return MailchimpConfiguration.objects.get(pk=configuration.pk)


def configuration_of_a_new_shop(initialized=True, domain=None, **fields):
    """A configuration (with ``fields``) of a new enabled shop (of ``domain``), initialized or not: the rows a
    migration finds."""
    from django.utils import timezone
    from shuup.core.models import Shop, ShopStatus

    shop = Shop.objects.create(identifier="shop-%s" % Shop.objects.count(), status=ShopStatus.ENABLED, domain=domain)
    return MailchimpConfiguration.objects.create(shop=shop, initialized_on=timezone.now() if initialized else None,
                                                 **fields)
