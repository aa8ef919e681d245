"""The emulator must refuse what Mailchimp refuses for products, orders and promo rules/codes."""
from tests.emulator.conftest import STORE, order, promo_code_body, promo_rule_body

PRODUCTS = f"ecommerce/stores/{STORE}/products"
ORDERS = f"ecommerce/stores/{STORE}/orders"
RULES = f"ecommerce/stores/{STORE}/promo-rules"


def product_body(pid="p1", **extra):
    return dict({"id": pid, "title": "Mug", "variants": [{"id": pid, "title": "Mug"}]}, **extra)


def test_a_variant_without_title_is_refused_on_create(store, api, mailchimp_emulator):
    """Mailchimp requires variants[].title on product create (OpenAPI: variants items required id, title)."""
    response = api("POST", PRODUCTS, json={"id": "p1", "title": "Mug", "variants": [{"id": "v1"}]})
    assert response.status_code == 400, response.text
    mailchimp_emulator.violations.clear()


def test_a_new_variant_added_by_patch_without_title_is_refused(store, api, mailchimp_emulator):
    """A PATCH that adds a variant Mailchimp does not have creates it: a title is needed as on create.
    An emulator that accepts it hides a shop sending untitled variants (stale-variant PATCH bodies)."""
    assert api("POST", PRODUCTS, json=product_body()).status_code == 200
    response = api("PATCH", f"{PRODUCTS}/p1", json={"variants": [{"id": "new", "visibility": "hidden"}]})
    violations = list(mailchimp_emulator.violations)
    mailchimp_emulator.violations.clear()
    assert response.status_code == 400, (response.text, violations)


def test_fractional_quantity_is_refused(store, api, mailchimp_emulator):
    """quantity is an integer in Mailchimp."""
    assert api("POST", PRODUCTS, json=product_body()).status_code == 200
    body = order()
    body["lines"][0]["quantity"] = 1.5
    assert api("POST", ORDERS, json=body).status_code == 400
    mailchimp_emulator.violations.clear()


def test_a_code_patched_to_a_text_another_rule_holds_is_refused(store, api):
    """Code texts are unique in a store: a PATCH must not make two codes share one."""
    api("POST", RULES, json=promo_rule_body("r1"))
    api("POST", RULES, json=promo_rule_body("r2"))
    assert api("POST", f"{RULES}/r1/promo-codes", json=promo_code_body("c1", "SAVE10")).status_code == 200
    assert api("POST", f"{RULES}/r2/promo-codes", json=promo_code_body("c2", "OTHER")).status_code == 200
    response = api("PATCH", f"{RULES}/r2/promo-codes/c2", json={"code": "SAVE10"})
    assert response.status_code == 400, response.text


def test_a_rule_patched_to_a_percentage_above_one_is_refused(store, api):
    api("POST", RULES, json=promo_rule_body("r1"))
    response = api("PATCH", f"{RULES}/r1", json={"amount": 5})
    assert response.status_code == 400, response.text


def test_a_rule_patched_to_end_before_it_starts_is_refused(store, api):
    api("POST", RULES, json=promo_rule_body("r1", starts_at="2026-06-01T00:00:00+00:00"))
    response = api("PATCH", f"{RULES}/r1", json={"ends_at": "2026-05-01T00:00:00+00:00"})
    assert response.status_code == 400, response.text
