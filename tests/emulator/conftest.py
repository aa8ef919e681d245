"""Emulator tests need no Django: only the emulator's pytest plugin, loaded here unless already loaded."""

import hashlib

import pytest
import requests
from mailchimp3 import MailChimp

PLUGIN = "shoop_mailchimp.testing.pytest_plugin"


def pytest_configure(config):
    # pytest_plugins is refused in a non-root conftest, so register the plugin by hand.
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)


def md5(email):
    return hashlib.md5(email.lower().encode("utf-8")).hexdigest()


def control(emu, method, path, **kwargs):
    """A call to the emulator's own control API (``/_emulator/``), which must succeed."""
    response = requests.request(method, f"{emu.root_url}/_emulator/{path}", timeout=5, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


#: The address of the member the rule tests write.
EMAIL = "ann.smith@gmail.com"


def put_member(api, list_id, email=EMAIL, **body):
    """PUT the member ``email`` (new ones subscribed), with ``body`` on top."""
    body.setdefault("email_address", email)
    body.setdefault("status_if_new", "subscribed")
    return api("PUT", f"lists/{list_id}/members/{md5(email)}", json=body)


def promo_rule_body(rule_id="r1", **changes):
    """A promo rule's body: 10 % off the basket, with ``changes`` on top."""
    return dict({"id": rule_id, "title": "10% off", "description": "Ten percent off the basket", "amount": 0.1,
                 "type": "percentage", "target": "total"}, **changes)


def promo_code_body(code_id="c1", code="SAVE10", **changes):
    """A promo code's body, redeemed at the shop's link naming the code, with ``changes`` on top."""
    return dict({"id": code_id, "code": code, "redemption_url": "https://shop.example.com/p/?code=" + code},
                **changes)


def order(order_id="o1", **extra):
    """An e-commerce order of one line (product p1) by customer c1, with ``extra`` on top."""
    line = {"id": "l1", "product_id": "p1", "product_variant_id": "p1", "quantity": 1, "price": 5.0}
    body = {"id": order_id, "customer": {"id": "c1"}, "currency_code": "EUR", "order_total": 5.0, "lines": [line]}
    return dict(body, **extra)


@pytest.fixture
def mailchimp_emulator_rules_off():
    """The emulator's own tests run with every Mailchimp rule on (tests switch one off to test it)."""
    return frozenset()


#: The id of the store the e-commerce tests create.
STORE = "shop-1"


@pytest.fixture
def store(mailchimp_account, mailchimp_client):
    """An e-commerce store on the test audience."""
    _, _, list_id = mailchimp_account
    return mailchimp_client.stores.create({"id": STORE, "list_id": list_id, "name": "Shop", "currency_code": "EUR"})


@pytest.fixture
def mailchimp_client(mailchimp_account):
    """A mailchimp3 client aimed at the emulator."""
    emu, api_key, _ = mailchimp_account
    mc = MailChimp(mc_api=api_key, timeout=10)
    mc.base_url = emu.base_url
    mc.emulator, mc.api_key = emu, api_key  # for waits on the emulator's events
    return mc


@pytest.fixture
def api(mailchimp_account):
    """Raw ``requests`` calls against /3.0: ``api("GET", "lists", json=...)`` returns the response."""
    emu, api_key, _ = mailchimp_account

    def call(method, path, **kwargs):
        kwargs.setdefault("timeout", 10)
        return requests.request(method, emu.base_url + path.lstrip("/"), auth=("shop", api_key), **kwargs)

    return call
