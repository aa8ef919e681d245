"""A promo code's redemption link (the ``redemption_url`` Mailchimp's e-mails carry): it puts the code in the
shopper's basket and shows the basket; a code that cannot be used says so, and nothing leads off the site."""
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from shuup.testing.factories import create_product, get_default_supplier

from shoop_mailchimp.storefront.views import PROMO_URL_NAME
from tests.helpers import five_off
from tests.storefront.helpers import page_messages

pytestmark = pytest.mark.django_db


def redeem(client, code, **extra):
    return client.get(reverse("shuup:" + PROMO_URL_NAME), dict(code=code, **extra))


def basket_with_product(shop):
    client = Client()
    product = create_product("redeem-sku", shop=shop, supplier=get_default_supplier(), default_price=20)
    added = client.post(reverse("shuup:basket"), {"command": "add", "product_id": product.pk, "quantity": 1})
    assert added.status_code == 302
    return client


def test_the_link_puts_the_code_in_the_basket(shop):
    five_off(shop)
    client = basket_with_product(shop)
    response = redeem(client, "save5")  # Shuup's codes are not case-sensitive
    assert response.status_code == 302 and response["Location"] == reverse("shuup:basket")
    basket = client.get(response["Location"])
    [message] = page_messages(basket)
    assert "save5 is in your basket" in message
    assert "Five off" in basket.content.decode(), "the campaign's discount line is in the basket"


def test_an_unknown_or_ended_code_says_so_and_changes_nothing(shop):
    five_off(shop, code="OVER", end_datetime=timezone.now() - timedelta(days=1))
    client = basket_with_product(shop)
    for code in ("NOPE", "OVER", "", "X" * 40):
        response = redeem(client, code)
        assert response.status_code == 302 and response["Location"] == reverse("shuup:basket")
        basket = client.get(response["Location"])
        [message] = page_messages(basket)
        assert "cannot be used" in message
        assert "Five off" not in basket.content.decode()


def test_the_link_leads_nowhere_but_the_basket_and_escapes_the_code(shop):
    client = Client()
    response = redeem(client, "<script>", next="https://evil.example.com/")
    assert response["Location"] == reverse("shuup:basket")
    [message] = page_messages(client.get(response["Location"]))
    assert "script" in message and "<script>" not in message


def test_the_link_only_answers_get(shop):
    assert Client().post(reverse("shuup:" + PROMO_URL_NAME), {"code": "SAVE5"}).status_code == 405


def test_redeeming_never_talks_to_mailchimp(shop, configuration, mailchimp_account):
    emulator = mailchimp_account[0]
    five_off(shop)  # no commit in this test: nothing was sent
    emulator.clear_requests()
    client = basket_with_product(shop)
    redeem(client, "SAVE5")
    assert emulator.requests == []
