"""Stores, customers (and the members they create), products with variants, orders."""

import pytest
from mailchimp3.mailchimpclient import MailChimpError

from .conftest import STORE


@pytest.fixture
def product(store, mailchimp_client):
    return mailchimp_client.stores.products.create(
        STORE,
        {
            "id": "p1",
            "title": "Mug",
            "variants": [{"id": "p1", "title": "Mug", "price": 9.5}],
        },
    )


def customer(customer_id, email, opt_in, **extra):
    return dict({"id": customer_id, "email_address": email, "opt_in_status": opt_in}, **extra)


def order_body(order_id="o1", customer_body=None, total=19.0, product_id="p1", variant_id="p1"):
    return {
        "id": order_id,
        "customer": customer_body or {"id": "c1"},
        "currency_code": "EUR",
        "order_total": total,
        "lines": [
            {
                "id": "l1",
                "product_id": product_id,
                "product_variant_id": variant_id,
                "quantity": 2,
                "price": 9.5,
            }
        ],
    }


def test_store_create_get_patch_delete(mailchimp_account, store, mailchimp_client, api):
    emu, api_key, list_id = mailchimp_account
    assert store["id"] == STORE and store["list_id"] == list_id
    assert emu.get_store(api_key, STORE)["name"] == "Shop"
    assert mailchimp_client.stores.update(STORE, {"name": "Renamed"})["name"] == "Renamed"
    assert [s["id"] for s in mailchimp_client.stores.all()["stores"]] == [STORE]
    duplicate = api("POST", "ecommerce/stores", json=dict(store, name="Again"))
    assert duplicate.status_code == 400
    assert api("DELETE", f"ecommerce/stores/{STORE}").status_code == 204
    assert emu.stores(api_key) == []


def test_store_needs_existing_list(mailchimp_account, mailchimp_client):
    with pytest.raises(MailChimpError) as info:
        mailchimp_client.stores.create({"id": "s", "list_id": "0000000000", "name": "S", "currency_code": "EUR"})
    assert info.value.args[0]["status"] == 400
    assert info.value.args[0]["errors"][0]["field"] == "list_id"


def test_customer_upsert_adds_member(mailchimp_account, store, mailchimp_client):
    emu, api_key, list_id = mailchimp_account
    mailchimp_client.stores.customers.create_or_update(STORE, "c1", customer("c1", "yes@gmail.com", True))
    mailchimp_client.stores.customers.create_or_update(
        STORE, "c2", customer("c2", "no@gmail.com", False, first_name="Noa")
    )
    assert emu.get_member(api_key, list_id, "yes@gmail.com")["status"] == "subscribed"
    no = emu.get_member(api_key, list_id, "no@gmail.com")
    assert no["status"] == "transactional"
    assert no["merge_fields"] == {"FNAME": "Noa", "LNAME": "", "ADDRESS": "", "PHONE": "", "BIRTHDAY": ""}
    assert emu.get_customer(api_key, STORE, "c2")["first_name"] == "Noa"
    assert len(emu.customers(api_key, STORE)) == 2


def test_customer_never_overwrites_unsubscribed(mailchimp_account, store, mailchimp_client, api):
    emu, api_key, list_id = mailchimp_account
    mailchimp_client.stores.customers.create_or_update(STORE, "c1", customer("c1", "ann@gmail.com", True))
    emu.set_member_status(api_key, list_id, "ann@gmail.com", "unsubscribed")
    mailchimp_client.stores.customers.create_or_update(STORE, "c1", customer("c1", "ann@gmail.com", True))
    assert emu.get_member(api_key, list_id, "ann@gmail.com")["status"] == "unsubscribed"
    mailchimp_client.stores.customers.update(STORE, "c1", {"opt_in_status": False})
    assert emu.get_member(api_key, list_id, "ann@gmail.com")["status"] == "unsubscribed"


def test_customer_consent_lifts_transactional_only(mailchimp_account, store, mailchimp_client):
    emu, api_key, list_id = mailchimp_account
    mailchimp_client.stores.customers.create_or_update(STORE, "c1", customer("c1", "t@gmail.com", False))
    mailchimp_client.stores.customers.create_or_update(STORE, "c1", customer("c1", "t@gmail.com", False))
    assert emu.get_member(api_key, list_id, "t@gmail.com")["status"] == "transactional"
    mailchimp_client.stores.customers.create_or_update(STORE, "c1", customer("c1", "t@gmail.com", True))
    assert emu.get_member(api_key, list_id, "t@gmail.com")["status"] == "subscribed"
    mailchimp_client.stores.customers.create_or_update(STORE, "c1", customer("c1", "t@gmail.com", False))
    assert emu.get_member(api_key, list_id, "t@gmail.com")["status"] == "subscribed"


