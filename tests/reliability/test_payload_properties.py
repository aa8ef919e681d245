"""Property-based: every payload the service builds is valid for Mailchimp's OpenAPI description.

Built from unsaved model instances (for contacts, the data planning loads) with arbitrary text, then
checked with the emulator's validators (the same ones that fail a test when a real request breaks the
spec), after a JSON round trip.
"""
import json
import types
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shuup.core.models import (
    MutableAddress,
    OrderLineType,
    OrderStatus,
    OrderStatusRole,
    PaymentStatus,
    Product,
    ShippingStatus,
    Shop,
)
from shuup.utils.money import Money

from shoop_mailchimp.initialization import store_payload
from shoop_mailchimp.models import MailchimpConfiguration, SyncState
from shoop_mailchimp.sync.kinds import contact as contact_kind
from shoop_mailchimp.sync.kinds import order as order_kind
from shoop_mailchimp.sync.kinds import product as product_kind
from shoop_mailchimp.sync.kinds.fields import COMPANY, PERSON
from shoop_mailchimp.testing.emulator.spec import load_spec
from tests.reliability import registry

PROPERTY_SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.text(max_size=120)
ids = st.integers(min_value=1, max_value=2 ** 31)
emails = st.emails() | st.text(min_size=1, max_size=40).map(lambda local: local + "@fastmail.com")
countries = st.sampled_from(["FI", "US", "DE", "JP", "IL", "SA"])
prices = st.decimals(min_value=0, max_value=10 ** 7, places=2, allow_nan=False, allow_infinity=False)


@pytest.fixture(scope="module")
def spec():
    loaded = load_spec()
    assert loaded is not None, "the package's copy of Mailchimp's OpenAPI description is missing"
    return loaded


def assert_valid(spec, route_key, payload):
    route = spec.route(route_key)
    assert route is not None, route_key
    wire = json.loads(json.dumps(payload))
    assert route.validate_request(wire, {}) == [], payload


@st.composite
def addresses(draw):
    if not draw(st.booleans()):
        return None
    return MutableAddress(
        street=draw(names), street2=draw(names), city=draw(names), region=draw(names),
        region_code=draw(st.text(max_size=16)), postal_code=draw(st.text(max_size=64)), country=draw(countries),
    )


@st.composite
def contacts(draw):
    """What planning reads of a person or a company (as the drainer loads it)."""
    person = draw(st.booleans())
    return contact_kind.ContactData(
        pk=draw(ids), kind=PERSON if person else COMPANY, email=draw(emails),
        marketing_permission=draw(st.booleans()), name=draw(st.text(max_size=256)),
        first_name=draw(names) if person else None, last_name=draw(names) if person else None,
        default_billing_address=draw(addresses()), phone=draw(st.text(max_size=64)),
        language=draw(st.sampled_from(["", "en", "fi", "pt-br", "eo"])))


@PROPERTY_SETTINGS
@given(
    contact=contacts(),
    opt_in=st.sampled_from([None, True, False]),
    double_opt_in=st.booleans(),
    interest_ids=st.dictionaries(ids, st.text(alphabet="0123456789abcdef", min_size=10, max_size=10), max_size=5),
    group_ids=st.sets(ids, max_size=5),
)
def test_member_and_customer_payloads(spec, contact, opt_in, double_opt_in, interest_ids, group_ids):
    registry.tally("bad_inputs")
    row = SyncState(opt_in=opt_in, email="")
    configuration = MailchimpConfiguration(double_opt_in=double_opt_in)
    configuration.list_id, configuration.store_id = "0123456789", "shuup-shop-1"
    plan = contact_kind.ContactPlan(configuration, row, contact, group_ids | set(list(interest_ids)[:2]),
                                    interest_ids)
    assert_valid(spec, "PUT /lists/{listId}/members/{subscriberHash}", plan.member_operation(plan.status_change).body)
    for status in ("subscribed", "transactional"):
        assert_valid(spec, "PUT /ecommerce/stores/{storeId}/customers/{customerId}",
                     plan.customer_operation(status).body)


@st.composite
def product_instances(draw):
    product = Product(sku=draw(st.text(max_size=300)))
    product.pk = product.id = draw(ids)
    product.set_current_language("en")
    product.name = draw(st.text(max_size=300))
    product.description = draw(st.text(max_size=300))
    product.slug = draw(st.from_regex(r"[a-z0-9-]{0,40}", fullmatch=True))
    product.created_on = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return product


@PROPERTY_SETTINGS
@given(product=product_instances(), domain=st.sampled_from(["", "shop.fastmail.com"]), visible=st.booleans())
def test_product_payloads(spec, product, domain, visible):
    registry.tally("bad_inputs")
    payload = product_kind.Catalogue(Shop(domain=domain), [], places=2).payload(product, visible=visible)
    assert payload["title"].strip()
    assert_valid(spec, "POST /ecommerce/stores/{storeId}/products", payload)
    assert_valid(spec, "PATCH /ecommerce/stores/{storeId}/products/{productId}",
                 {key: value for key, value in payload.items() if key != "id"})


