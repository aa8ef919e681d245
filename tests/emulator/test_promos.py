"""Promo rules and promo codes, with the rules Mailchimp enforces beyond the OpenAPI description."""

import pytest

from .conftest import STORE, promo_code_body, promo_rule_body

RULES = f"ecommerce/stores/{STORE}/promo-rules"


@pytest.fixture
def rule(store, api):
    response = api("POST", RULES, json=promo_rule_body())
    assert response.status_code == 200, response.text
    return response.json()


def test_rule_and_code_lifecycle(mailchimp_account, rule, api):
    emu, api_key, _ = mailchimp_account
    assert rule["enabled"] is True and rule["amount"] == 0.1
    created = api("POST", f"{RULES}/r1/promo-codes", json=promo_code_body())
    assert created.status_code == 200 and created.json()["usage_count"] == 0
    assert api("PATCH", f"{RULES}/r1", json={"enabled": False}).json()["enabled"] is False
    assert api("PATCH", f"{RULES}/r1/promo-codes/c1", json={"usage_count": 3}).json()["usage_count"] == 3
    [stored] = emu.promo_rules(api_key, STORE)
    assert stored["enabled"] is False
    assert [(code["code"], code["usage_count"]) for code in stored["promo_codes"]] == [("SAVE10", 3)]
    assert api("DELETE", f"{RULES}/r1/promo-codes/c1").status_code == 204
    assert api("GET", f"{RULES}/r1/promo-codes/c1").status_code == 404


def test_deleting_a_rule_deletes_its_codes(mailchimp_account, rule, api):
    emu, api_key, _ = mailchimp_account
    api("POST", f"{RULES}/r1/promo-codes", json=promo_code_body())
    assert api("DELETE", f"{RULES}/r1").status_code == 204
    assert emu.promo_rules(api_key, STORE) == []
    assert api("GET", f"{RULES}/r1/promo-codes/c1").status_code == 404
    # The code's text is free again.
    api("POST", RULES, json=promo_rule_body("r2"))
    assert api("POST", f"{RULES}/r2/promo-codes", json=promo_code_body()).status_code == 200


def test_rule_id_is_unique_in_the_store(rule, api):
    again = api("POST", RULES, json=promo_rule_body())
    assert again.status_code == 400
    assert again.json()["detail"] == f"A promo rule for store '{STORE}' with the id 'r1' already exists."


def test_code_text_is_unique_in_the_store(rule, api):
    api("POST", RULES, json=promo_rule_body("r2"))
    assert api("POST", f"{RULES}/r1/promo-codes", json=promo_code_body("c1", "SAVE10")).status_code == 200
    taken = api("POST", f"{RULES}/r2/promo-codes", json=promo_code_body("c2", "SAVE10"))
    assert taken.status_code == 400 and "already exists" in taken.json()["detail"]
    assert api("POST", f"{RULES}/r2/promo-codes", json=promo_code_body("c2", "OTHER")).status_code == 200
    renamed = api("PATCH", f"{RULES}/r2/promo-codes/c2", json={"code": "SAVE10"})
    assert renamed.status_code == 400
    assert api("PATCH", f"{RULES}/r1/promo-codes/c1", json={"code": "SAVE10", "usage_count": 1}).status_code == 200


@pytest.mark.parametrize("changes, field", [
    ({"type": "percentage", "amount": 10}, "amount"),
    ({"type": "fixed", "amount": -5}, "amount"),
    ({"starts_at": "2030-01-02T00:00:00+00:00", "ends_at": "2030-01-01T00:00:00+00:00"}, "ends_at"),
    ({"description": "x" * 256}, "description"),
    ({"title": "é" * 51}, "title"),  # 102 bytes
])
def test_mailchimp_refuses_what_the_spec_lets_through(store, api, changes, field):
    refused = api("POST", RULES, json=promo_rule_body(**changes))
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == field


def test_a_patch_is_checked_as_the_whole_rule(rule, api):
    assert api("PATCH", f"{RULES}/r1", json={"amount": 2}).status_code == 400
    assert api("PATCH", f"{RULES}/r1", json={"type": "fixed", "amount": 2}).status_code == 200


def test_required_fields_are_violations(mailchimp_emulator, store, api):
    missing = api("POST", RULES, json={"id": "r1", "amount": 1, "type": "fixed", "target": "total"})
    assert missing.status_code == 400
    assert mailchimp_emulator.violations, "the spec requires a description"
    mailchimp_emulator.clear_violations()


def test_codes_of_a_missing_rule_are_not_found(store, api):
    assert api("POST", f"{RULES}/nope/promo-codes", json=promo_code_body()).status_code == 404


@pytest.mark.parametrize("template", [
    "/ecommerce/stores/{storeId}/promo-rules",
    "/ecommerce/stores/{storeId}/promo-rules/{promoRuleId}",
    "/ecommerce/stores/{storeId}/promo-rules/{promoRuleId}/promo-codes",
    "/ecommerce/stores/{storeId}/promo-rules/{promoRuleId}/promo-codes/{promoCodeId}",
])
def test_get_responses_match_spec(mailchimp_emulator, rule, api, template):
    api("POST", f"{RULES}/r1/promo-codes", json=promo_code_body())
    response = api("GET", template.format(storeId=STORE, promoRuleId="r1", promoCodeId="c1").lstrip("/"))
    assert response.status_code == 200
    assert mailchimp_emulator.check_response("GET", template, 200, response.json()) == []
