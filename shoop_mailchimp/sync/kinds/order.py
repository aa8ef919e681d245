"""Where a Shuup order becomes a Mailchimp eCommerce order: its products first (Mailchimp rejects an
order naming a product it does not know), then the order, which follows payment, shipping, cancellation and
refunds. The order's figures and statuses are :mod:`order_fields`'s; this module decides who the customer is
and what is sent when."""
import hashlib
import json
from decimal import Decimal

from django.db.models import Prefetch, Q
from django.db.models.functions import Lower
from django.urls import NoReverseMatch, reverse
from django.utils.translation import ugettext_lazy
from shuup.campaigns.models.basket_effects import BasketDiscountPercentage, DiscountPercentageFromUndiscounted
from shuup.campaigns.models.basket_line_effects import (
    BasketLineEffect,
    DiscountFromCategoryProducts,
    DiscountFromProduct,
)
from shuup.campaigns.models.campaigns import CouponUsage
from shuup.core.models import Contact, Order, OrderLine, OrderStatusHistory, OrderStatusRole, PersonContact
from shuup.front.models import StoredBasket

from shoop_mailchimp import shop_consent
from shoop_mailchimp.journal import log_event
from shoop_mailchimp.mailchimp import batches, errors
from shoop_mailchimp.mailchimp.errors import MailchimpAPIError, MailchimpNotFound
from shoop_mailchimp.mailchimp.members import address_forms, address_key
from shoop_mailchimp.mailchimp.resources import order_path, product_path
from shoop_mailchimp.mailchimp.transport import Operation
from shoop_mailchimp.models import SyncKind, SyncState, SyncStatus
from shoop_mailchimp.shops import address_sharers, shop_contacts_with_keys, shop_storefront_url
from shoop_mailchimp.sync.batch_phase import BatchPhase, operation_failed, result_outcome
from shoop_mailchimp.sync.kinds import attribution, order_fields, product
from shoop_mailchimp.sync.kinds.contact import address_problem, customer_id_for
from shoop_mailchimp.sync.kinds.declarations import AS_NEW, HISTORY, RESEND, AdminItem
from shoop_mailchimp.sync.kinds.fields import (
    address_payload,
    clean_name,
    currency_places,
    mailchimp_email,
    money,
)
from shoop_mailchimp.sync.outcome import Outcome, Result, classify

KIND = SyncKind.ORDER
#: How the admin names the kind and a failed item of it.
ADMIN = AdminItem(
    title=ugettext_lazy("Orders"),
    model=Order,
    label=str,
    advice=ugettext_lazy("Check the order's customer and products, then press %(button)s."),
)

#: "Sync existing" sends them in the store's import when the history is asked for; a store created again gets them
#: as never sent; their pages name the storefront.
SYNC_EXISTING = HISTORY
FOR_NEW_STORE = AS_NEW
ON_DOMAIN_CHANGE = RESEND
#: An order names its customer and its products: its batches wait while theirs are open, so Mailchimp knows them.
DEPENDS_ON = (SyncKind.CONTACT, SyncKind.PRODUCT)

#: Basket discounts that take a percentage off (a promo code's ``type``); any other takes an amount off.
PERCENTAGE_EFFECTS = (BasketDiscountPercentage, DiscountPercentageFromUndiscounted)


def already_exists(error):
    """Mailchimp has an order with this id (sent before, or by another store of the account)."""
    return errors.already_exists(error)


class UnsendableOrder(Exception):
    """The order has nothing Mailchimp can take (no e-mail address, no product lines)."""


class UnsendableAddress(UnsendableOrder):
    """A guest order's address no mailbox can have (:func:`~.contact.address_problem`): a failure the shop must fix,
    in its own words, as a contact's is; ``outcome`` says why."""

    def __init__(self, outcome):
        super().__init__(outcome.reason)
        self.outcome = outcome


def log_target(object_id):
    return {"order_id": object_id}


def unsent_ids(shop_id):
    """The shop's orders the sync has never seen (no sync-state row): what a bulk sync with orders sends."""
    known = SyncState.objects.filter(shop_id=shop_id, kind=KIND).values("object_id")
    return Order.objects.filter(shop_id=shop_id).exclude(pk__in=known).values_list("pk", flat=True)


