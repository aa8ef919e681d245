"""What a disconnect deletes, as Mailchimp does it: a store goes with its customers, products, orders and carts
("Deleting a store will also delete any associated subresources"); the audience and its members stay. A deleted
webhook is no longer called. Every request is checked against the OpenAPI description (the plugin)."""
from .conftest import STORE, md5


def test_a_deleted_store_takes_its_subresources_and_leaves_the_audience(mailchimp_account, store, api):
    emu, api_key, list_id = mailchimp_account
    assert api("PUT", f"ecommerce/stores/{STORE}/customers/c1", json={
        "id": "c1", "email_address": "ann.smith@gmail.com", "opt_in_status": True}).status_code == 200
    assert api("PUT", f"lists/{list_id}/members/{md5('bob.jones@gmail.com')}", json={
        "email_address": "bob.jones@gmail.com", "status_if_new": "unsubscribed"}).status_code == 200
    assert api("POST", f"ecommerce/stores/{STORE}/products", json={
        "id": "p1", "title": "Mug", "variants": [{"id": "p1", "title": "Mug", "price": 9.5}]}).status_code == 200
    order = {"id": "o1", "customer": {"id": "c1"}, "currency_code": "EUR", "order_total": 9.5,
             "lines": [{"id": "l1", "product_id": "p1", "product_variant_id": "p1", "quantity": 1, "price": 9.5}]}
    assert api("POST", f"ecommerce/stores/{STORE}/orders", json=order).status_code == 200

    assert api("DELETE", f"ecommerce/stores/{STORE}").status_code == 204
    for path in ("", "/customers/c1", "/products/p1", "/orders/o1"):
        assert api("GET", f"ecommerce/stores/{STORE}{path}").status_code == 404, path
    assert api("DELETE", f"ecommerce/stores/{STORE}").status_code == 404, "already gone"
    members = {m["email_address"]: m["status"] for m in emu.members(api_key, list_id)}
    assert members == {"ann.smith@gmail.com": "subscribed", "bob.jones@gmail.com": "unsubscribed"}

    # Created again (a reconnect): empty, and the order id, unique in the account, is free again.
    assert api("POST", "ecommerce/stores", json={"id": STORE, "list_id": list_id, "name": "Shop",
                                                 "currency_code": "EUR"}).status_code == 200
    assert emu.customers(api_key, STORE) == [] and emu.orders(api_key, STORE) == []
    assert api("POST", f"ecommerce/stores/{STORE}/products", json={
        "id": "p1", "title": "Mug", "variants": [{"id": "p1", "title": "Mug", "price": 9.5}]}).status_code == 200
    again = dict(order, customer={"id": "c1", "email_address": "ann.smith@gmail.com", "opt_in_status": False})
    assert api("POST", f"ecommerce/stores/{STORE}/orders", json=again).status_code == 200
    assert emu.get_member(api_key, list_id, "ann.smith@gmail.com")["status"] == "subscribed"
    assert emu.get_member(api_key, list_id, "bob.jones@gmail.com")["status"] == "unsubscribed"


def test_a_deleted_webhook_is_no_longer_called(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    received = []
    hook = api("POST", f"lists/{list_id}/webhooks", json={"url": "http://127.0.0.1:9/hook"}).json()
    assert api("DELETE", f"lists/{list_id}/webhooks/{hook['id']}").status_code == 204
    assert api("DELETE", f"lists/{list_id}/webhooks/{hook['id']}").status_code == 404
    assert api("GET", f"lists/{list_id}/webhooks").json()["total_items"] == 0
    assert api("PUT", f"lists/{list_id}/members/{md5('ann.smith@gmail.com')}", json={
        "email_address": "ann.smith@gmail.com", "status_if_new": "subscribed"}).status_code == 200
    _member, deliveries = emu.fire_event(api_key, list_id, "unsubscribe", "ann.smith@gmail.com")
    assert deliveries == received == []
    assert emu.get_member(api_key, list_id, "ann.smith@gmail.com")["status"] == "unsubscribed"


# Held under review (a probe of independent review aud): tagging a member the audience lacks is a 404, as Mailchimp
# answers.
def test_tags_of_a_member_the_audience_lacks_are_a_404(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    response = api("POST", f"lists/{list_id}/members/{md5('nobody@fastmail.com')}/tags",
                   json={"tags": [{"name": "x", "status": "active"}]})
    assert response.status_code == 404, response.text


# Held under review (a probe of independent review aud): a webhook deleted twice is gone after the first delete; the
# second is a 404.
def test_a_deleted_webhook_is_gone_and_a_second_delete_is_a_404(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    created = api("POST", f"lists/{list_id}/webhooks", json={
        "url": "https://shop.example.com/hook/", "events": {"unsubscribe": True}, "sources": {"user": True}})
    assert created.status_code == 200, created.text
    hook_id = created.json()["id"]
    assert api("DELETE", f"lists/{list_id}/webhooks/{hook_id}").status_code == 204
    assert api("DELETE", f"lists/{list_id}/webhooks/{hook_id}").status_code == 404
