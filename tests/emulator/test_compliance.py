"""Rule ``compliance_state``: unsubscribed or cleaned members are not subscribed again by the API.

And rule ``customer_opt_in``: an e-commerce customer's ``opt_in_status`` subscribes its member only
when it turns from false to true.
"""

import pytest

from shoop_mailchimp.testing.emulator import rules

from .conftest import EMAIL, STORE, md5, put_member
from .test_batches import results_by_operation, wait_finished

DETAIL = (
    "ann.smith@gmail.com is in a compliance state due to unsubscribe, bounce, or compliance review "
    "and cannot be subscribed."
)


def assert_compliance_refusal(response):
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["title"] == "Member In Compliance State"
    assert problem["detail"] == DETAIL
    assert problem["status"] == 400
    assert response.headers["Content-Type"] == "application/problem+json"


@pytest.fixture
def unsubscribed(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    assert put_member(api, list_id).status_code == 200
    emu.set_member_status(api_key, list_id, EMAIL, "unsubscribed")
    return emu, api_key, list_id


@pytest.mark.parametrize("status", ["unsubscribed", "cleaned"])
def test_put_and_patch_cannot_subscribe_again(mailchimp_account, api, status):
    emu, api_key, list_id = mailchimp_account
    put_member(api, list_id)
    emu.set_member_status(api_key, list_id, EMAIL, status)
    assert_compliance_refusal(put_member(api, list_id, status="subscribed", merge_fields={"FNAME": "Ann"}))
    patch = api("PATCH", f"lists/{list_id}/members/{md5(EMAIL)}", json={"status": "subscribed"})
    assert_compliance_refusal(patch)
    member = emu.get_member(api_key, list_id, EMAIL)
    assert member["status"] == status
    assert member["merge_fields"]["FNAME"] == "", "a refused write changes nothing"


def test_other_writes_still_pass(unsubscribed, api):
    emu, api_key, list_id = unsubscribed
    renamed = put_member(api, list_id, merge_fields={"FNAME": "Ann"})
    assert renamed.status_code == 200 and renamed.json()["status"] == "unsubscribed"
    again = put_member(api, list_id, status="unsubscribed")
    assert again.status_code == 200
    assert emu.confirmations(api_key) == []


def test_pending_is_the_way_back_and_mails_a_confirmation(unsubscribed, api):
    emu, api_key, list_id = unsubscribed
    response = put_member(api, list_id, status="pending")
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    [confirmation] = emu.confirmations(api_key)
    assert confirmation["email_address"] == EMAIL
    assert confirmation["list_id"] == list_id
    assert confirmation["member_id"] == md5(EMAIL)
    assert emu.confirmations(api_key, list_id="other") == []


def test_new_pending_members_get_a_confirmation_too(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    put_member(api, list_id, status_if_new="pending")
    posted = api("POST", f"lists/{list_id}/members", json={"email_address": "bo@gmail.com", "status": "pending"})
    assert posted.status_code == 200
    assert [c["email_address"] for c in emu.confirmations(api_key)] == [EMAIL, "bo@gmail.com"]


def test_archiving_does_not_clear_the_compliance_state(unsubscribed, api):
    emu, api_key, list_id = unsubscribed
    assert api("DELETE", f"lists/{list_id}/members/{md5(EMAIL)}").status_code == 204
    assert_compliance_refusal(put_member(api, list_id, status="subscribed"))
    posted = api("POST", f"lists/{list_id}/members", json={"email_address": EMAIL, "status": "subscribed"})
    assert_compliance_refusal(posted)
    assert emu.get_member(api_key, list_id, EMAIL)["status"] == "archived"


def test_archived_subscriber_comes_back_only_with_a_status(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    put_member(api, list_id, merge_fields={"FNAME": "Ann"})
    assert api("DELETE", f"lists/{list_id}/members/{md5(EMAIL)}").status_code == 204
    assert api("GET", f"lists/{list_id}/members/{md5(EMAIL)}").json()["status"] == "archived"
    # status_if_new is for an address the audience lacks: the archived member stays archived, unedited.
    kept = put_member(api, list_id, merge_fields={"FNAME": "Bea"})
    assert kept.status_code == 200 and kept.json()["status"] == "archived"
    assert emu.get_member(api_key, list_id, EMAIL)["merge_fields"]["FNAME"] == "Ann"
    assert put_member(api, list_id, status="subscribed").json()["status"] == "subscribed"


def test_an_unsubscribe_reaches_an_archived_member(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    put_member(api, list_id)
    api("DELETE", f"lists/{list_id}/members/{md5(EMAIL)}")
    assert put_member(api, list_id, status="unsubscribed").json()["status"] == "unsubscribed"


def test_inside_a_batch(unsubscribed, mailchimp_client):
    emu, _, list_id = unsubscribed
    emu.batch_delay = 0
    body = '{"email_address": "%s", "status_if_new": "subscribed", "status": "subscribed"}' % EMAIL
    operation = {"method": "PUT", "path": f"/lists/{list_id}/members/{md5(EMAIL)}", "operation_id": "o", "body": body}
    batch = mailchimp_client.batch_operations.create({"operations": [operation]})
    results = results_by_operation(wait_finished(mailchimp_client, batch["id"])["response_body_url"])
    assert results["o"]["status_code"] == 400
    assert '"Member In Compliance State"' in results["o"]["response"]


def test_rule_off_is_lenient(unsubscribed, api):
    emu, api_key, list_id = unsubscribed
    emu.set_rule(rules.COMPLIANCE_STATE, False)
    assert put_member(api, list_id, status="subscribed").json()["status"] == "subscribed"


def test_rule_switched_per_audience_and_per_account(unsubscribed, api):
    emu, api_key, list_id = unsubscribed
    emu.set_rule(rules.COMPLIANCE_STATE, False, api_key=api_key)
    emu.set_rule(rules.COMPLIANCE_STATE, True, api_key=api_key, list_id=list_id)
    assert_compliance_refusal(put_member(api, list_id, status="subscribed"))
    emu.set_rule(rules.COMPLIANCE_STATE, None, api_key=api_key, list_id=list_id)
    assert put_member(api, list_id, status="subscribed").status_code == 200


# E-commerce customers ----------------------------------------------------------------------------



def put_customer(api, opt_in, email=EMAIL, customer_id="c1"):
    body = {"id": customer_id, "email_address": email, "opt_in_status": opt_in}
    return api("PUT", f"ecommerce/stores/{STORE}/customers/{customer_id}", json=body)


def test_customer_opt_in_false_to_true_cannot_subscribe_a_compliance_member(mailchimp_account, store, api):
    emu, api_key, list_id = mailchimp_account
    assert put_customer(api, False).status_code == 200
    emu.set_member_status(api_key, list_id, EMAIL, "unsubscribed")
    assert_compliance_refusal(put_customer(api, True))
    assert emu.get_customer(api_key, STORE, "c1")["opt_in_status"] is False, "a refused write changes nothing"
    emu.set_rule(rules.COMPLIANCE_STATE, False)
    assert put_customer(api, True).status_code == 200
    assert emu.get_member(api_key, list_id, EMAIL)["status"] == "subscribed"


def test_customer_opt_in_that_does_not_change_never_touches_the_member(mailchimp_account, store, api):
    emu, api_key, list_id = mailchimp_account
    put_customer(api, True)
    emu.set_member_status(api_key, list_id, EMAIL, "unsubscribed")
    assert put_customer(api, True).status_code == 200
    assert emu.get_member(api_key, list_id, EMAIL)["status"] == "unsubscribed"


def test_order_carrying_opt_in_for_a_compliance_member(mailchimp_account, store, mailchimp_client, api):
    emu, api_key, list_id = mailchimp_account
    mug = {"id": "p1", "title": "Mug", "variants": [{"id": "p1", "title": "Mug"}]}
    mailchimp_client.stores.products.create(STORE, mug)
    put_customer(api, False)
    emu.set_member_status(api_key, list_id, EMAIL, "cleaned")
    order = {
        "id": "o1",
        "customer": {"id": "c1", "opt_in_status": True},
        "currency_code": "EUR",
        "order_total": 5.0,
        "lines": [{"id": "l1", "product_id": "p1", "product_variant_id": "p1", "quantity": 1, "price": 5.0}],
    }
    response = api("POST", f"ecommerce/stores/{STORE}/orders", json=order)
    assert_compliance_refusal(response)
    assert emu.orders(api_key, STORE) == []


def test_new_customer_never_changes_an_existing_member(mailchimp_account, store, api):
    emu, api_key, list_id = mailchimp_account
    put_member(api, list_id, status_if_new="transactional")
    assert put_customer(api, True).status_code == 200
    assert emu.get_member(api_key, list_id, EMAIL)["status"] == "transactional"
    assert put_customer(api, False, customer_id="c2").status_code == 200
    assert put_customer(api, True, customer_id="c2").status_code == 200, "false → true on an existing customer"
    assert emu.get_member(api_key, list_id, EMAIL)["status"] == "subscribed"


def test_customer_opt_in_rule_off_lifts_any_transactional_member(mailchimp_account, store, api):
    emu, api_key, list_id = mailchimp_account
    emu.set_rule(rules.CUSTOMER_OPT_IN, False, api_key=api_key, list_id=list_id)
    put_member(api, list_id, status_if_new="transactional")
    assert put_customer(api, True).status_code == 200
    assert emu.get_member(api_key, list_id, EMAIL)["status"] == "subscribed"


def test_customer_opt_in_true_to_false_keeps_the_member_subscribed(mailchimp_account, store, api):
    emu, api_key, list_id = mailchimp_account
    put_customer(api, True)
    put_customer(api, False)
    assert emu.get_member(api_key, list_id, EMAIL)["status"] == "subscribed"