def order_id_for(order):
    return str(order.pk)


def guest_customer_id(email):
    """Guests have no contact: one customer per e-mail address, so that their orders add up."""
    return "guest-" + hashlib.sha256(email.lower().encode("utf-8")).hexdigest()[:32]


class CatalogueGap:
    """The products some lines name (orders', carts') that Mailchimp has not been sent yet, as the product kind
    sends them: an order or a cart naming a product Mailchimp lacks is refused."""

    def __init__(self, configuration, products):
        parent_ids = {product.catalogue_id(each) for each in products}
        #: Products Mailchimp has, or was sent in this drain: each once, however many orders name it.
        self.sent = set(SyncState.objects.products().filter(
            shop_id=configuration.shop_id, object_id__in=parent_ids, last_synced_at__isnull=False,
        ).values_list("object_id", flat=True))
        self.shop = configuration.shop
        self.catalogue = product.Catalogue(configuration.shop, parent_ids - self.sent)

    def unsent(self, products):
        """{product id: payload} of these products' catalogue entries Mailchimp lacks (hidden when the shop no
        longer shows them)."""
        catalogue = self.catalogue
        unsent = {}
        for each in products:
            parent = catalogue.products.get(product.catalogue_id(each))
            if parent is not None and parent.pk not in self.sent:
                unsent[parent.pk] = catalogue.payload(parent, visible=catalogue.shown(parent))
        return unsent

    def operations(self, store_id, products):
        """The requests that make these products exist in Mailchimp."""
        for product_pk, payload in self.unsent(products).items():
            yield from self._send(store_id, payload)
            self.sent.add(product_pk)

    def resend(self, store_id, products):
        """The requests that send these products' catalogue entries again although the shop holds them sent:
        Mailchimp lost them (deleted there by hand or by another tool)."""
        parent_ids = {product.catalogue_id(each) for each in products}
        catalogue = product.Catalogue(self.shop, parent_ids)
        for parent_pk in sorted(parent_ids):
            parent = catalogue.products.get(parent_pk)
            if parent is not None:
                yield from self._send(store_id, catalogue.payload(parent, visible=catalogue.shown(parent)))
                self.sent.add(parent_pk)

    def _send(self, store_id, payload):
        try:
            yield Operation("POST", product_path(store_id), payload)
        except MailchimpAPIError as error:
            if not product.already_exists(error):
                raise
            # Sent before this shop kept product rows, perhaps without the variant this line names.
            yield Operation("PATCH", product_path(store_id, payload["id"]),
                            {key: value for key, value in payload.items() if key != "id"})


#: Logged when a guest order whose box was ticked is sent for an address Mailchimp already holds, or a contact has.
BOX_NOT_APPLIED = ("Order %s was placed as a guest with the marketing box ticked, for an address Mailchimp already "
                   "holds (an earlier order, cart or contact) or a contact of the shop has: the box was not applied "
                   "(anyone may type an address at a guest checkout); the member keeps its status. A subscription of "
                   "the address is asked for through the newsletter block or the account page, which ask its owner "
                   "to confirm.")


def guest_customer(order, double_opt_in, held=False):
    """The customer of an order placed without an account: its e-mail, its billing name, and the order's own
    marketing box as consent. Double opt-in needs a confirmation letter, which only a member write asks
    for, so there a guest goes in as a transactional member. ``held``: Mailchimp already holds a customer or member
    of the address (:func:`held_guest_orders`); the box, ticked by whoever typed the address, does not subscribe it
    (``opt_in_status`` false → true on an existing customer subscribes its member outright)."""
    email = mailchimp_email(order.email)
    if not email:
        raise UnsendableOrder("a guest order without an e-mail address has nobody to attach it to")
    problem = address_problem(order.email, where="the order")
    if problem:
        # Not sent: Mailchimp would refuse it with a generic error (a domain IDNA 2008 refuses, an address too long).
        raise UnsendableAddress(problem)
    customer = {"id": guest_customer_id(email), "email_address": email,
                "opt_in_status": bool(order.marketing_permission) and not double_opt_in and not held}
    first, _, last = clean_name(order.billing_address.name if order.billing_address else "").partition(" ")
    if first:
        customer["first_name"] = first
    if last:
        customer["last_name"] = last.strip()
    address = address_payload(order.billing_address)
    if address:
        customer["address"] = address
    return customer


