"""Rules ``interest_limit``, ``batch_shuffle``, ``fake_emails`` and ``account_order_ids``; switching rules."""

import io
import json
import subprocess
import sys
import tarfile

import pytest
import requests

from shoop_mailchimp.testing.emulator import DEMO_API_KEY, Emulator, rules
from shoop_mailchimp.testing.emulator.addresses import looks_fake

from .conftest import control, md5, order
from .test_batches import member_op, wait_finished

# Switching ---------------------------------------------------------------------------------------


def test_every_rule_is_on_by_default(mailchimp_account):
    emu, api_key, list_id = mailchimp_account
    assert emu.rule_settings() == dict.fromkeys(rules.RULES, True)
    assert emu.rule_settings(api_key, list_id) == dict.fromkeys(rules.RULES, True)


def test_the_most_specific_switch_wins_and_reset_restores(mailchimp_account):
    emu, api_key, list_id = mailchimp_account
    other_list = emu.add_list(api_key, "Other")
    emu.set_rule(rules.FAKE_EMAILS, False, api_key=api_key)
    emu.set_rule(rules.FAKE_EMAILS, True, api_key=api_key, list_id=other_list)
    assert emu.rule_settings(api_key, list_id)[rules.FAKE_EMAILS] is False
    assert emu.rule_settings(api_key, other_list)[rules.FAKE_EMAILS] is True
    assert emu.rule_settings()[rules.FAKE_EMAILS] is True
    emu.set_rule(rules.BATCH_SHUFFLE, False)
    emu.reset()
    assert emu.rule_settings() == dict.fromkeys(rules.RULES, True)


def test_unknown_rule_is_refused(mailchimp_emulator):
    with pytest.raises(ValueError, match="Unknown emulator rule"):
        mailchimp_emulator.set_rule("kindness", False)
    response = requests.post(
        f"{mailchimp_emulator.root_url}/_emulator/rules", json={"rule": "kindness", "on": False}, timeout=5
    )
    assert response.status_code == 400


