"""Rule ``notifications``: order notifications and automations are recorded unless the store syncs.

Also carts, the e-commerce resource behind abandoned-cart automations.
"""

import hashlib

import pytest
import requests

from shoop_mailchimp.testing.emulator import rules

from .conftest import STORE, order


@pytest.fixture
def store_with_a_customer(mailchimp_account, mailchimp_client, store):
    """The store, with a product and a customer to order it."""
    mug = {"id": "p1", "title": "Mug", "variants": [{"id": "p1", "title": "Mug"}]}
    mailchimp_client.stores.products.create(STORE, mug)
    customer = {"id": "c1", "email_address": "buyer@gmail.com", "opt_in_status": True}
    mailchimp_client.stores.customers.create_or_update(STORE, "c1", customer)
    return mailchimp_account




def cart(cart_id="cart1", **extra):
    line = {"id": "l1", "product_id": "p1", "product_variant_id": "p1", "quantity": 2, "price": 5.0}
    body = {
        "id": cart_id,
        "customer": {"id": "c1"},
        "currency_code": "EUR",
        "order_total": 10.0,
        "checkout_url": "https://shop.fi/checkout",
        "lines": [line],
    }
    return dict(body, **extra)


def kinds(emu, api_key):
    return [(n["kind"], n.get("order_id") or n.get("cart_id")) for n in emu.notifications(api_key)]


def test_order_statuses_trigger_their_notifications(store_with_a_customer, api):
    emu, api_key, _ = store_with_a_customer
    url = f"ecommerce/stores/{STORE}/orders"
    assert api("POST", url, json=order(financial_status="pending")).status_code == 200
    api("PATCH", f"{url}/o1", json={"financial_status": "paid"})
    api("PATCH", f"{url}/o1", json={"financial_status": "paid", "order_total": 6.0})  # unchanged status: nothing
    api("PATCH", f"{url}/o1", json={"fulfillment_status": "shipped"})
    api("PATCH", f"{url}/o1", json={"financial_status": "partially_refunded"})  # no documented notification
    api("PATCH", f"{url}/o1", json={"financial_status": "refunded"})
    api("POST", url, json=order("o2", financial_status="cancelled"))
    api("POST", url, json=order("o3"))  # no status: no notification
    api("PATCH", f"{url}/o3", json={"cancelled_at_foreign": "2026-01-02T10:00:00+00:00"})  # nor a cancel time
    assert kinds(emu, api_key) == [
        ("order_confirmation", "o1"),
        ("order_invoice", "o1"),
        ("shipping_confirmation", "o1"),
        ("refund_confirmation", "o1"),
        ("cancellation_confirmation", "o2"),
    ]
    first = emu.notifications(api_key)[0]
    assert first["store_id"] == STORE and first["customer_id"] == "c1" and first["at"]
    assert emu.notifications(api_key, store_id="other") == []


def test_nothing_is_recorded_while_the_store_is_syncing(store_with_a_customer, api, mailchimp_client):
    emu, api_key, list_id = store_with_a_customer
    assert mailchimp_client.stores.update(STORE, {"is_syncing": True})["is_syncing"] is True
    url = f"ecommerce/stores/{STORE}/orders"
    api("POST", url, json=order(financial_status="paid", fulfillment_status="shipped"))
    api("POST", f"ecommerce/stores/{STORE}/carts", json=cart())
    assert emu.notifications(api_key) == []
    mailchimp_client.stores.update(STORE, {"is_syncing": False})
    api("PATCH", f"{url}/o1", json={"financial_status": "refunded"})
    assert kinds(emu, api_key) == [("refund_confirmation", "o1")]


def test_store_created_syncing(mailchimp_account, mailchimp_client, api):
    emu, api_key, list_id = mailchimp_account
    body = {"id": "s2", "list_id": list_id, "name": "Shop", "currency_code": "EUR", "is_syncing": True}
    assert mailchimp_client.stores.create(body)["is_syncing"] is True
    mug = {"id": "p1", "title": "Mug", "variants": [{"id": "p1", "title": "Mug"}]}
    mailchimp_client.stores.products.create("s2", mug)
    customer = {"id": "c1", "email_address": "buyer@gmail.com", "opt_in_status": False}
    line = {"id": "l1", "product_id": "p1", "product_variant_id": "p1", "quantity": 1, "price": 5.0}
    body = {"id": "o1", "customer": customer, "currency_code": "EUR", "order_total": 5.0, "lines": [line]}
    assert api("POST", "ecommerce/stores/s2/orders", json=dict(body, financial_status="paid")).status_code == 200
    assert emu.notifications(api_key) == []