def order_url(order, can_log_in):
    """The shopper's page of the order in the storefront (Shuup's order history), for a customer who can log in
    to see it; empty for guests, a storefront without an address (see ``shops.shop_storefront_url``) or without
    the order history."""
    if not can_log_in:
        return ""
    try:
        path = reverse("shuup:show-order", kwargs={"pk": order.pk})
    except NoReverseMatch:
        return ""
    return shop_storefront_url(order.shop, path)


def line_product_ids(line):
    """(product id, variant id) of a line as the product kind sends them: a variation child is a variant of its
    parent."""
    return product.product_id_for(product.catalogue_id(line.product)), product.variant_id_for(line.product)


def order_payload(order, lines, customer, statuses=False, coupons=(), cancelled_at=None, url="", places=2):
    """The order as Mailchimp takes it, from the order and all its lines. ``statuses``: whether the financial and
    fulfillment statuses go too (they make Mailchimp send its order notifications); ``coupons``: the codes used,
    as :class:`order_fields.UsedCoupon`; ``cancelled_at``: when it was cancelled, if it was; ``places``: the decimal
    places of the order's currency (:func:`~shoop_mailchimp.sync.kinds.fields.currency_places`)."""
    line_payloads = order_fields.line_payloads(lines, line_product_ids, places)
    if not line_payloads:
        raise UnsendableOrder("the order has no lines with an existing product")
    payload = {
        "id": order_id_for(order),
        "customer": customer,
        "currency_code": order.currency,
        "order_total": money(max(order.taxful_total_price.value, 0), places),
        "tax_total": money(max(order.taxful_total_price.value - order.taxless_total_price.value, 0), places),
        "shipping_total": order_fields.shipping_total(lines, places),
        "discount_total": order_fields.discount_total(lines, line_payloads, places),
        "processed_at_foreign": order.order_date.isoformat(),
        "updated_at_foreign": order.modified_on.isoformat(),
        "lines": line_payloads,
    }
    if statuses:
        payload["financial_status"] = order_fields.financial_status(order, lines)
        fulfillment = order_fields.fulfillment_status(order)
        if fulfillment:
            payload["fulfillment_status"] = fulfillment
    if order_fields.is_cancelled(order):
        payload["cancelled_at_foreign"] = (cancelled_at or order.modified_on).isoformat()
    promos = order_fields.promo_payloads(lines, coupons, places)
    if promos:
        payload["promos"] = promos
    if url:
        payload["order_url"] = url
    for key in ("billing_address", "shipping_address"):
        address = order_fields.order_address(getattr(order, key))
        if address:
            payload[key] = address
    return payload


def fingerprint_of(payload):
    """What makes an order worth sending again: its payload but when it was last updated or cancelled (a later
    save of a cancelled order moves those, and changes nothing Mailchimp shows)."""
    facts = {key: value for key, value in payload.items() if key not in order_fields.TIMESTAMP_FIELDS}
    facts["cancelled"] = "cancelled_at_foreign" in payload
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode("utf-8")).hexdigest()


def line_discount(effect):
    """A campaign's line effect as :class:`order_fields.LineDiscount`; None for one that discounts no line of
    the order (free products come as lines of their own, priced 0)."""
    if isinstance(effect, DiscountFromProduct):
        return order_fields.LineDiscount(frozenset(effect.products.values_list("pk", flat=True)),
                                         amount=effect.discount_amount, per_unit=not effect.per_line_discount)
    if isinstance(effect, DiscountFromCategoryProducts):
        return order_fields.LineDiscount(frozenset(effect.category.shop_products.values_list("product_id", flat=True)),
                                         amount=effect.discount_amount, percentage=effect.discount_percentage,
                                         by_parent=True)
    return None