def test_rules_over_the_control_api(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    before = control(emu, "GET", "rules")
    assert before["rules"] == dict.fromkeys(rules.RULES, True)
    assert before["batch_seed"] == emu.batch_seed
    body = {"rule": "fake_emails", "on": False, "api_key": api_key, "list_id": list_id}
    assert control(emu, "POST", "rules", json=body)["rules"]["fake_emails"] is False
    assert (
        control(emu, "GET", "rules", params={"api_key": api_key, "list_id": list_id})["rules"]["fake_emails"] is False
    )
    assert control(emu, "GET", "rules", params={"api_key": api_key})["rules"]["fake_emails"] is True
    put = {"email_address": "test@example.com", "status_if_new": "subscribed"}
    assert api("PUT", f"lists/{list_id}/members/{md5('test@example.com')}", json=put).status_code == 200
    control(emu, "POST", "rules", json={"rule": "compliance_state", "on": False})
    assert emu.rule_settings()["compliance_state"] is False


def test_constructor_and_command_line_switch_rules_off():
    emu = Emulator(rules_off=[rules.FAKE_EMAILS], batch_seed=5)
    assert emu.rule_settings()[rules.FAKE_EMAILS] is False
    assert emu.batch_seed == 5
    with pytest.raises(ValueError):
        Emulator(rules_off=["kindness"])
    process = subprocess.Popen(
        [sys.executable, "-m", "shoop_mailchimp.testing.emulator", "--port", "0", "--lenient", "fake_emails"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        base_url = process.stdout.readline().split()[-1]
        root = base_url[: -len("/3.0/")]
        settings = requests.get(f"{root}/_emulator/rules", timeout=5).json()["rules"]
        assert settings["fake_emails"] is False and settings["compliance_state"] is True
        assert requests.get(f"{base_url}ping", auth=("x", DEMO_API_KEY), timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=5)


def test_rules_forced_on_from_the_environment(monkeypatch):
    from shoop_mailchimp.testing import pytest_plugin

    monkeypatch.setenv(pytest_plugin.RULES_ON_ENV, "compliance_state, fake_emails")
    assert pytest_plugin._forced_on() == {"compliance_state", "fake_emails"}
    monkeypatch.setenv(pytest_plugin.RULES_ON_ENV, "all")
    assert pytest_plugin._forced_on() == set(rules.RULES)
    monkeypatch.setenv(pytest_plugin.RULES_ON_ENV, "kindness")
    with pytest.raises(ValueError):
        pytest_plugin._forced_on()
    monkeypatch.delenv(pytest_plugin.RULES_ON_ENV)
    assert pytest_plugin._forced_on() == set()


# 60 interests ------------------------------------------------------------------------------------


def test_sixty_interests_per_audience_across_categories(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    first = api("POST", f"lists/{list_id}/interest-categories", json={"title": "A", "type": "hidden"}).json()
    second = api("POST", f"lists/{list_id}/interest-categories", json={"title": "B", "type": "hidden"}).json()
    for number in range(60):
        category = first if number < 30 else second
        url = f"lists/{list_id}/interest-categories/{category['id']}/interests"
        assert api("POST", url, json={"name": f"Group {number}"}).status_code == 200
    refused = api("POST", f"lists/{list_id}/interest-categories/{first['id']}/interests", json={"name": "61st"})
    assert refused.status_code == 400
    assert refused.json()["title"] == "Invalid Resource"
    assert refused.json()["detail"] == "Cannot have more than 60 interests per list (Across all categories)"
    other_list = emu.add_list(api_key, "Other")
    other = api("POST", f"lists/{other_list}/interest-categories", json={"title": "A", "type": "hidden"}).json()
    url = f"lists/{other_list}/interest-categories/{other['id']}/interests"
    assert api("POST", url, json={"name": "Fine"}).status_code == 200, "the limit is per audience"
    emu.set_rule(rules.INTEREST_LIMIT, False, api_key=api_key, list_id=list_id)
    lenient = api("POST", f"lists/{list_id}/interest-categories/{first['id']}/interests", json={"name": "61st"})
    assert lenient.status_code == 200


# Shuffled batches --------------------------------------------------------------------------------


def run_batch(mailchimp_client, operations):
    """``[(operation_id, status_code)]`` in the order the emulator ran them (its archive's order)."""
    batch = mailchimp_client.batch_operations.create({"operations": operations})
    url = wait_finished(mailchimp_client, batch["id"])["response_body_url"]
    with tarfile.open(fileobj=io.BytesIO(requests.get(url, timeout=10).content), mode="r:gz") as archive:
        files = sorted((m for m in archive.getmembers() if m.isfile()), key=lambda m: m.name)
        return [
            (item["operation_id"], item["status_code"]) for f in files for item in json.load(archive.extractfile(f))
        ]


def executed_order(mailchimp_client, operations):
    return [operation_id for operation_id, _ in run_batch(mailchimp_client, operations)]


def test_batch_operations_run_shuffled_and_the_seed_reproduces_the_order(mailchimp_account, mailchimp_client):
    emu, _, list_id = mailchimp_account
    emu.batch_delay = 0
    operations = [member_op(list_id, f"user{n}@gmail.com", f"op-{n:02}") for n in range(20)]
    sent = [op["operation_id"] for op in operations]
    emu.set_batch_seed(7)
    first = executed_order(mailchimp_client, operations)
    assert sorted(first) == sent and first != sent
    assert executed_order(mailchimp_client, operations) == first, "the order depends on the seed and the batch only"
    assert control(emu, "POST", "batch-seed", json={"seed": 7}) == {"batch_seed": 7}
    assert executed_order(mailchimp_client, operations) == first
    emu.set_batch_seed(8)
    assert executed_order(mailchimp_client, operations) != first
    emu.set_rule(rules.BATCH_SHUFFLE, False)
    assert executed_order(mailchimp_client, operations) == sent


def test_a_shuffled_batch_can_run_an_update_before_its_create(mailchimp_account, mailchimp_client):
    emu, _, list_id = mailchimp_account
    emu.batch_delay = 0
    for seed in range(20):
        emu.set_batch_seed(seed)
        email = f"late{seed}@gmail.com"
        create = member_op(list_id, email, "create")
        body = json.dumps({"merge_fields": {"FNAME": "Late"}})
        update = {
            "method": "PATCH",
            "path": f"/lists/{list_id}/members/{md5(email)}",
            "operation_id": "update",
            "body": body,
        }
        outcome = run_batch(mailchimp_client, [create, update])
        if outcome[0][0] == "update":
            assert outcome == [("update", 404), ("create", 200)]
            return
        assert outcome == [("create", 200), ("update", 200)]
    raise AssertionError("no seed out of 20 ran the update first")


def test_a_random_seed_is_chosen_and_shown(mailchimp_emulator):
    seed = mailchimp_emulator.set_batch_seed()
    assert isinstance(seed, int) and mailchimp_emulator.batch_seed == seed


# Fake-looking addresses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "fooboo@example.com",
        "ann@EXAMPLE.org",
        "ann@mail.example.net",
        "sample@email.tst",
        "xxx@trash-mail.com",
        "ann@mailinator.com",
        "ann@shop.test",
        "ann@shop-side.example",
        "test@gmail.com",
        "Test+1@gmail.com",
        "asdf@outlook.com",
        "qwerty@yahoo.com",
        "ann@test.com",
    ],
)
def test_fake_looking_addresses(email):
    assert looks_fake(email)


@pytest.mark.parametrize(
    "email",
    ["ann.smith@gmail.com", "user1@example.shuup.com", "tester@gmail.com", "ann@examples.com", "bob@kerluke.net"],
)
def test_real_looking_addresses(email):
    assert not looks_fake(email)


def test_fake_addresses_are_refused_where_they_enter(mailchimp_account, mailchimp_client, api):
    emu, api_key, list_id = mailchimp_account
    email = "fooboo@example.com"
    detail = "fooboo@example.com looks fake or invalid, please enter a real email address."
    refusals = [
        api(
            "PUT", f"lists/{list_id}/members/{md5(email)}", json={"email_address": email, "status_if_new": "subscribed"}
        ),
        api("POST", f"lists/{list_id}/members", json={"email_address": email, "status": "subscribed"}),
    ]
    put = {"email_address": "ann@gmail.com", "status_if_new": "subscribed"}
    api("PUT", f"lists/{list_id}/members/{md5('ann@gmail.com')}", json=put)
    refusals.append(api("PATCH", f"lists/{list_id}/members/{md5('ann@gmail.com')}", json={"email_address": email}))
    mailchimp_client.stores.create({"id": "s1", "list_id": list_id, "name": "Shop", "currency_code": "EUR"})
    customer = {"id": "c1", "email_address": email, "opt_in_status": False}
    refusals.append(api("PUT", "ecommerce/stores/s1/customers/c1", json=customer))
    for response in refusals:
        assert response.status_code == 400, response.text
        assert response.json()["title"] == "Invalid Resource"
        assert response.json()["detail"] == detail
    assert [m["email_address"] for m in emu.members(api_key, list_id)] == ["ann@gmail.com"]
    assert emu.customers(api_key, "s1") == []


def test_fake_addresses_rule_off(mailchimp_account, api):
    emu, api_key, list_id = mailchimp_account
    emu.set_rule(rules.FAKE_EMAILS, False, api_key=api_key)
    body = {"email_address": "fooboo@example.com", "status_if_new": "subscribed"}
    assert api("PUT", f"lists/{list_id}/members/{md5('fooboo@example.com')}", json=body).status_code == 200


# Order ids per account ---------------------------------------------------------------------------


@pytest.fixture
def two_stores(mailchimp_account, mailchimp_client):
    _, _, list_id = mailchimp_account
    for store_id in ("s1", "s2"):
        mailchimp_client.stores.create({"id": store_id, "list_id": list_id, "name": store_id, "currency_code": "EUR"})
        mailchimp_client.stores.products.create(
            store_id, {"id": "p1", "title": "Mug", "variants": [{"id": "p1", "title": "Mug"}]}
        )
        customer = {"id": "c1", "email_address": "buyer@gmail.com", "opt_in_status": False}
        mailchimp_client.stores.customers.create_or_update(store_id, "c1", customer)
    return mailchimp_account




def test_order_ids_are_unique_in_the_account(two_stores, api):
    emu, api_key, _ = two_stores
    assert api("POST", "ecommerce/stores/s1/orders", json=order()).status_code == 200
    for response in (
        api("POST", "ecommerce/stores/s2/orders", json=order()),
        api("PUT", "ecommerce/stores/s2/orders/o1", json=order()),
        api("POST", "ecommerce/stores/s1/orders", json=order()),
    ):
        assert response.status_code == 400
        assert response.json()["title"] == "Bad Request"
        assert response.json()["detail"] == (
            "We were unable to process the request. An order with the provided ID already exists in the account."
        )
    assert api("PATCH", "ecommerce/stores/s2/orders/o1", json={"financial_status": "paid"}).status_code == 404
    assert emu.orders(api_key, "s2") == []
    assert api("PUT", "ecommerce/stores/s1/orders/o1", json=order()).status_code == 200, "its own store updates it"


def test_order_ids_per_store_when_the_rule_is_off(two_stores, api):
    emu, api_key, _ = two_stores
    emu.set_rule(rules.ACCOUNT_ORDER_IDS, False, api_key=api_key)
    assert api("POST", "ecommerce/stores/s1/orders", json=order()).status_code == 200
    assert api("POST", "ecommerce/stores/s2/orders", json=order()).status_code == 200
    assert api("POST", "ecommerce/stores/s2/orders", json=order()).status_code == 400
