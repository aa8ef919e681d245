"""Review 18: Mailchimp's site script (site tracking, pop-up forms) stays in every storefront page after the shop
disconnected from Mailchimp: the admin's "Disconnect" stops all sending, but the visitors' browsers go on
reporting to Mailchimp."""
import pytest
from django.test import Client
from shuup.xtheme import set_current_theme

from shoop_mailchimp.disconnection import stop_sending
from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.journal import Journal
from shoop_mailchimp.models import MailchimpConfiguration

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(shop, fresh_configuration, mailchimp_account):
    set_current_theme("shuup.themes.classic_gray", shop)
    shop.domain = "shop.example.com"
    shop.save()
    initialize(fresh_configuration)
    MailchimpConfiguration.objects.filter(pk=fresh_configuration.pk).update(site_script_enabled=True)
    fresh_configuration.refresh_from_db()
    return fresh_configuration


def test_a_disconnected_shop_includes_no_mailchimp_site_script(linked):
    assert linked.site_script_url and linked.site_script_url in Client().get("/").content.decode()
    stop_sending(linked, Journal(linked.shop_id), delete_store=False)  # what the admin's Disconnect does first
    linked.refresh_from_db()
    assert linked.disconnected_on and not linked.is_active
    assert linked.site_script_url not in Client().get("/").content.decode(), \
        "a shop disconnected from Mailchimp still makes every visitor's browser load Mailchimp's tracking"
