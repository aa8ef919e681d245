"""E-commerce promo rules and their promo codes: what Mailchimp's promo code content blocks show.

Mailchimp's rules beyond the OpenAPI description: a rule id and a code id are unique in their store, and
so is a code's text; a percentage is a fraction between 0 and 1; a promotion ends after it starts; text
fields have maximum lengths; deleting a rule deletes its codes.
"""

import copy
from datetime import datetime

from ..errors import invalid, not_found, require
from ..state import now_iso
from .registry import handles, merge, page

#: Mailchimp's maximum lengths (the title's is in bytes).
MAX_LENGTHS = {"id": 50, "title": 100, "description": 255, "code": 50, "redemption_url": 2000}
RULE_TYPES = ("fixed", "percentage")
RULE_TARGETS = ("per_item", "total", "shipping")


def _too_long(body, *names):
    for name in names:
        value = body.get(name)
        if isinstance(value, str) and len(value.encode("utf-8")) > MAX_LENGTHS[name]:
            raise invalid(
                "The resource submitted could not be validated.",
                errors=[{"field": name, "message": f"This value is too long ({MAX_LENGTHS[name]} at most)."}],
            )


def _moment(rule, name):
    value = rule.get(name)
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(
            "The resource submitted could not be validated.",
            errors=[{"field": name, "message": "This value is not a valid ISO 8601 date and time."}],
        )


def _check_rule(rule):
    """The whole rule as it would be after the write: what Mailchimp refuses that the spec lets through."""
    _too_long(rule, "id", "title", "description")
    if rule["type"] == "percentage" and not 0 <= rule["amount"] <= 1:
        raise invalid(
            "The resource submitted could not be validated.",
            errors=[{"field": "amount", "message": "A percentage amount must be between 0.0 and 1.0."}],
        )
    if rule["amount"] < 0:
        raise invalid(
            "The resource submitted could not be validated.",
            errors=[{"field": "amount", "message": "The amount cannot be negative."}],
        )
    starts, ends = _moment(rule, "starts_at"), _moment(rule, "ends_at")
    if starts and ends and ends <= starts:
        raise invalid(
            "The resource submitted could not be validated.",
            errors=[{"field": "ends_at", "message": "The end time must be after the start time."}],
        )


def _rule(ctx, store):
    rule = store.promo_rules.get(ctx.params["promoRuleId"])
    if rule is None:
        raise not_found()
    return rule


def _code(ctx, store, rule):
    code = store.promo_codes[rule["id"]].get(ctx.params["promoCodeId"])
    if code is None:
        raise not_found()
    return code


def _check_code(store, code, rule_id):
    _too_long(code, "id", "code", "redemption_url")
    for other_rule_id, codes in store.promo_codes.items():
        for other in codes.values():
            if (other_rule_id, other["id"]) == (rule_id, code["id"]):
                continue
            if other["code"] == code["code"]:
                raise invalid(f"A promo code with the code '{code['code']}' already exists in this store.")


@handles("GET", "/ecommerce/stores/{storeId}/promo-rules")
def list_promo_rules(ctx):
    return page(ctx.store().promo_rules.values(), ctx.query, "promo_rules", store_id=ctx.params["storeId"])


@handles("POST", "/ecommerce/stores/{storeId}/promo-rules")
def create_promo_rule(ctx):
    store = ctx.store()
    require(ctx.body, "id", "description", "amount", "type", "target")
    if ctx.body["id"] in store.promo_rules:
        raise invalid(f"A promo rule for store '{store.id}' with the id '{ctx.body['id']}' already exists.")
    stamp = now_iso()
    rule = {"title": "", "enabled": True, "created_at_foreign": stamp, "updated_at_foreign": stamp}
    merge(rule, ctx.body)
    _check_rule(rule)
    store.promo_rules[rule["id"]] = rule
    store.promo_codes[rule["id"]] = {}
    return copy.deepcopy(rule)


@handles("GET", "/ecommerce/stores/{storeId}/promo-rules/{promoRuleId}")
def get_promo_rule(ctx):
    return copy.deepcopy(_rule(ctx, ctx.store()))


@handles("PATCH", "/ecommerce/stores/{storeId}/promo-rules/{promoRuleId}")
def patch_promo_rule(ctx):
    store = ctx.store()
    rule = copy.deepcopy(_rule(ctx, store))
    merge(rule, ctx.body, exclude=("id",))
    if "updated_at_foreign" not in ctx.body:
        rule["updated_at_foreign"] = now_iso()
    _check_rule(rule)
    store.promo_rules[rule["id"]] = rule
    return copy.deepcopy(rule)


@handles("DELETE", "/ecommerce/stores/{storeId}/promo-rules/{promoRuleId}")
def delete_promo_rule(ctx):
    store = ctx.store()
    rule = _rule(ctx, store)
    del store.promo_rules[rule["id"]]
    del store.promo_codes[rule["id"]]  # a rule's codes go with it
    return 204, None


@handles("GET", "/ecommerce/stores/{storeId}/promo-rules/{promoRuleId}/promo-codes")
def list_promo_codes(ctx):
    store = ctx.store()
    rule = _rule(ctx, store)
    return page(store.promo_codes[rule["id"]].values(), ctx.query, "promo_codes", store_id=store.id)


@handles("POST", "/ecommerce/stores/{storeId}/promo-rules/{promoRuleId}/promo-codes")
def create_promo_code(ctx):
    store = ctx.store()
    rule = _rule(ctx, store)
    require(ctx.body, "id", "code", "redemption_url")
    if any(ctx.body["id"] in codes for codes in store.promo_codes.values()):
        raise invalid(f"A promo code for store '{store.id}' with the id '{ctx.body['id']}' already exists.")
    stamp = now_iso()
    code = {"usage_count": 0, "enabled": True, "created_at_foreign": stamp, "updated_at_foreign": stamp}
    merge(code, ctx.body)
    _check_code(store, code, rule["id"])
    store.promo_codes[rule["id"]][code["id"]] = code
    return copy.deepcopy(code)


@handles("GET", "/ecommerce/stores/{storeId}/promo-rules/{promoRuleId}/promo-codes/{promoCodeId}")
def get_promo_code(ctx):
    store = ctx.store()
    return copy.deepcopy(_code(ctx, store, _rule(ctx, store)))


@handles("PATCH", "/ecommerce/stores/{storeId}/promo-rules/{promoRuleId}/promo-codes/{promoCodeId}")
def patch_promo_code(ctx):
    store = ctx.store()
    rule = _rule(ctx, store)
    code = copy.deepcopy(_code(ctx, store, rule))
    merge(code, ctx.body, exclude=("id",))
    if "updated_at_foreign" not in ctx.body:
        code["updated_at_foreign"] = now_iso()
    _check_code(store, code, rule["id"])
    store.promo_codes[rule["id"]][code["id"]] = code
    return copy.deepcopy(code)


@handles("DELETE", "/ecommerce/stores/{storeId}/promo-rules/{promoRuleId}/promo-codes/{promoCodeId}")
def delete_promo_code(ctx):
    store = ctx.store()
    rule = _rule(ctx, store)
    del store.promo_codes[rule["id"]][_code(ctx, store, rule)["id"]]
    return 204, None
