"""Storefront requests through the real HTTP server (live_server) make no request to
Mailchimp: landing from a campaign, adding to the basket, typing an e-mail at checkout, the restore link, a page
with the site script. (The test settings never start the background drainer, so any request the emulator sees
came from a storefront request's own thread.)
(Review of issue 18: none does; kept as evidence.)"""
import re
import time

import pytest
import requests
from shuup.front.models import StoredBasket
from shuup.testing.factories import (
    create_default_order_statuses,
    create_product,
    get_default_payment_method,
    get_default_shipping_method,
    get_default_supplier,
)
from shuup.xtheme import set_current_theme

from shoop_mailchimp import cart_links
from shoop_mailchimp.models import MailchimpConfiguration

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_storefront_requests_make_no_mailchimp_request(live_server, shop, cart_settings, settings,
                                                       mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, STOREFRONT_BASE_URL=live_server.url,
                                    CART_QUIET_SECONDS=0)
    MailchimpConfiguration.objects.filter(pk=cart_settings.pk).update(site_script_enabled=True,
                                                                       site_script_url="https://x.test/s.js")
    set_current_theme("shuup.themes.classic_gray", shop)
    create_default_order_statuses()
    get_default_payment_method()
    get_default_shipping_method()
    product = create_product("rev-live-mug", shop=shop, supplier=get_default_supplier(), default_price=15)
    emulator.clear_requests()
    emulator.faults.hang(30)

    browser = requests.Session()
    timings = {}

    def timed(name, method, path, **kwargs):
        started = time.monotonic()
        response = browser.request(method, live_server.url + path, timeout=20, **kwargs)
        timings[name] = time.monotonic() - started
        return response

    page = timed("landing", "GET", "/?mc_cid=1a2b3c4d5e&mc_eid=0f9e8d7c6b")
    assert "https://x.test/s.js" in page.text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    csrf = token.group(1) if token else browser.cookies.get("csrftoken", "")
    timed("add", "POST", "/basket/", data={"command": "add", "product_id": product.pk, "quantity": 1,
                                           "csrfmiddlewaretoken": csrf},
          headers={"Referer": live_server.url + "/"})
    basket = StoredBasket.objects.filter(deleted=False).order_by("-pk").first()
    assert basket is not None and basket.product_count == 1
    link = cart_links.restore_url(basket)
    other = requests.Session()
    started = time.monotonic()
    restored = other.get(link, timeout=20)
    timings["restore"] = time.monotonic() - started
    assert restored.status_code == 200
    assert emulator.requests == [], "a storefront request called Mailchimp"
    assert max(timings.values()) < 5, timings