#: Where an order keeps, from its checkout on, the code, kind of discount and amount of each coupon it used
#: (``Order.extra_data``): a coupon renamed or a campaign changed later does not change what the order used.
RECORDED_PROMOS_KEY = "shoop_mailchimp_promos"


def record_promos(order):
    """Keep on the order (in the checkout's transaction) the code, the kind of discount (percentage or not) and
    the amount taken off (without tax, as a string) of each coupon it used, as they are now: :func:`used_coupons`
    reads them back instead of the coupon's and the campaign's later state. One UPDATE, only for an order that
    used a coupon."""
    coupons = _current_coupons([order.pk]).get(order.pk) if order.codes else None
    if not coupons:
        return
    amounts = order_fields.promo_amounts(list(order.lines.all()), [used for _coupon_id, used in coupons])
    extra = dict(order.extra_data or {})
    extra[RECORDED_PROMOS_KEY] = [{"coupon": coupon_id, "code": used.code, "percentage": used.percentage,
                                   "amount": str(amount)}
                                  for (coupon_id, used), amount in zip(coupons, amounts)]
    Order.objects.filter(pk=order.pk).update(extra_data=extra)
    order.extra_data = extra


def used_coupons(order_ids):
    """{order id: [:class:`order_fields.UsedCoupon`]}: the coupons the orders used, with their campaigns'
    effects; the code, the kind of discount and the amount as the order recorded them at its checkout (see
    :func:`record_promos`), else (an order placed before it kept them) the code the order was placed with."""
    current = _current_coupons(order_ids)
    facts = Order.objects.filter(pk__in=list(current)).only("pk", "extra_data", "_codes")
    coupons = {}
    for order_id, extra, codes in ((each.pk, each.extra_data, each.codes) for each in facts):
        recorded = {item.get("coupon"): item for item in (extra or {}).get(RECORDED_PROMOS_KEY) or ()
                    if isinstance(item, dict)}
        entered = [str(code) for code in codes or ()]
        unmatched = [code for code in entered
                     if code.lower() not in {used.code.lower() for _pk, used in current[order_id]}]
        for coupon_id, used in current[order_id]:
            if coupon_id in recorded:
                used = used._replace(code=str(recorded[coupon_id].get("code") or used.code),
                                     percentage=bool(recorded[coupon_id].get("percentage")),
                                     amount=_recorded_amount(recorded[coupon_id].get("amount")))
            elif used.code.lower() not in {code.lower() for code in entered} and len(unmatched) == 1:
                used = used._replace(code=unmatched[0])  # renamed since: the code the order was placed with
            coupons.setdefault(order_id, []).append(used)
    return coupons


def _recorded_amount(value):
    """A recorded promo amount as a Decimal; None for none (recorded before amounts were) or a broken one."""
    try:
        return Decimal(str(value)) if value is not None else None
    except (ArithmeticError, ValueError):
        return None


def _current_coupons(order_ids):
    """{order id: [(coupon id, :class:`order_fields.UsedCoupon`)]}: the coupons the orders used, as they and their
    campaigns' effects are now (a few queries for all the orders, and one per line effect: campaigns are few)."""
    usages = list(CouponUsage.objects.filter(order_id__in=order_ids).select_related(
        "coupon__campaign").prefetch_related("coupon__campaign__discount_effects").order_by("pk"))
    campaigns = {usage.coupon.campaign.pk for usage in usages if getattr(usage.coupon, "campaign", None)}
    line_effects = {}
    for effect in BasketLineEffect.objects.filter(campaign_id__in=campaigns).order_by("pk"):
        line_effects.setdefault(effect.campaign_id, []).append(effect)
    coupons = {}
    for usage in usages:
        campaign = getattr(usage.coupon, "campaign", None)
        effects = list(campaign.discount_effects.all()) if campaign else []
        discounts = [line_discount(effect) for effect in line_effects.get(campaign.pk, ())] if campaign else []
        discounts = tuple(discount for discount in discounts if discount)
        percentage = any(isinstance(effect, PERCENTAGE_EFFECTS) for effect in effects) or any(
            discount.percentage and not discount.amount for discount in discounts)
        coupons.setdefault(usage.order_id, []).append((usage.coupon_id, order_fields.UsedCoupon(
            usage.coupon.code, percentage, line_discounts=discounts,
            supplier_id=campaign.supplier_id if campaign else None)))
    return coupons


