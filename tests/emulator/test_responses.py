"""The emulator's answers match the spec's documented 200 (and error) response schemas."""

import json

import pytest

from .conftest import md5
from .test_batches import wait_finished


@pytest.fixture
def populated(mailchimp_account, mailchimp_client, api):
    """One of each main resource, created through the API."""
    emu, api_key, list_id = mailchimp_account
    emu.batch_delay = 0
    email = "ann@gmail.com"
    category = mailchimp_client.lists.interest_categories.create(list_id, {"title": "Groups", "type": "hidden"})
    interest = mailchimp_client.lists.interest_categories.interests.create(list_id, category["id"], {"name": "VIP"})
    mailchimp_client.lists.members.create_or_update(
        list_id,
        md5(email),
        {
            "email_address": email,
            "status_if_new": "subscribed",
            "merge_fields": {"FNAME": "Ann"},
            "interests": {interest["id"]: True},
        },
    )
    api(
        "POST",
        f"lists/{list_id}/members/{md5(email)}/tags",
        json={"tags": [{"name": "VIP", "status": "active"}]},
    )
    hook = api("POST", f"lists/{list_id}/webhooks", json={"url": "http://127.0.0.1:9/h"}).json()
    mailchimp_client.stores.create({"id": "s1", "list_id": list_id, "name": "Shop", "currency_code": "EUR"})
    mailchimp_client.stores.customers.create_or_update(
        "s1", "c1", {"id": "c1", "email_address": email, "opt_in_status": True, "first_name": "Ann"}
    )
    mailchimp_client.stores.products.create(
        "s1", {"id": "p1", "title": "Mug", "variants": [{"id": "v1", "title": "Mug"}]}
    )
    mailchimp_client.stores.orders.create(
        "s1",
        {
            "id": "o1",
            "customer": {"id": "c1"},
            "currency_code": "EUR",
            "order_total": 9.5,
            "lines": [
                {"id": "l1", "product_id": "p1", "product_variant_id": "v1", "quantity": 1, "price": 9.5}
            ],
        },
    )
    line = {"id": "l1", "product_id": "p1", "product_variant_id": "v1", "quantity": 1, "price": 9.5}
    mailchimp_client.stores.carts.create(
        "s1", {"id": "cart1", "customer": {"id": "c1"}, "currency_code": "EUR", "order_total": 9.5, "lines": [line]}
    )
    batch = mailchimp_client.batch_operations.create(
        {"operations": [{"method": "GET", "path": "/ping", "operation_id": "ping"}]}
    )
    wait_finished(mailchimp_client, batch["id"])
    return {
        "listId": list_id,
        "subscriberHash": md5(email),
        "interestCategoryId": category["id"],
        "interestId": interest["id"],
        "webhookId": hook["id"],
        "storeId": "s1",
        "customerId": "c1",
        "productId": "p1",
        "variantId": "v1",
        "orderId": "o1",
        "batchId": batch["id"],
        "mergeId": 1,
        "cartId": "cart1",
        "lineId": "l1",
    }


GET_TEMPLATES = [
    "/ping",
    "/lists",
    "/lists/{listId}",
    "/lists/{listId}/members",
    "/lists/{listId}/members/{subscriberHash}",
    "/lists/{listId}/members/{subscriberHash}/tags",
    "/lists/{listId}/interest-categories",
    "/lists/{listId}/interest-categories/{interestCategoryId}",
    "/lists/{listId}/interest-categories/{interestCategoryId}/interests",
    "/lists/{listId}/interest-categories/{interestCategoryId}/interests/{interestId}",
    "/lists/{listId}/webhooks",
    "/lists/{listId}/webhooks/{webhookId}",
    "/lists/{listId}/merge-fields",
    "/lists/{listId}/merge-fields/{mergeId}",
    "/ecommerce/stores",
    "/ecommerce/stores/{storeId}",
    "/ecommerce/stores/{storeId}/customers",
    "/ecommerce/stores/{storeId}/customers/{customerId}",
    "/ecommerce/stores/{storeId}/products",
    "/ecommerce/stores/{storeId}/products/{productId}",
    "/ecommerce/stores/{storeId}/products/{productId}/variants",
    "/ecommerce/stores/{storeId}/products/{productId}/variants/{variantId}",
    "/ecommerce/stores/{storeId}/orders",
    "/ecommerce/stores/{storeId}/orders/{orderId}",
    "/ecommerce/stores/{storeId}/carts",
    "/ecommerce/stores/{storeId}/carts/{cartId}",
    "/ecommerce/stores/{storeId}/carts/{cartId}/lines",
    "/ecommerce/stores/{storeId}/carts/{cartId}/lines/{lineId}",
    "/batches",
    "/batches/{batchId}",
]


