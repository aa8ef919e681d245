"""Delivering orders: products first (Mailchimp rejects unknown ones), then the order itself."""
import hashlib
import json

from django.db.models import Prefetch
from shuup.core.models import Order, OrderLine

from shoop_mailchimp.mailchimp import members, orders, products
from shoop_mailchimp.models import SyncState


def load_orders(rows):
    lines = OrderLine.objects.select_related("product").prefetch_related("product__translations")
    return {order.pk: order for order in Order.objects.filter(pk__in=[row.object_id for row in rows])
            .select_related("customer", "status").prefetch_related(Prefetch("lines", queryset=lines))}


def subscribed_customer_ids(shop_id, orders):
    """Customers whose member Mailchimp last reported subscribed: an order must not say otherwise."""
    return set(SyncState.objects.contacts().filter(
        shop_id=shop_id, object_id__in={order.customer_id for order in orders}, member_status=members.SUBSCRIBED,
    ).values_list("object_id", flat=True))


class OrderPlan:
    """What one order's delivery sends, computed without touching the network.

    Raises :class:`~shoop_mailchimp.mailchimp.orders.UnsendableOrder` with the reason when the order
    cannot be sent at all.
    """

    def __init__(self, order, configuration, subscribed_customers):
        if order is None:
            raise orders.UnsendableOrder("the order no longer exists")
        if order.shop_id != configuration.shop_id:
            raise orders.UnsendableOrder("the order belongs to another shop")
        self.order = order
        self.lines = orders.product_lines(order)
        self.payload = orders.order_payload(order, self.lines)
        self.email = members.mailchimp_email((order.customer.email if order.customer else "") or order.email)
        if not self.email:
            raise orders.UnsendableOrder("neither the order nor its customer has an e-mail address")
        # Only used if Mailchimp does not know the customer yet; never overwrites a member's status.
        self.payload["customer"].update(email_address=self.email, opt_in_status=self.opt_in(order, configuration,
                                                                                        subscribed_customers))
        self.fingerprint = hashlib.sha256(json.dumps(self.payload, sort_keys=True).encode("utf-8")).hexdigest()

    @staticmethod
    def opt_in(order, configuration, subscribed_customers):
        """A contact's consent is its member's (sent by the contact sync); a guest's is the order's
        own marketing box. Double opt-in needs a confirmation letter, which only a member PUT asks
        for, so there a guest goes in as a transactional member."""
        if order.customer_id:
            return order.customer_id in subscribed_customers
        return bool(order.marketing_permission) and not configuration.double_opt_in


def deliver_order(client, configuration, row, order, sent_products, journal, subscribed_customers):
    try:
        plan = OrderPlan(order, configuration, subscribed_customers)
    except orders.UnsendableOrder as reason:
        return "skipped", str(reason)
    if plan.fingerprint == row.fingerprint:
        return "unchanged", None
    for line in plan.lines:
        if line.product_id not in sent_products:
            products.upsert_product(client, configuration.store_id, products.product_payload(line.product))
            sent_products.add(line.product_id)
    payload = plan.payload
    orders.send_order(client, configuration.store_id, payload, known_to_mailchimp=bool(row.last_synced_at))
    journal.add("order.send", "Order %s sent (%s %s, %d lines)" % (
        order.pk, payload["order_total"], payload["currency_code"], len(payload["lines"])
    ), order_id=order.pk, contact_id=order.customer_id)
    return "synced", {"fingerprint": plan.fingerprint, "email": plan.email}