class Context:
    """The rows' orders with lines and products, how far their customers got, the coupon codes used and when
    cancelled orders were cancelled, in a few queries."""

    def __init__(self, configuration, rows):
        lines = OrderLine.objects.select_related("product").prefetch_related("product__translations")
        self.orders = Order.objects.filter(pk__in=[row.object_id for row in rows]).select_related(
            "customer", "status", "shop", "billing_address", "shipping_address").prefetch_related(
            Prefetch("lines", queryset=lines)).in_bulk()
        #: {order id: [order_fields.UsedCoupon]}
        self.coupons = used_coupons(self.orders)
        #: Customers who can log in to the storefront (and see their orders there).
        self.customers_with_login = set(PersonContact.objects.filter(
            pk__in={order.customer_id for order in self.orders.values() if order.customer_id}, user__isnull=False,
        ).values_list("pk", flat=True))
        #: {order id: when it last became cancelled}, for orders cancelled through a status change.
        self.cancelled_at = dict(OrderStatusHistory.objects.filter(
            order_id__in=[pk for pk, order in self.orders.items() if order_fields.is_cancelled(order)],
            next_order_status__role=OrderStatusRole.CANCELED,
        ).order_by("created_on").values_list("order_id", "created_on"))
        customer_rows = SyncState.objects.contacts().filter(
            shop_id=configuration.shop_id, erase=False,
            object_id__in={order.customer_id for order in self.orders.values() if order.customer_id},
        ).values_list("object_id", "status", "last_synced_at")
        #: {contact id: (its row's status, whether Mailchimp has ever been sent the customer)}
        self.customer_states = {object_id: (status, bool(sent_at)) for object_id, status, sent_at in customer_rows}
        #: Customers whose consent was given in another shop only: no consent here (see shop_consent).
        self.withheld = shop_consent.withheld(
            configuration.shop_id, {order.customer_id for order in self.orders.values() if order.customer_id})
        #: The orders' products Mailchimp lacks.
        self.catalogue_gap = CatalogueGap(configuration, [
            line.product for order in self.orders.values() for line in order_fields.product_lines(order.lines.all())])
        self.attributions = attribution.Attributions(self.orders)
        #: The guest orders whose address Mailchimp already holds a customer or member of (their box subscribes
        #: nobody outright).
        self.held_guests = held_guest_orders(configuration.shop_id, self.orders.values())
        #: {order id: the carts its address ends}, for the orders never sent before: their first plan queues them.
        self.ended_carts = carts_of_addresses(configuration.shop_id, [
            self.orders[row.object_id] for row in rows if row.last_synced_at is None and row.object_id in self.orders])


def held_guest_orders(shop_id, orders):
    """The ids of the guest orders (no customer) among ``orders`` whose address Mailchimp already holds a customer or
    member of: the shop sent it before (another order's customer, a cart's, a contact's member: a row of the shop
    with the address sent), or an earlier order of this drain has it. Mailchimp subscribes an existing customer's
    member outright when its ``opt_in_status`` turns true, and anyone may type an address at a guest checkout: such
    an order's box is not applied (:func:`guest_customer`). So too for an address a contact of the shop has, sent
    or not (its owner may never have consented, and the shop may send only people who consented): a subscription
    of a contact's address is asked for through the newsletter block, which asks its owner to confirm."""
    guests = sorted((order for order in orders if not order.customer_id and (order.email or "").strip()),
                    key=lambda order: order.pk)
    if not guests:
        return set()
    forms = {order.pk: address_forms(order.email) for order in guests}
    sent = set()
    for object_id, kind, email in SyncState.objects.annotate(lower_email=Lower("email")).filter(
            shop_id=shop_id, last_synced_at__isnull=False,
            lower_email__in=set().union(*forms.values())).values_list("object_id", "kind", "lower_email"):
        sent.add((object_id, kind, email))
    held, seen_keys = set(), set(shop_contacts_with_keys(shop_id, {address_key(order.email) for order in guests})
                                 .values_list("mailchimp_address__key", flat=True))
    for order in guests:
        key = address_key(order.email)
        if key in seen_keys or any(email in forms[order.pk] and not (kind == KIND and object_id == order.pk)
                                   for object_id, kind, email in sent):
            held.add(order.pk)
        seen_keys.add(key)
    return held