def test_customer_crud(store, mailchimp_client, api):
    mailchimp_client.stores.customers.create(STORE, customer("c1", "a@gmail.com", False))
    with pytest.raises(MailChimpError):
        mailchimp_client.stores.customers.create(STORE, customer("c1", "a@gmail.com", False))
    assert mailchimp_client.stores.customers.get(STORE, "c1")["email_address"] == "a@gmail.com"
    assert mailchimp_client.stores.customers.all(STORE)["total_items"] == 1
    assert api("DELETE", f"ecommerce/stores/{STORE}/customers/c1").status_code == 204
    assert api("GET", f"ecommerce/stores/{STORE}/customers/c1").status_code == 404
    assert api("GET", "ecommerce/stores/nope/customers/c1").status_code == 404


def test_products_and_variants(mailchimp_account, product, mailchimp_client, api):
    emu, api_key, _ = mailchimp_account
    assert product["variants"][0]["id"] == "p1"
    mailchimp_client.stores.products.variants.create_or_update(STORE, "p1", "p1-red", {"id": "p1-red", "title": "Red"})
    mailchimp_client.stores.products.variants.update(STORE, "p1", "p1-red", {"price": 11})
    assert mailchimp_client.stores.products.variants.get(STORE, "p1", "p1-red")["price"] == 11
    assert [v["id"] for v in emu.products(api_key, STORE)[0]["variants"]] == ["p1", "p1-red"]
    mailchimp_client.stores.products.update(STORE, "p1", {"title": "Big mug"})
    assert mailchimp_client.stores.products.get(STORE, "p1")["title"] == "Big mug"
    assert api("POST", f"ecommerce/stores/{STORE}/products", json=product).status_code == 400
    assert api("DELETE", f"ecommerce/stores/{STORE}/products/p1/variants/p1-red").status_code == 204
    assert mailchimp_client.stores.products.all(STORE)["total_items"] == 1
    assert api("DELETE", f"ecommerce/stores/{STORE}/products/p1").status_code == 204
    assert emu.products(api_key, STORE) == []


def test_product_without_variants_is_rejected(mailchimp_emulator, store, api):
    response = api("POST", f"ecommerce/stores/{STORE}/products", json={"id": "p2", "title": "Plate"})
    assert response.status_code == 400
    mailchimp_emulator.clear_violations()


def test_product_variants_are_required_and_unique(mailchimp_account, product, api):
    emu, api_key, _list_id = mailchimp_account
    products = f"ecommerce/stores/{STORE}/products"
    assert api("POST", products, json={"id": "p2", "title": "Plate", "variants": []}).status_code == 400
    twins = [{"id": "v", "title": "Blue"}, {"id": "v", "title": "Red"}]
    assert api("POST", products, json={"id": "p2", "title": "Plate", "variants": twins}).status_code == 400
    assert api("PATCH", f"{products}/p1", json={"variants": twins}).status_code == 400
    assert api("PATCH", f"{products}/p1", json={"variants": []}).status_code == 400
    assert [p["id"] for p in emu.products(api_key, STORE)] == ["p1"]
    # A product keeps at least one variant: the last one goes with the product.
    assert api("DELETE", f"{products}/p1/variants/p1").status_code == 400
    assert [v["id"] for v in emu.products(api_key, STORE)[0]["variants"]] == ["p1"]


def test_deleted_product_refuses_orders_naming_it(mailchimp_account, product, mailchimp_client, api):
    """Mailchimp deletes a product an order names; that order then cannot be written again."""
    emu, api_key, _list_id = mailchimp_account
    body = order_body(customer_body={"id": "c9", "email_address": "buyer@gmail.com", "opt_in_status": False})
    mailchimp_client.stores.orders.create(STORE, body)
    assert api("DELETE", f"ecommerce/stores/{STORE}/products/p1").status_code == 204
    assert emu.orders(api_key, STORE)[0]["lines"][0]["product_title"] == "Mug"
    update = api("PATCH", f"ecommerce/stores/{STORE}/orders/o1", json={"lines": body["lines"]})
    assert update.status_code == 400
    assert "does not exist" in update.json()["detail"]


