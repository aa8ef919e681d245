"""Where a Shuup order becomes a Mailchimp eCommerce order: its products first (Mailchimp rejects an
order naming a product it does not know), then the order, which follows payment, shipping and
cancellation."""
import hashlib
import json

from django.db.models import Prefetch
from shuup.core.models import Order, OrderLine, OrderLineType, PaymentStatus, ShippingStatus

from shoop_mailchimp.mailchimp import batches
from shoop_mailchimp.mailchimp.errors import MailchimpAPIError, MailchimpNotFound
from shoop_mailchimp.mailchimp.resources import order_path, product_path
from shoop_mailchimp.mailchimp.transport import Operation
from shoop_mailchimp.models import SyncKind, SyncState, SyncStatus
from shoop_mailchimp.sync.batch_phase import BatchPhase, operation_failed, result_outcome
from shoop_mailchimp.sync.kinds import attribution
from shoop_mailchimp.sync.kinds.contact import customer_id_for
from shoop_mailchimp.sync.kinds.fields import address_payload, clean_name, mailchimp_email
from shoop_mailchimp.sync.outcome import Outcome, Result

KIND = SyncKind.ORDER

FINANCIAL_STATUS = {
    PaymentStatus.NOT_PAID: "pending",
    PaymentStatus.PARTIALLY_PAID: "pending",
    PaymentStatus.FULLY_PAID: "paid",
    PaymentStatus.CANCELED: "cancelled",
    PaymentStatus.DEFERRED: "pending",
}


def already_exists(error):
    """Mailchimp has an order with this id (sent before, or by another store of the account)."""
    return error.status == 400 and "already exists" in (error.detail or "").lower()


class UnsendableOrder(Exception):
    """The order has nothing Mailchimp can take (no e-mail address, no product lines)."""


def log_target(object_id):
    return {"order_id": object_id}


def order_id_for(order):
    return str(order.pk)


def product_id_for(product):
    return str(product.pk)


def guest_customer_id(email):
    """Guests have no contact: one customer per e-mail address, so that their orders add up."""
    return "guest-" + hashlib.sha256(email.lower().encode("utf-8")).hexdigest()[:32]


def _number(price):
    return round(float(price.value), 2)


def product_payload(product):
    title = (product.safe_translation_getter("name", any_language=True) or product.sku or "").strip()
    title = title[:255] or "Product %s" % product.pk
    variant = {"id": product_id_for(product), "title": title}
    if product.sku:
        variant["sku"] = product.sku[:255]
    return {"id": product_id_for(product), "title": title, "variants": [variant]}


def send_products(store_id, products, sent_products):
    """Operations making these products exist in Mailchimp (an order or a cart naming a missing one is
    refused), each once per drain: ``sent_products`` holds the ids already sent."""
    for product in products:
        if product.pk in sent_products:
            continue
        payload = product_payload(product)
        try:
            yield Operation("PATCH", product_path(store_id, payload["id"]), {"title": payload["title"]})
        except MailchimpNotFound:
            yield Operation("POST", product_path(store_id), payload)
        sent_products.add(product.pk)


def product_lines(order):
    return [line for line in order.lines.all() if line.type == OrderLineType.PRODUCT and line.product_id is not None]


def guest_customer(order, double_opt_in):
    """The customer of an order placed without an account: its e-mail, its billing name, and the order's own
    marketing box as consent. Double opt-in needs a confirmation letter, which only a member write asks
    for, so there a guest goes in as a transactional member."""
    email = mailchimp_email(order.email)
    if not email:
        raise UnsendableOrder("a guest order without an e-mail address has nobody to attach it to")
    customer = {"id": guest_customer_id(email), "email_address": email,
                "opt_in_status": bool(order.marketing_permission) and not double_opt_in}
    first, _, last = clean_name(order.billing_address.name if order.billing_address else "").partition(" ")
    if first:
        customer["first_name"] = first
    if last:
        customer["last_name"] = last.strip()
    address = address_payload(order.billing_address)
    if address:
        customer["address"] = address
    return customer


