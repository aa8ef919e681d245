"""Where a Shuup order becomes a Mailchimp eCommerce order."""
from shuup.core.models import OrderLineType, PaymentStatus, ShippingStatus

from shoop_mailchimp.mailchimp.customers import customer_id_for
from shoop_mailchimp.mailchimp.errors import MailchimpAPIError, MailchimpNotFound
from shoop_mailchimp.mailchimp.products import product_id_for

FINANCIAL_STATUS = {
    PaymentStatus.NOT_PAID: "pending",
    PaymentStatus.PARTIALLY_PAID: "pending",
    PaymentStatus.FULLY_PAID: "paid",
    PaymentStatus.CANCELED: "cancelled",
    PaymentStatus.DEFERRED: "pending",
}


class UnsendableOrder(Exception):
    """The order has nothing Mailchimp can take (no customer, no product lines)."""


def order_id_for(order):
    return str(order.pk)


def _number(price):
    return round(float(price.value), 2)


def product_lines(order):
    return [
        line for line in order.lines.all()
        if line.type == OrderLineType.PRODUCT and line.product_id is not None
    ]


def order_payload(order, lines):
    if not order.customer_id:
        raise UnsendableOrder("a guest order has no contact to attach it to")
    if not lines:
        raise UnsendableOrder("the order has no lines with an existing product")
    payload = {
        "id": order_id_for(order),
        "customer": {"id": customer_id_for(order.customer_id)},
        "currency_code": order.currency,
        "order_total": _number(order.taxful_total_price),
        "tax_total": round(float(order.taxful_total_price.value - order.taxless_total_price.value), 2),
        "financial_status": FINANCIAL_STATUS.get(order.payment_status, "pending"),
        "processed_at_foreign": order.order_date.isoformat(),
        "lines": [
            {
                "id": str(line.pk),
                "product_id": product_id_for(line.product),
                "product_variant_id": product_id_for(line.product),
                "quantity": max(1, int(round(line.quantity))),
                "price": _number(line.taxful_price),
            }
            for line in lines
        ],
    }
    if order.shipping_status == ShippingStatus.FULLY_SHIPPED:
        payload["fulfillment_status"] = "shipped"
    if order.status.identifier == "canceled":
        payload["financial_status"] = "cancelled"
        payload["cancelled_at_foreign"] = order.modified_on.isoformat()
    return payload


def send_order(client, store_id, payload, known_to_mailchimp):
    """Create the order, or update it when Mailchimp already has it."""
    orders = client.stores.orders
    if known_to_mailchimp:
        try:
            return orders.update(store_id, payload["id"], {k: v for k, v in payload.items() if k != "id"})
        except MailchimpNotFound:
            pass
    try:
        return orders.create(store_id, payload)
    except MailchimpAPIError as error:
        if error.status == 400 and "already exists" in (error.detail or "").lower():
            return orders.update(store_id, payload["id"], {k: v for k, v in payload.items() if k != "id"})
        raise
