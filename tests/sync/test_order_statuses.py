"""Which financial status Mailchimp is sent for an order: a pure rule of the order's facts, as a table."""
import types
from decimal import Decimal

import pytest
from shuup.core.models import OrderLineType, OrderStatusRole, PaymentStatus, ShippingStatus
from shuup.utils.money import Money

from shoop_mailchimp.sync.kinds import order_fields

NOT_PAID, PAID, CANCELED = PaymentStatus.NOT_PAID, PaymentStatus.FULLY_PAID, PaymentStatus.CANCELED
OPEN, CANCELLED = OrderStatusRole.PROCESSING, OrderStatusRole.CANCELED


def order_stub(payment, role, total):
    return types.SimpleNamespace(payment_status=payment, status=types.SimpleNamespace(role=role),
                                 taxful_total_price=Money(total, "EUR"), shipping_status=ShippingStatus.NOT_SHIPPED)


def refund(amount):
    return types.SimpleNamespace(type=OrderLineType.REFUND, taxful_price=Money(-Decimal(amount), "EUR"))


@pytest.mark.parametrize("payment, role, total, refunded, status", [
    (NOT_PAID, OPEN, 30, 0, "pending"),
    (PaymentStatus.PARTIALLY_PAID, OPEN, 30, 0, "pending"),
    (PaymentStatus.DEFERRED, OPEN, 30, 0, "pending"),
    (PAID, OPEN, 30, 0, "paid"),
    (PAID, OPEN, 20, 10, "partially_refunded"),
    (PAID, OPEN, 0, 30, "refunded"),
    (PAID, CANCELLED, 30, 0, "cancelled"),
    (PAID, CANCELLED, 0, 30, "cancelled"),
    (CANCELED, OPEN, 30, 0, "cancelled"),
])
def test_financial_status(payment, role, total, refunded, status):
    lines = [refund(refunded)] if refunded else []
    assert order_fields.financial_status(order_stub(payment, role, total), lines) == status


@pytest.mark.parametrize("shipping, status", [
    (ShippingStatus.NOT_SHIPPED, None),
    (ShippingStatus.PARTIALLY_SHIPPED, None),
    (ShippingStatus.FULLY_SHIPPED, "shipped"),
])
def test_fulfillment_status(shipping, status):
    order = types.SimpleNamespace(shipping_status=shipping)
    assert order_fields.fulfillment_status(order) == status


@pytest.mark.parametrize("value, number", [
    (Decimal("14.515"), 14.52), (Decimal("0.004"), 0.0), (Money("38.40", "EUR"), 38.4),
])
def test_money_is_rounded_to_cents(value, number):
    assert order_fields.money(value) == number


def test_an_order_no_longer_shipped_is_sent_an_empty_fulfillment_status():
    update = {"financial_status": "paid", "order_total": 5}
    assert order_fields.new_statuses(update, "paid/shipped") == {"order_total": 5, "fulfillment_status": ""}
    assert order_fields.new_statuses(update, "paid/") == {"order_total": 5}
    assert order_fields.new_statuses({"order_total": 5}, "paid/shipped") == {"order_total": 5}, "no statuses sent"


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_deleted_shipment_takes_shipped_off_the_order(shop, configuration, mailchimp_account):
    """The merchant deletes a shipment made by mistake (Orders > order > Shipments > Delete): Shuup's order is
    no longer shipped. The order is sent again without ``fulfillment_status`` (left out when not shipped), and
    Mailchimp keeps "shipped" — its reports and any later notification logic think the parcel left."""
    from shuup.core.models import ShippingStatus
    from shuup.testing import factories

    from tests.helpers import new_person, sent_order
    from tests.sync.test_order_fields import mug_order

    emulator, api_key, _ = mailchimp_account
    configuration.send_order_notifications = True
    configuration.save()
    order = mug_order(shop, new_person())
    shipment = order.create_shipment_of_all_products(supplier=factories.get_default_supplier())
    shipment.set_sent()
    assert sent_order(emulator, api_key, configuration, order)["fulfillment_status"] == "shipped"
    shipment.soft_delete()
    order.refresh_from_db()
    assert order.shipping_status != ShippingStatus.FULLY_SHIPPED
    assert sent_order(emulator, api_key, configuration, order)["fulfillment_status"] != "shipped"