def order_payload(order, lines, customer):
    if not lines:
        raise UnsendableOrder("the order has no lines with an existing product")
    payload = {
        "id": order_id_for(order),
        "customer": customer,
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


class Context:
    """The rows' orders with lines and products, and how far their customers got, in four queries."""

    def __init__(self, configuration, rows):
        lines = OrderLine.objects.select_related("product").prefetch_related("product__translations")
        self.orders = Order.objects.filter(pk__in=[row.object_id for row in rows]).select_related(
            "customer", "status", "billing_address").prefetch_related(Prefetch("lines", queryset=lines)).in_bulk()
        customer_rows = SyncState.objects.contacts().filter(
            shop_id=configuration.shop_id, erase=False,
            object_id__in={order.customer_id for order in self.orders.values() if order.customer_id},
        ).values_list("object_id", "status", "last_synced_at")
        #: {contact id: (its row's status, whether Mailchimp has ever been sent the customer)}
        self.customer_states = {object_id: (status, bool(sent_at)) for object_id, status, sent_at in customer_rows}
        #: Products sent in this drain: each once, however many orders name it.
        self.sent_products = set()
        self.attributions = attribution.Attributions(self.orders)


def load(configuration, rows):
    return Context(configuration, rows)


def plan(configuration, row, context):
    order = context.orders.get(row.object_id)
    try:
        order_plan = OrderPlan(configuration, row, order, context)
    except UnsendableOrder as reason:
        return Outcome.skipped(str(reason))
    if order_plan.waiting_for_customer:
        return Outcome(Result.RETRY, "waiting for its customer to reach Mailchimp first", waits=True)
    return Outcome.unchanged() if order_plan.fingerprint == row.fingerprint else order_plan


class OrderPlan:
    """What one order's delivery sends, computed without touching the network."""

    #: A batch carries it as its products (phase 1) and the order (phase 2).
    batchable = True

    def __init__(self, configuration, row, order, context):
        if order is None:
            raise UnsendableOrder("the order no longer exists")
        if order.shop_id != configuration.shop_id:
            raise UnsendableOrder("the order belongs to another shop")
        self.configuration = configuration
        self.row = row
        self.order = order
        self.context = context
        self.lines = product_lines(order)
        self.waiting_for_customer = False
        customer_state, customer_known = context.customer_states.get(order.customer_id, (None, False))
        if order.customer_id and customer_known:
            # Mailchimp knows the customer (it was sent once, whatever happened since): an order carries
            # only its id. Sending the address or consent again would point the customer back at an
            # address changed in Mailchimp.
            customer = {"id": customer_id_for(order.customer_id)}
        elif order.customer_id and customer_state in (SyncStatus.PENDING, SyncStatus.SENDING):
            # Its contact goes first, with the consent rules; creating the customer from the order
            # would create a transactional member that the contact's consent could no longer change.
            self.waiting_for_customer = True
            customer = {"id": customer_id_for(order.customer_id)}
        elif order.customer_id and not (configuration.send_unconsented or order.customer.marketing_permission):
            raise UnsendableOrder("its customer did not consent, and the shop sends only people who consented")
        elif order.customer_id:
            # The contact cannot be sent (no valid address, refused): the order still counts, and
            # never subscribes anyone.
            email = mailchimp_email(order.customer.email or order.email)
            if not email:
                raise UnsendableOrder("neither the order nor its customer has an e-mail address")
            customer = {"id": customer_id_for(order.customer_id), "email_address": email, "opt_in_status": False}
        elif not (configuration.send_unconsented or order.marketing_permission):
            raise UnsendableOrder("the guest did not tick the marketing box, and the shop sends only people who "
                                  "consented")
        else:
            customer = guest_customer(order, configuration.double_opt_in)
        self.payload = order_payload(order, self.lines, customer)
        self.payload.update(attribution.order_fields(context.attributions.by_order.get(order.pk)))
        self.email = customer.get("email_address", "")
        self.fingerprint = hashlib.sha256(json.dumps(self.payload, sort_keys=True).encode("utf-8")).hexdigest()

    def run(self, log):
        store_id = self.configuration.store_id
        yield from attribution.check_campaign(self.payload, self.context.attributions)
        yield from send_products(store_id, [line.product for line in self.lines], self.context.sent_products)
        payload = self.payload
        update = {key: value for key, value in payload.items() if key != "id"}
        try:
            if self.row.last_synced_at:
                try:
                    yield Operation("PATCH", order_path(store_id, payload["id"]), update)
                except MailchimpNotFound:
                    yield from self._create(payload, update)
            else:
                yield from self._create(payload, update)
        except UnsendableOrder as reason:
            return Outcome.failed(str(reason))
        order = self.order
        lines = len(payload["lines"])
        log("order.send", "Order %s sent (%s %s, %d %s)" % (
            order.identifier or order.pk, payload["order_total"], payload["currency_code"], lines,
            "line" if lines == 1 else "lines"))
        return Outcome.synced(fingerprint=self.fingerprint, email=self.email)

    def _create(self, payload, update):
        store_id = self.configuration.store_id
        try:
            yield Operation("POST", order_path(store_id), payload)
        except MailchimpAPIError as error:
            if not already_exists(error):
                raise
            try:
                yield Operation("PATCH", order_path(store_id, payload["id"]), update)
            except MailchimpNotFound:
                # Order ids are unique per Mailchimp account: another store of the account has one.
                raise UnsendableOrder(
                    "Mailchimp already has an order %s in another store of this account (order ids are unique "
                    "per account)." % payload["id"])


# In a batch (sync.bulk) --------------------------------------------------------------------------------
# Products first, each once; then the orders, planned again (their products are in Mailchimp by then).


def _build_products(configuration, pairs, rows, sent):
    products = {}
    for row, plan in pairs:
        for line in plan.lines:
            products.setdefault(line.product_id, line.product)
        sent[str(row.id)] = {}
    return [
        batches.encode(Operation("POST", product_path(configuration.store_id), product_payload(product)),
                       "p:%d:product" % product_id)
        for product_id, product in sorted(products.items())
    ]


def _read_products(configuration, row, results, facts):
    """Products are shared by orders: a refused one fails its orders in the next phase, not here."""
    return None


def _build_orders(configuration, pairs, rows, sent):
    operations = []
    for row, plan in pairs:
        operations.append(batches.encode(Operation("POST", order_path(configuration.store_id), plan.payload),
                                         "o:%d:order" % row.id))
        sent.setdefault(str(row.id), {}).update(email=plan.email, fingerprint=plan.fingerprint)
    return operations


def _read_orders(configuration, row, results, facts):
    result = results.get("order")
    if not facts or result is None:
        return Outcome(Result.RETRY, "no batch result for this order")
    if not operation_failed(result):
        return Outcome.synced(email=facts["email"], fingerprint=facts["fingerprint"])
    outcome = result_outcome(result, "order")
    if already_exists(batches.error_of(result)):
        # Sent before (a resumed batch, a change meanwhile): the one-by-one path updates existing orders.
        outcome.result = Result.RETRY
    return outcome


BATCH_PHASES = (BatchPhase(_build_products, _read_products, plans=True),
                BatchPhase(_build_orders, _read_orders, plans=True))