def test_order_creates_customer_and_member(mailchimp_account, product, mailchimp_client, api):
    emu, api_key, list_id = mailchimp_account
    body = order_body(
        customer_body={"id": "c9", "email_address": "buyer@gmail.com", "opt_in_status": False}
    )
    order = mailchimp_client.stores.orders.create(STORE, body)
    assert order["lines"][0]["product_title"] == "Mug"
    assert emu.get_customer(api_key, STORE, "c9")["orders_count"] == 1
    assert emu.get_customer(api_key, STORE, "c9")["total_spent"] == 19.0
    assert emu.get_member(api_key, list_id, "buyer@gmail.com")["status"] == "transactional"
    assert [o["id"] for o in emu.orders(api_key, STORE)] == ["o1"]
    assert api("POST", f"ecommerce/stores/{STORE}/orders", json=body).status_code == 400
    assert (
        mailchimp_client.stores.orders.update(STORE, "o1", {"financial_status": "paid"})["financial_status"] == "paid"
    )
    assert mailchimp_client.stores.orders.get(STORE, "o1")["customer"]["id"] == "c9"
    assert api("DELETE", f"ecommerce/stores/{STORE}/orders/o1").status_code == 204
    assert emu.get_customer(api_key, STORE, "c9")["orders_count"] == 0


def test_order_for_unknown_customer_needs_email(product, api):
    response = api("POST", f"ecommerce/stores/{STORE}/orders", json=order_body(customer_body={"id": "ghost"}))
    assert response.status_code == 400
    assert "email_address" in response.json()["detail"]


def test_order_with_unknown_product_or_variant(product, mailchimp_client, api):
    mailchimp_client.stores.customers.create_or_update(STORE, "c1", customer("c1", "a@gmail.com", False))
    response = api("POST", f"ecommerce/stores/{STORE}/orders", json=order_body(product_id="missing"))
    assert response.status_code == 400
    assert response.json()["title"] == "Invalid Resource"
    assert "missing" in response.json()["detail"]
    response = api("POST", f"ecommerce/stores/{STORE}/orders", json=order_body(variant_id="nope"))
    assert response.status_code == 400 and "nope" in response.json()["detail"]


def test_order_total_as_string_is_a_violation(mailchimp_account, product, mailchimp_client):
    emu, api_key, _ = mailchimp_account
    mailchimp_client.stores.customers.create_or_update(STORE, "c1", customer("c1", "a@gmail.com", False))
    with pytest.raises(MailChimpError) as info:
        mailchimp_client.stores.orders.create(STORE, order_body(total="12"))
    assert info.value.args[0]["status"] == 400
    assert "'12' is not of type 'number'" in info.value.args[0]["detail"]
    assert len(emu.violations) == 1
    assert emu.violations[0]["path"] == f"/ecommerce/stores/{STORE}/orders"
    assert emu.orders(api_key, STORE) == []
    emu.clear_violations()


@pytest.mark.parametrize("change, field", [
    ({"lines": []}, "lines"),
    ({"lines": [dict(order_body()["lines"][0]), dict(order_body()["lines"][0])]}, "lines.id"),
    ({"order_total": -1}, "order_total"),
    ({"discount_total": -0.5}, "discount_total"),
    ({"lines": [dict(order_body()["lines"][0], price=-9.5)]}, "lines.price"),
    ({"lines": [dict(order_body()["lines"][0], quantity=-2)]}, "lines.quantity"),
])
def test_an_order_without_lines_with_a_line_twice_or_a_negative_amount_is_refused(mailchimp_account, product, api,
                                                                                   change, field):
    emu, api_key, _list_id = mailchimp_account
    body = dict(order_body(customer_body=customer("c1", "buyer@gmail.com", False)), **change)
    response = api("POST", f"ecommerce/stores/{STORE}/orders", json=body)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == field
    assert emu.orders(api_key, STORE) == [], "nothing kept"