def price_line(currency, include_tax, type, value, pk=None, parent=None, quantity=1, discount=0, text=""):
    """An unsaved order line of ``type`` priced ``value`` (a unit price; negative for discounts and refunds)."""
    line = types.SimpleNamespace(
        pk=pk, type=type, product_id=pk if type == OrderLineType.PRODUCT else None, parent_line_id=parent,
        product=types.SimpleNamespace(pk=pk, variation_parent_id=None) if type == OrderLineType.PRODUCT else None,
        quantity=quantity, text=text, price=types.SimpleNamespace(includes_tax=include_tax),
        discount_amount=Money(discount, currency),
        taxful_price=Money(value * quantity - discount, currency),
        taxless_price=Money((value * quantity - discount) * Decimal("0.8"), currency),
    )
    return line


@st.composite
def order_instances(draw):
    currency = draw(st.sampled_from(["EUR", "USD", "SEK", "JPY"]))
    include_tax = draw(st.booleans())
    total = draw(prices)
    order = types.SimpleNamespace(
        pk=draw(ids), customer_id=draw(ids), currency=currency,
        taxful_total_price=Money(total, currency), taxless_total_price=Money(total * Decimal("0.8"), currency),
        payment_status=draw(st.sampled_from(list(PaymentStatus))),
        shipping_status=draw(st.sampled_from(list(ShippingStatus))),
        status=OrderStatus(role=draw(st.sampled_from(list(OrderStatusRole)))),
        order_date=datetime(2026, 1, 1, tzinfo=timezone.utc), modified_on=datetime.now(timezone.utc),
        billing_address=draw(addresses()), shipping_address=draw(addresses()),
    )
    product_ids = draw(st.sets(ids, min_size=1, max_size=5))
    lines = [price_line(currency, include_tax, OrderLineType.PRODUCT, draw(prices), pk=line_id,
                        quantity=draw(st.decimals(min_value=0, max_value=10 ** 4, places=3)),
                        discount=draw(prices))
             for line_id in product_ids]
    for kind in (OrderLineType.SHIPPING, OrderLineType.PAYMENT, OrderLineType.DISCOUNT, OrderLineType.REFUND):
        if draw(st.booleans()):
            sign = -1 if kind in (OrderLineType.DISCOUNT, OrderLineType.REFUND) else 1
            lines.append(price_line(currency, include_tax, kind, sign * draw(prices), text=draw(names),
                                    parent=draw(st.none() | st.sampled_from(sorted(product_ids)))))
    coupons = draw(st.lists(st.tuples(st.text(min_size=1, max_size=300), st.booleans()), max_size=3))
    return order, lines, coupons


@PROPERTY_SETTINGS
@given(order_and_lines=order_instances(), email=emails, subscribed=st.booleans(), statuses=st.booleans(),
       url=st.sampled_from(["", "https://shop.example.org/order-history/1/"]))
def test_order_payloads(spec, order_and_lines, email, subscribed, statuses, url):
    registry.tally("bad_inputs")
    order, lines, coupons = order_and_lines
    customer = {"id": str(order.customer_id), "email_address": email, "opt_in_status": subscribed}
    payload = order_kind.order_payload(order, lines, customer, statuses=statuses, coupons=coupons, url=url)
    assert_valid(spec, "POST /ecommerce/stores/{storeId}/orders", payload)
    assert_valid(spec, "PATCH /ecommerce/stores/{storeId}/orders/{orderId}",
                 {key: value for key, value in payload.items() if key != "id"})
    amounts = [payload[key] for key in ("order_total", "tax_total", "shipping_total", "discount_total")]
    amounts += [line[key] for line in payload["lines"] for key in ("price", "discount")]
    assert all(amount >= 0 for amount in amounts), "the emulator refuses negative amounts"


@PROPERTY_SETTINGS
@given(
    name=st.text(max_size=200), public_name=st.text(max_size=200), shop_id=ids,
    currency=st.sampled_from(["EUR", "USD", "SEK"]), domain=st.none() | st.text(max_size=60),
    list_id=st.text(alphabet="0123456789abcdef", min_size=10, max_size=10),
)
def test_store_payloads(spec, name, public_name, shop_id, currency, domain, list_id):
    registry.tally("bad_inputs")
    shop = Shop(currency=currency, domain=domain)
    shop.pk = shop.id = shop_id
    shop.set_current_language("en")
    shop.name, shop.public_name = name, public_name
    payload = store_payload(shop, MailchimpConfiguration.default_store_id(shop), list_id)
    assert_valid(spec, "POST /ecommerce/stores", payload)


def test_the_validator_refuses_what_mailchimp_refuses(spec):
    """The properties above would prove nothing if the validator accepted anything."""
    route = spec.route("PUT /lists/{listId}/members/{subscriberHash}")
    assert route.validate_request({"email_address": "a@fastmail.com", "status_if_new": "maybe"}, {})
    assert route.validate_request({"status_if_new": "subscribed"}, {})
    assert spec.route("POST /ecommerce/stores/{storeId}/orders").validate_request(
        {"id": "1", "customer": {"id": "1"}, "currency_code": "EUR", "order_total": "12.00", "lines": []}, {}
    )
