"""Migration 0011: configurations initialized before sites were remembered take the site they are migrated on."""
import importlib

import pytest
from django.apps import apps

from shoop_mailchimp.models import MailchimpConfiguration
from tests.disconnect.conftest import STAGING, configuration_of_a_new_shop, run_on

migration = importlib.import_module("shoop_mailchimp.migrations.0011_disconnect")


def sites_after_migration(*configurations):
    migration.remember_sites(apps, None)
    return [MailchimpConfiguration.objects.get(pk=config.pk).site for config in configurations]


@pytest.mark.django_db
def test_the_shop_domain_or_the_webhook_host_becomes_the_site(settings):
    by_domain, without_domain, uninitialized = (
        configuration_of_a_new_shop(domain="Shop.Example.com"), configuration_of_a_new_shop(),
        configuration_of_a_new_shop(domain="new.example.com", initialized=False))
    assert sites_after_migration(by_domain, without_domain, uninitialized) == ["shop.example.com", "", ""]
    run_on(settings, STAGING)
    assert sites_after_migration(without_domain, by_domain) == ["staging.example.com", "shop.example.com"], \
        "a site once remembered is kept"