def test_a_refund_lowers_and_a_cancellation_removes_what_the_customer_spent(mailchimp_account, product, api):
    emu, api_key, _list_id = mailchimp_account
    url = f"ecommerce/stores/{STORE}/orders"
    api("POST", url, json=order_body("o1", customer("c1", "buyer@gmail.com", False), total=19.0))
    api("POST", url, json=order_body("o2", {"id": "c1"}, total=10.0))
    assert emu.get_customer(api_key, STORE, "c1")["total_spent"] == 29.0
    api("PATCH", f"{url}/o1", json={"order_total": 9.5, "financial_status": "partially_refunded"})
    assert emu.get_customer(api_key, STORE, "c1")["total_spent"] == 19.5
    api("PATCH", f"{url}/o2", json={"cancelled_at_foreign": "2026-01-02T10:00:00+00:00"})
    customer_now = emu.get_customer(api_key, STORE, "c1")
    assert customer_now["total_spent"] == 9.5 and customer_now["orders_count"] == 2


def test_a_store_created_with_a_domain_comes_with_its_connected_site(mailchimp_account, api, mailchimp_emulator):
    """As Mailchimp (mc-magento2#214; its WooCommerce plugin reads ``connected-sites/{store id}`` after creating the
    store): the store's ``connected_site`` names the site, whose id is the store's (review of issue 18: the
    emulator's store had none, so only the code's "create the site" path ever ran)."""
    _, _, list_id = mailchimp_account
    body = {"id": "shop-rev", "list_id": list_id, "name": "Shop", "currency_code": "EUR", "domain": "shop.example.com"}
    created = api("POST", "ecommerce/stores", json=body)
    assert created.status_code == 200, created.text
    store = created.json()
    assert store["connected_site"]["site_foreign_id"] == "shop-rev"
    assert mailchimp_emulator.check_response("POST", "/ecommerce/stores", 200, store) == []
    site = api("GET", "connected-sites/shop-rev").json()
    script = store["connected_site"]["site_script"]["url"]
    assert (site["domain"], site["site_script"]["url"]) == ("shop.example.com", script)
    assert api("GET", "ecommerce/stores/shop-rev").json()["connected_site"] == store["connected_site"]

    # Only one store per domain: another store of that domain is "not connected".
    other = api("POST", "ecommerce/stores", json=dict(body, id="shop-two")).json()
    assert "connected_site" not in other and api("GET", "connected-sites/shop-two").status_code == 404
    # A store without a domain has no site.
    bare = api("POST", "ecommerce/stores", json=dict(body, id="shop-bare", domain="")).json()
    assert "connected_site" not in bare


def test_the_store_site_rule_off_makes_no_site(mailchimp_account, api, mailchimp_emulator):
    from shoop_mailchimp.testing.emulator import rules

    emu, api_key, list_id = mailchimp_account
    emu.set_rule(rules.STORE_SITE, False, api_key=api_key)
    body = {"id": "shop-rev", "list_id": list_id, "name": "Shop", "currency_code": "EUR", "domain": "shop.example.com"}
    assert "connected_site" not in api("POST", "ecommerce/stores", json=body).json()
    assert emu.connected_sites(api_key) == []


def test_a_cart_line_cannot_be_deleted_on_its_own(store, api, mailchimp_emulator, mailchimp_account):
    """Mailchimp answers ``DELETE .../carts/{cart}/lines/{line}`` with 400 "In order to delete this line item,
    delete the parent resource." (mailchimp/APIv3-examples#48); the emulator deleted it (review of issue 18)."""
    from shoop_mailchimp.testing.emulator import rules

    assert api("POST", f"ecommerce/stores/{STORE}/products", json={
        "id": "p1", "title": "Mug", "variants": [{"id": "p1", "title": "Mug", "price": 5}]}).status_code == 200
    line = {"id": "l1", "product_id": "p1", "product_variant_id": "p1", "quantity": 1, "price": 5}
    created = api("POST", f"ecommerce/stores/{STORE}/carts", json={
        "id": "c1", "customer": {"id": "cu1", "email_address": "ann.cart@gmail.com", "opt_in_status": False},
        "currency_code": "EUR", "order_total": 10, "lines": [line, dict(line, id="l2")]})
    assert created.status_code == 200, created.text
    response = api("DELETE", f"ecommerce/stores/{STORE}/carts/c1/lines/l2")
    assert response.status_code == 400
    assert response.json()["detail"] == "In order to delete this line item, delete the parent resource."
    assert len(api("GET", f"ecommerce/stores/{STORE}/carts/c1").json()["lines"]) == 2
    emu, api_key, list_id = mailchimp_account
    emu.set_rule(rules.CART_LINE_DELETE, False, api_key=api_key)
    assert api("DELETE", f"ecommerce/stores/{STORE}/carts/c1/lines/l2").status_code == 204