def test_carts_trigger_abandoned_cart_automations(store_with_a_customer, mailchimp_client, api, mailchimp_emulator):
    emu, api_key, _ = store_with_a_customer
    created = mailchimp_client.stores.carts.create(STORE, cart())
    assert created["lines"][0]["product_title"] == "Mug"
    assert created["customer"]["email_address"] == "buyer@gmail.com"
    template = "/ecommerce/stores/{storeId}/carts"
    assert mailchimp_emulator.check_response("POST", template, 200, created) == []
    mailchimp_client.stores.carts.update(STORE, "cart1", {"order_total": 15.0})
    line = {"id": "l2", "product_id": "p1", "product_variant_id": "p1", "quantity": 1, "price": 5.0}
    mailchimp_client.stores.carts.lines.create(STORE, "cart1", line)
    assert [item["id"] for item in mailchimp_client.stores.carts.lines.all(STORE, "cart1")["lines"]] == ["l1", "l2"]
    assert mailchimp_client.stores.carts.get(STORE, "cart1")["order_total"] == 15.0
    assert kinds(emu, api_key) == [("abandoned_cart", "cart1")] * 3
    assert emu.carts(api_key, STORE)[0]["checkout_url"] == "https://shop.fi/checkout"
    # Mailchimp deletes no line on its own (mailchimp/APIv3-examples#48): only the whole cart.
    assert api("DELETE", f"ecommerce/stores/{STORE}/carts/cart1/lines/l2").status_code == 400
    assert api("DELETE", f"ecommerce/stores/{STORE}/carts/cart1").status_code == 204
    assert api("GET", f"ecommerce/stores/{STORE}/carts/cart1").status_code == 404
    missing_product = cart("cart2", lines=[dict(line, product_id="nope")])
    assert api("POST", f"ecommerce/stores/{STORE}/carts", json=missing_product).status_code == 400


def test_rule_off_records_nothing(store_with_a_customer, api):
    emu, api_key, list_id = store_with_a_customer
    emu.set_rule(rules.NOTIFICATIONS, False, api_key=api_key, list_id=list_id)
    api("POST", f"ecommerce/stores/{STORE}/orders", json=order(financial_status="paid"))
    assert emu.notifications(api_key) == []


def test_notifications_and_confirmations_over_the_control_api(store_with_a_customer, api):
    emu, api_key, list_id = store_with_a_customer
    api("POST", f"ecommerce/stores/{STORE}/orders", json=order(financial_status="paid"))
    params = {"api_key": api_key, "store_id": STORE}
    listed = requests.get(f"{emu.root_url}/_emulator/notifications", params=params, timeout=5).json()
    assert [n["kind"] for n in listed] == ["order_invoice"]
    body = {"email_address": "new@gmail.com", "status": "pending"}
    api("POST", f"lists/{list_id}/members", json=body)
    params = {"api_key": api_key}
    confirmations = requests.get(f"{emu.root_url}/_emulator/confirmations", params=params, timeout=5).json()
    assert [c["email_address"] for c in confirmations] == ["new@gmail.com"]


def test_a_tag_added_starts_tag_automations_unless_the_request_is_syncing(store_with_a_customer, api):
    """Tags added to a subscribed member start "tag added" automations, recorded in ``tag_automations``, unless the
    request says ``is_syncing: true``; a tag the member already has, or a removal, starts none."""
    emu, api_key, list_id = store_with_a_customer
    api("POST", f"lists/{list_id}/members", json={"email_address": "tagged@gmail.com", "status": "subscribed"})
    path = f"lists/{list_id}/members/{hashlib.md5(b'tagged@gmail.com').hexdigest()}/tags"
    synced = {"tags": [{"name": "customer", "status": "active"}], "is_syncing": True}
    assert api("POST", path, json=synced).status_code == 204
    assert emu.tag_automations(api_key) == []
    assert api("POST", path, json={"tags": [{"name": "VIP", "status": "active"},
                                            {"name": "customer", "status": "active"}]}).status_code == 204
    assert [(a["email"], a["tag"]) for a in emu.tag_automations(api_key)] == [("tagged@gmail.com", "VIP")]
    assert api("POST", path, json={"tags": [{"name": "VIP", "status": "inactive"}]}).status_code == 204
    assert len(emu.tag_automations(api_key)) == 1
    listed = requests.get(f"{emu.root_url}/_emulator/tag-automations", params={"api_key": api_key}, timeout=5).json()
    assert [a["tag"] for a in listed] == ["VIP"]
