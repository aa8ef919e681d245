"""Where a Shuup order becomes a Mailchimp eCommerce order."""
from shuup.core.models import OrderLineType, PaymentStatus, ShippingStatus

from shoop_mailchimp.mailchimp.customers import address_payload, clean_name, customer_id_for, guest_customer_id
from shoop_mailchimp.mailchimp.errors import MailchimpAPIError, MailchimpNotFound
from shoop_mailchimp.mailchimp.members import mailchimp_email
from shoop_mailchimp.mailchimp.products import product_id_for

FINANCIAL_STATUS = {
    PaymentStatus.NOT_PAID: "pending",
    PaymentStatus.PARTIALLY_PAID: "pending",
    PaymentStatus.FULLY_PAID: "paid",
    PaymentStatus.CANCELED: "cancelled",
    PaymentStatus.DEFERRED: "pending",
}


class UnsendableOrder(Exception):
    """The order has nothing Mailchimp can take (no e-mail address, no product lines)."""


def order_id_for(order):
    return str(order.pk)


def _number(price):
    return round(float(price.value), 2)


def product_lines(order):
    return [
        line for line in order.lines.all()
        if line.type == OrderLineType.PRODUCT and line.product_id is not None
    ]


def guest_customer(order):
    """The customer of an order placed without an account: its e-mail address, its billing name."""
    email = mailchimp_email(order.email)
    if not email:
        raise UnsendableOrder("a guest order without an e-mail address has nobody to attach it to")
    customer = {"id": guest_customer_id(email)}
    first, _, last = clean_name(order.billing_address.name if order.billing_address else "").partition(" ")
    if first:
        customer["first_name"] = first
    if last:
        customer["last_name"] = last.strip()
    address = address_payload(order.billing_address)
    if address:
        customer["address"] = address
    return customer


def order_payload(order, lines):
    if not lines:
        raise UnsendableOrder("the order has no lines with an existing product")
    payload = {
        "id": order_id_for(order),
        "customer": {"id": customer_id_for(order.customer_id)} if order.customer_id else guest_customer(order),
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