def carts_of_addresses(shop_id, orders):
    """{order id: cart ids} the orders end besides those their checkout queued (a customer's own baskets, see
    :func:`shoop_mailchimp.receivers.carts.record_carts_ordered`): for a guest's order, the open baskets of the
    contacts with its address (their own guest order, placed on another device or logged out); for any order, the
    carts sent under the address it has. Looked up here, in the worker, not in the checkout: Shuup indexes no
    e-mail, so these reads grow with the shop's contacts."""
    by_form, guests_by_key = {}, {}
    for order in orders:
        if (order.email or "").strip():
            for form in address_forms(order.email):
                by_form.setdefault(form, set()).add(order.pk)
            if not order.customer_id:
                guests_by_key.setdefault(address_key(order.email), set()).add(order.pk)
    ended = {}
    if guests_by_key:
        # The contacts' address keys: any spelling of the mailbox they are stored under.
        contacts = dict(Contact.objects.filter(mailchimp_address__key__in=guests_by_key).values_list(
            "pk", "mailchimp_address__key"))
        baskets = StoredBasket.objects.filter(
            Q(customer_id__in=contacts) | Q(orderer_id__in=contacts), shop_id=shop_id, deleted=False,
        ).values_list("pk", "customer_id", "orderer_id") if contacts else ()
        for basket_id, customer_id, orderer_id in baskets:
            for contact_id in {customer_id, orderer_id} & set(contacts):
                for order_id in guests_by_key[contacts[contact_id]]:
                    ended.setdefault(order_id, set()).add(basket_id)
    if by_form:
        for basket_id, email in SyncState.objects.carts().annotate(lower_email=Lower("email")).filter(
                shop_id=shop_id, lower_email__in=by_form).values_list("object_id", "lower_email"):
            for order_id in by_form[email]:
                ended.setdefault(order_id, set()).add(basket_id)
    return ended


def with_carts_ended(outcome, basket_ids):
    """``outcome``, queueing again the carts the order ends (:func:`carts_of_addresses`): their plan deletes a
    cart whose shopper ordered since it last changed."""
    if basket_ids:
        outcome.requeue.append((SyncKind.CART, sorted(basket_ids), True))
    return outcome


def load(configuration, rows):
    return Context(configuration, rows)


def plan(configuration, row, context):
    planned = _plan(configuration, row, context)
    if isinstance(planned, Outcome):
        return with_carts_ended(planned, context.ended_carts.get(row.object_id))
    return planned


def _plan(configuration, row, context):
    order = context.orders.get(row.object_id)
    try:
        order_plan = OrderPlan(configuration, row, order, context)
    except UnsendableOrder as reason:
        outcome = getattr(reason, "outcome", None) or Outcome.skipped(str(reason))
        return with_customer(outcome, row, order.customer_id) if order is not None else outcome
    if order_plan.waiting_for_customer:
        return with_customer(Outcome(Result.RETRY, "waiting for its customer to reach Mailchimp first", waits=True),
                             row, order.customer_id)
    if order_plan.fingerprint == row.fingerprint and not moved_from(row, order.customer_id):
        return Outcome.unchanged()
    return order_plan


def moved_from(row, customer_id):
    """The customer the order's last send named (``SyncState.customer_sent``) when the order has another one now
    (moved in Shuup's order editor); else None."""
    return row.customer_sent if row.customer_sent and row.customer_sent != customer_id else None