@pytest.mark.parametrize("template", GET_TEMPLATES)
def test_get_responses_match_spec(mailchimp_emulator, populated, api, template):
    response = api("GET", template.format(**populated).lstrip("/"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert mailchimp_emulator.check_response("GET", template, 200, response.json()) == []


def test_problem_documents_match_spec(mailchimp_emulator, populated, api):
    response = api("GET", "lists/0000000000")
    assert response.status_code == 404
    assert mailchimp_emulator.check_response("GET", "/lists/{listId}", 404, response.json()) == []


def test_check_response_reports_mismatches(mailchimp_emulator):
    errors = mailchimp_emulator.check_response(
        "GET", "/lists/{listId}", 200, {"stats": {"member_count": "x"}}
    )
    assert errors and "member_count" in json.dumps(errors)


WRITES = [
    (
        "PUT",
        "/lists/{listId}/members/{subscriberHash}",
        {"email_address": "bob@gmail.com", "status_if_new": "transactional"},
    ),
    ("PATCH", "/lists/{listId}/members/{subscriberHash}", {"merge_fields": {"LNAME": "Smith"}}),
    ("POST", "/lists/{listId}/interest-categories/{interestCategoryId}/interests", {"name": "Retail"}),
    (
        "PATCH",
        "/lists/{listId}/interest-categories/{interestCategoryId}",
        {"title": "Groups 2", "type": "hidden"},
    ),
    ("PATCH", "/ecommerce/stores/{storeId}", {"name": "Shop 2"}),
    (
        "PUT",
        "/ecommerce/stores/{storeId}/customers/{customerId}",
        {"id": "c1", "email_address": "ann@gmail.com", "opt_in_status": False},
    ),
    ("PATCH", "/ecommerce/stores/{storeId}/products/{productId}", {"title": "Cup"}),
    (
        "PUT",
        "/ecommerce/stores/{storeId}/products/{productId}/variants/{variantId}",
        {"id": "v1", "title": "Cup"},
    ),
    ("PATCH", "/ecommerce/stores/{storeId}/orders/{orderId}", {"financial_status": "paid"}),
    ("POST", "/lists/{listId}/merge-fields", {"name": "Company", "type": "text", "tag": "COMPANY"}),
    ("PATCH", "/lists/{listId}/merge-fields/{mergeId}", {"name": "Given name", "required": True}),
    ("PATCH", "/ecommerce/stores/{storeId}/carts/{cartId}", {"order_total": 19.0}),
    (
        "POST",
        "/ecommerce/stores/{storeId}/carts/{cartId}/lines",
        {"id": "l2", "product_id": "p1", "product_variant_id": "v1", "quantity": 1, "price": 9.5},
    ),
    ("PATCH", "/ecommerce/stores/{storeId}/carts/{cartId}/lines/{lineId}", {"quantity": 3}),
    ("POST", "/batches", {"operations": []}),
]


@pytest.mark.parametrize("method,template,body", WRITES, ids=[f"{m} {t}" for m, t, _ in WRITES])
def test_write_responses_match_spec(mailchimp_emulator, populated, api, method, template, body):
    values = dict(populated)
    if method == "PUT" and "subscriberHash" in template:
        values["subscriberHash"] = md5(body["email_address"])
    response = api(method, template.format(**values).lstrip("/"), json=body)
    assert response.status_code == 200, response.text
    assert mailchimp_emulator.check_response(method, template, 200, response.json()) == []