def with_customer(outcome, row, customer_id):
    """``outcome`` of an order's row, keeping on the row the customer the order names now and, when the order was
    moved to another customer since its last send, sending the first one again: with one order fewer, their
    merge fields and their "customer" tag change (the new customer's contact is queued by the order's save), and so
    do those of the shop's other contacts with their address (one member)."""
    outcome.facts["customer_sent"] = customer_id
    previous = moved_from(row, customer_id)
    if previous:
        outcome.requeue.append((SyncKind.CONTACT, [previous], True))
        outcome.requeue.append((SyncKind.CONTACT, sorted(address_sharers(row.shop_id, [previous])), True))
    return outcome


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
        all_lines = order.lines.all()
        self.lines = order_fields.product_lines(all_lines)
        #: The order's statuses now, kept in the row's ``order_statuses`` after each send:
        #: :func:`order_fields.new_statuses`.
        self.statuses = order_fields.status_record(order, all_lines)
        self.waiting_for_customer = False
        self.box_not_applied = False
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
        elif order.customer_id and not (configuration.send_unconsented or (
                order.customer.marketing_permission and order.customer_id not in context.withheld)):
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
            held = order.pk in context.held_guests
            customer = guest_customer(order, configuration.double_opt_in, held=held)
            #: The guest ticked the box, and Mailchimp holds the address: the box is not applied (logged once sent).
            self.box_not_applied = held and bool(order.marketing_permission) and not configuration.double_opt_in
        self.payload = order_payload(
            order, all_lines, customer, statuses=configuration.send_order_notifications,
            coupons=context.coupons.get(order.pk, ()), cancelled_at=context.cancelled_at.get(order.pk),
            url=order_url(order, order.customer_id in context.customers_with_login),
            places=currency_places(order.currency))
        self.payload.update(attribution.order_fields(context.attributions.by_order.get(order.pk)))
        self.email = customer.get("email_address", "")
        # Without statuses in the payload, their record still counts: a payment while the shop sends no statuses
        # is kept, so that turning them on later sends no late invoice for it.
        self.fingerprint = fingerprint_of(self.payload if configuration.send_order_notifications
                                          else dict(self.payload, statuses=self.statuses))

    def run(self, log):
        outcome = yield from self._run(log)
        return with_carts_ended(with_customer(outcome, self.row, self.order.customer_id),
                                self.context.ended_carts.get(self.order.pk))

    def _run(self, log):
        store_id = self.configuration.store_id
        yield from attribution.check_campaign(self.payload, self.context.attributions)
        yield from self.context.catalogue_gap.operations(store_id, [line.product for line in self.lines])
        payload = self.payload
        try:
            try:
                yield from self._send(payload)
            except MailchimpAPIError as error:
                if attribution.drop_refused_campaign(error, payload, self.context.attributions):
                    pass  # the campaign went between the look-up and the write: the order goes without it
                elif errors.product_missing(error):
                    # Mailchimp lost a product the shop holds sent (deleted there): the order's products again,
                    # then the order once more.
                    yield from self.context.catalogue_gap.resend(store_id, [line.product for line in self.lines])
                else:
                    raise
                try:
                    yield from self._send(payload)
                except MailchimpAPIError as again:
                    if not errors.product_missing(again):
                        raise
                    return products_gone(classify(again), self.product_ids())
        except UnsendableOrder as reason:
            return Outcome.failed(str(reason))
        order = self.order
        lines = len(payload["lines"])
        log("order.send", "Order %s sent (%s %s, %d %s)" % (
            order.identifier or order.pk, payload["order_total"], payload["currency_code"], lines,
            "line" if lines == 1 else "lines"))
        if self.box_not_applied:
            log("order.box_not_applied", BOX_NOT_APPLIED % (order.identifier or order.pk))
        return Outcome.synced(fingerprint=self.fingerprint, email=self.email, order_statuses=self.statuses)

    def _send(self, payload):
        """The order to Mailchimp: an update of one it was sent, else a new one."""
        update = {key: value for key, value in payload.items() if key != "id"}
        if self.row.last_synced_at:
            try:
                yield Operation("PATCH", order_path(self.configuration.store_id, payload["id"]),
                                order_fields.new_statuses(update, self.row.order_statuses))
            except MailchimpNotFound:
                yield from self._create(payload, update)
        else:
            yield from self._create(payload, update)

    def product_ids(self):
        """The ids of the catalogue entries (parents) the order's lines name."""
        return sorted({product.catalogue_id(line.product) for line in self.lines})

    def _create(self, payload, update):
        """A new order; one already paid is created pending, then paid, as Mailchimp's WooCommerce plugin does:
        Mailchimp then sends the order confirmation and the invoice, not the invoice alone."""
        store_id = self.configuration.store_id
        paid = payload.get("financial_status") == order_fields.PAID
        try:
            yield Operation("POST", order_path(store_id),
                            dict(payload, financial_status=order_fields.PENDING) if paid else payload)
            if paid:
                yield Operation("PATCH", order_path(store_id, payload["id"]), {"financial_status": order_fields.PAID})
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


def products_gone(outcome, product_ids):
    """The ``outcome`` of an order Mailchimp refused for a product it lacks although the shop holds it sent (deleted
    in Mailchimp by hand or by another tool): the order's products are sent again as never sent, and the order
    is tried again after them."""
    outcome.result = Result.RETRY
    outcome.reason = "%s (its products are sent again, then the order)" % outcome.reason
    outcome.resend_as_new = [(SyncKind.PRODUCT, list(product_ids))]
    return outcome


# In a batch (sync.bulk) --------------------------------------------------------------------------------
# Products first, each once; then the orders, planned again (their products are in Mailchimp by then).


def _build_products(configuration, pairs, rows, sent):
    products = {}
    for row, plan in pairs:
        products.update(plan.context.catalogue_gap.unsent([line.product for line in plan.lines]))
        sent[str(row.id)] = {}
    return [
        batches.encode(Operation("POST", product_path(configuration.store_id), payload), "p:%d:product" % product_pk)
        for product_pk, payload in sorted(products.items())
    ]


def _read_products(configuration, row, results, facts):
    """Products are shared by orders: a refused one fails its orders in the next phase, not here."""
    return None


def _build_orders(configuration, pairs, rows, sent):
    operations = []
    for row, plan in pairs:
        operations.append(batches.encode(Operation("POST", order_path(configuration.store_id), plan.payload),
                                         "o:%d:order" % row.id))
        sent.setdefault(str(row.id), {}).update(email=plan.email, fingerprint=plan.fingerprint,
                                                statuses=plan.statuses, products=plan.product_ids(),
                                                customer=plan.order.customer_id,
                                                box_not_applied=(plan.order.identifier or str(plan.order.pk))
                                                if plan.box_not_applied else "",
                                                carts=sorted(plan.context.ended_carts.get(plan.order.pk, ())))
    return operations


def _read_orders(configuration, row, results, facts):
    outcome = _read_order(row, results, facts)
    # Batches submitted before orders kept their customer say none.
    outcome = with_customer(outcome, row, facts["customer"]) if facts and "customer" in facts else outcome
    return with_carts_ended(outcome, (facts or {}).get("carts"))


def _read_order(row, results, facts):
    result = results.get("order")
    if not facts or result is None:
        return Outcome(Result.RETRY, "no batch result for this order")
    if not operation_failed(result):
        if facts.get("box_not_applied"):
            log_event(row.shop_id, "order.box_not_applied", BOX_NOT_APPLIED % facts["box_not_applied"],
                      order_id=row.object_id)
        return Outcome.synced(email=facts["email"], fingerprint=facts["fingerprint"],
                              order_statuses=facts.get("statuses", ""))
    error = batches.error_of(result)
    outcome = result_outcome(result, "order")
    if errors.product_missing(error) and facts.get("products"):
        return products_gone(outcome, facts["products"])
    if already_exists(error):
        # Sent before (a resumed batch, a change meanwhile): the one-by-one path updates existing orders.
        outcome.result = Result.RETRY
    elif errors.campaign_refused(error):
        # A batch names the campaign unchecked; one deleted since (an old order's) is refused: the one-by-one
        # path looks it up and sends the order without it, as it sends every order.
        outcome.result = Result.RETRY
    return outcome


BATCH_PHASES = (BatchPhase(_build_products, _read_products, plans=True),
                BatchPhase(_build_orders, _read_orders, plans=True))
