"""Where a shopper's basket (Shuup's ``StoredBasket``) becomes a Mailchimp cart, which feeds the
abandoned-cart automations.

A basket is a cart only while it has a known shopper (logged in, or an e-mail typed at checkout) whom the
shop may mail under its consent rules (:func:`shoop_mailchimp.consent.may_send_cart`), product lines, and
a restore link (:mod:`shoop_mailchimp.cart_links`). A guest's typed address that belongs to somebody the shop
knows makes no cart, and a logged-in shopper has one cart (their newest basket). When it stops being one
(ordered, emptied, deleted, left alone for ``CART_LIFETIME``, consent withdrawn, its shopper ordered since) a
cart that may be in Mailchimp is deleted there and the row goes. Nothing is sent while the store imports its
history (``is_syncing``): carts sent then would start no automation. Receivers record baskets with a quiet
period (``CART_QUIET_SECONDS``), so the latest basket is sent once the shopper pauses.
"""
import hashlib
import json
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db.models import Exists, Max, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import ugettext as _
from django.utils.translation import ugettext_lazy
from shuup.core.models import AnonymousContact, Order, Product
from shuup.core.pricing import PricingContext
from shuup.front.models import StoredBasket

from shoop_mailchimp import consent, shop_consent
from shoop_mailchimp.cart_links import ordered_from_copy, restore_url
from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.mailchimp import errors
from shoop_mailchimp.mailchimp.errors import MailchimpAPIError, MailchimpError, MailchimpNotFound
from shoop_mailchimp.mailchimp.members import TRANSACTIONAL, address_forms, address_key
from shoop_mailchimp.mailchimp.resources import cart_path, member_path
from shoop_mailchimp.mailchimp.transport import Operation
from shoop_mailchimp.models import SyncKind, SyncState, SyncStatus
from shoop_mailchimp.shops import address_keys, shop_contacts_with_keys
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.kinds import attribution, product
from shoop_mailchimp.sync.kinds.contact import customer_id_for
from shoop_mailchimp.sync.kinds.declarations import REWRITE_SENT, AdminItem
from shoop_mailchimp.sync.kinds.fields import currency_places, mailchimp_email, money
from shoop_mailchimp.sync.kinds.order import CatalogueGap, guest_customer_id
from shoop_mailchimp.sync.outcome import Outcome, Result, classify

KIND = SyncKind.CART
#: How the admin names the kind and a failed item of it.
ADMIN = AdminItem(
    title=ugettext_lazy("Carts"),
    model=StoredBasket,
    label=lambda basket: _("Cart of %s") % (basket.customer or basket.orderer or _("a guest")),
    advice=ugettext_lazy("Press %(button)s to try again; a cart that changes is sent again by itself."),
)

#: The carts Mailchimp holds are written again when the storefront moves (their restore links name the old domain)
#: and once the store's import is done (Mailchimp started no automation for those sent during it).
ON_DOMAIN_CHANGE = REWRITE_SENT
AFTER_IMPORT = REWRITE_SENT


class NoCart(Exception):
    """The basket is not (or no longer) a cart Mailchimp should have."""


def log_target(object_id):
    return {}


def cart_id_for(basket_id):
    return str(basket_id)


def typed_email(basket):
    """The e-mail address a guest typed at checkout (the billing address), or ""."""
    data = basket.data or {}
    return ((data.get("billing_address_data") or {}).get("email") or "").strip()


def has_shopper(basket):
    """Whether the basket names somebody a cart could be for, and is no saved cart (see :func:`is_saved_cart`):
    cheap, read in the shop's request."""
    return not is_saved_cart(basket) and bool(basket.customer_id or basket.orderer_id or typed_email(basket))


def is_saved_cart(basket):
    """Whether the basket is one the shopper saved under a title (Shuup's saved carts: a ``persistent`` copy of
    their basket). A list kept on purpose is no abandoned basket: it never becomes a cart, and never takes the
    place of the basket the shopper is filling."""
    return bool(basket.persistent)


def product_quantities(basket):
    """{product id: quantity} of the basket's product lines, in the order added."""
    quantities = {}
    for line in (basket.data or {}).get("lines") or []:
        product_id = line.get("product_id")
        if product_id and Decimal(str(line.get("quantity") or 0)) > 0:
            quantities[product_id] = quantities.get(product_id, 0) + Decimal(str(line["quantity"]))
    return quantities


def sold_product_ids(shop_id, product_ids):
    """The ids among these of the products the shop still sells: not deleted (nor their variation parent), and in
    the shop (a shop product). One query."""
    product_ids = set(product_ids)
    if not product_ids:
        return set()
    return set(Product.objects.filter(
        Q(variation_parent__isnull=True) | Q(variation_parent__deleted=False),
        pk__in=product_ids, deleted=False, shop_products__shop_id=shop_id,
    ).values_list("pk", flat=True))


class Context:
    """The rows' baskets with their shoppers, the products they hold, and how far the shoppers' contacts got."""

    def __init__(self, configuration, rows):
        self.baskets = StoredBasket.objects.filter(pk__in=[row.object_id for row in rows]).select_related(
            "shop", "customer", "orderer").in_bulk()
        product_ids = {pk for basket in self.baskets.values() for pk in product_quantities(basket)}
        #: The products the shop still sells: a line naming another is left out of the cart (the cart's
        #: catalogue gap would bring a product deleted in Mailchimp back, and nothing would delete it again).
        self.products = Product.objects.filter(pk__in=sold_product_ids(configuration.shop_id, product_ids)
                                               ).prefetch_related("translations").in_bulk()
        contact_ids = {shopper_contact(basket).pk for basket in self.baskets.values() if shopper_contact(basket)}
        customer_rows = SyncState.objects.contacts().filter(
            shop_id=configuration.shop_id, erase=False, object_id__in=contact_ids,
        ).values_list("object_id", "status", "last_synced_at", "member_status")
        #: {contact id: (its row's status, whether Mailchimp has ever been sent the customer)}
        self.customer_states = {object_id: (status, bool(sent_at)) for object_id, status, sent_at, _m in customer_rows}
        #: Shoppers whose member is archived in Mailchimp: no cart (its customer would bring the member back).
        self.archived = {object_id for object_id, _s, _t, member_status in customer_rows if member_status == "archived"}
        #: Shoppers whose consent was given in another shop only: no consent here (see shop_consent).
        self.withheld = shop_consent.withheld(configuration.shop_id, contact_ids)
        #: The baskets' products Mailchimp lacks.
        self.catalogue_gap = CatalogueGap(configuration, self.products.values())
        #: What this drain learnt of the campaigns carts name.
        self.attributions = attribution.Attributions(())
        self.expired_before = timezone.now() - timedelta(seconds=get_setting("CART_LIFETIME"))
        self.renew_links_before = timezone.now() - timedelta(seconds=get_setting("CART_LIFETIME") / 2)
        self.last_orders = last_orders(configuration.shop_id, self.baskets.values())
        self.known_addresses = known_addresses(configuration.shop_id, self.baskets.values())
        self.newest_baskets = newest_baskets(configuration.shop_id, self.baskets.values())

    def ordered_since(self, basket):
        """Whether the basket's shopper (its contact or the contact's e-mail address, or the e-mail typed) has
        ordered in the shop since the basket last changed: in another basket (a copy a restore link made in
        another browser, say, ordered there as a guest with their own address)."""
        keys = [("contact", contact.pk) for contact in [shopper_contact(basket)] if contact]
        keys += [("email", address_key(email)) for email in shopper_emails(basket)]
        return any(self.last_orders.get(key) and self.last_orders[key] >= basket.updated_on for key in keys)


def newest_baskets(shop_id, baskets):
    """{customer id: when their newest open basket with products changed}, for these baskets' customers (their
    saved carts are no baskets they fill)."""
    customer_ids = {basket.customer_id for basket in baskets if basket.customer_id}
    if not customer_ids:
        return {}
    baskets = StoredBasket.objects.filter(shop_id=shop_id, deleted=False, persistent=False,
                                          customer_id__in=customer_ids, product_count__gt=0)
    return dict(baskets.order_by().values("customer_id").annotate(newest=Max("updated_on")).values_list(
        "customer_id", "newest"))


def known_addresses(shop_id, baskets):
    """The addresses typed in these baskets (as :func:`address_key`) that belong to somebody the shop knows: a
    contact of the shop has it (in any spelling: the contacts' address keys), or a member the shop sent has it in
    Mailchimp, in any of its forms."""
    emails = {form for basket in baskets if typed_email(basket) for form in address_forms(typed_email(basket))}
    if not emails:
        return set()
    contacts = shop_contacts_with_keys(shop_id, address_keys(emails))
    members = SyncState.objects.contacts().filter(shop_id=shop_id).annotate(lower_email=Lower("email")).filter(
        lower_email__in=emails)
    return set(contacts.values_list("mailchimp_address__key", flat=True)) | {
        address_key(email) for email in members.values_list("lower_email", flat=True)}


def shopper_emails(basket):
    """The lowercased addresses the basket's shopper orders under, in each of their forms (:func:`address_forms`):
    the typed one, their contact's."""
    contact = shopper_contact(basket)
    return {form for email in (typed_email(basket), contact and contact.email) if email
            for form in address_forms(email)}


def last_orders(shop_id, baskets):
    """{("contact", id) or ("email", :func:`address_key`): when they last ordered in the shop}, for these
    baskets' shoppers, since the oldest basket's last change."""
    baskets = list(baskets)
    contact_ids = {shopper_contact(basket).pk for basket in baskets if shopper_contact(basket)}
    keys = address_keys(email for basket in baskets for email in shopper_emails(basket))
    if not contact_ids and not keys:
        return {}
    # The orders' address keys: any spelling of the mailbox they are stored under.
    orders = Order.objects.filter(shop_id=shop_id, created_on__gte=min(basket.updated_on for basket in baskets)
                                  ).filter(Q(customer_id__in=contact_ids) | Q(orderer_id__in=contact_ids)
                                           | Q(mailchimp_address__key__in=keys))
    latest = {}
    for customer_id, orderer_id, email_key, created_on in orders.values_list(
            "customer_id", "orderer_id", "mailchimp_address__key", "created_on"):
        for key in (("contact", customer_id), ("contact", orderer_id), ("email", email_key)):
            if key[1]:
                latest[key] = max(created_on, latest.get(key, created_on))
    return latest


def load(configuration, rows):
    return Context(configuration, rows)


def shopper_contact(basket):
    return basket.customer or basket.orderer


def may_be_in_mailchimp(row):
    """Whether Mailchimp may hold the row's cart: it was sent, or an attempt's fate is unknown (a timeout or a
    5xx after the request may have landed, a worker whose lease ran out: see
    :func:`~shoop_mailchimp.sync.state.claim`). Deleting a cart Mailchimp lacks costs one 404."""
    return bool(row.last_synced_at or row.last_error_data or getattr(row, "recovered", False))


#: Why an erased row's cart goes (see :func:`erase_carts`).
ERASED = "its shopper was erased (GDPR anonymization, or the contact was deleted)"


def plan(configuration, row, context):
    if row.erase:
        # For good: the row stays, erased, so that no later save of the basket makes it a cart again.
        return DeletePlan(configuration, row, ERASED) if may_be_in_mailchimp(row) else Outcome.skipped(ERASED)
    basket = context.baskets.get(row.object_id)
    try:
        cart_plan = CartPlan(configuration, row, basket, context)
    except NoCart as reason:
        return DeletePlan(configuration, row, str(reason)) if may_be_in_mailchimp(row) else Outcome.removed()
    if configuration.store_syncing:
        return Outcome(Result.RETRY, "waiting for the store's import to finish (no carts while it syncs)",
                       waits=True)
    if cart_plan.waiting_for_contact is not None:
        return cart_plan.waiting_for_contact
    if not cart_plan.payload["checkout_url"]:
        return Outcome.failed("The cart needs a link back to the storefront: set SHOOP_MAILCHIMP "
                              "STOREFRONT_BASE_URL or the shop's domain.")
    if cart_plan.fingerprint == row.fingerprint and not link_to_renew(row, cart_plan.basket, context):
        return Outcome.unchanged()
    return cart_plan


def link_to_renew(row, basket, context):
    """Whether the restore link Mailchimp holds (signed when the cart was last sent) is older than half of
    CART_LIFETIME while the basket changed since: the cart lives CART_LIFETIME from that change, and would
    outlive its link. A fresh link is sent then; a basket untouched since the send expires with its link."""
    return bool(row.last_synced_at and basket.updated_on > row.last_synced_at
                and row.last_synced_at < context.renew_links_before)


class CartPlan:
    """What one basket's cart sends, computed without touching the network."""

    batchable = False

    def __init__(self, configuration, row, basket, context):
        if basket is None or basket.shop_id != configuration.shop_id:
            raise NoCart("the basket no longer exists")
        if is_saved_cart(basket):
            raise NoCart("the basket is a cart the shopper saved (a list kept on purpose)")
        if basket.finished:
            raise NoCart("the basket was ordered")
        if ordered_from_copy(basket):
            raise NoCart("the basket was ordered from a copy its restore link made")
        if basket.deleted:
            raise NoCart("the basket was deleted")
        if basket.updated_on < context.expired_before:
            raise NoCart("the basket was left alone longer than a cart lives")
        if context.ordered_since(basket):
            raise NoCart("its shopper has ordered since")
        if basket.customer_id and context.newest_baskets.get(basket.customer_id, basket.updated_on) > basket.updated_on:
            # One cart per logged-in shopper (their basket in another browser, a restore link's copy): two
            # would make Mailchimp mail two abandoned-cart e-mails.
            raise NoCart("its shopper has a newer basket")
        self.configuration = configuration
        self.row = row
        self.basket = basket
        self.context = context
        self.waiting_for_contact = None
        contact = shopper_contact(basket)
        self.customer = self._customer(contact) if contact else self._guest()
        self.products = [context.products[pk] for pk in product_quantities(basket) if pk in context.products]
        if not self.products:
            raise NoCart("the basket is empty" if not product_quantities(basket)
                         else "the basket holds no product the shop still sells")
        self.payload = self._payload(contact)
        self.payload.update(attribution.cart_fields(basket.data))
        self.email = self.customer.get("email_address", "")
        # Without the link: its signature holds a timestamp, and a cart sent again restarts Mailchimp's
        # abandoned-cart automation.
        self.fingerprint = hashlib.sha256(json.dumps(
            {key: value for key, value in self.payload.items() if key != "checkout_url"},
            sort_keys=True).encode("utf-8")).hexdigest()

    def _customer(self, contact):
        permission = contact.marketing_permission and contact.pk not in self.context.withheld
        if not consent.may_send_cart(permission, self.configuration.send_unconsented):
            raise NoCart("the shopper did not consent, and the shop sends only people who consented")
        if contact.pk in self.context.archived:
            raise NoCart("the shopper's member is archived in Mailchimp")
        status, known = self.context.customer_states.get(contact.pk, (None, False))
        if known:
            return {"id": customer_id_for(contact.pk)}
        if status in (SyncStatus.PENDING, SyncStatus.SENDING):
            # The contact goes first, with the consent rules: a customer created by the cart would make a
            # transactional member that the contact's consent could no longer change.
            self.waiting_for_contact = Outcome(Result.RETRY, "waiting for its shopper to reach Mailchimp first",
                                               waits=True)
        elif status is None:
            self.waiting_for_contact = Outcome(Result.RETRY, "waiting for its shopper to reach Mailchimp first",
                                               waits=True, requeue=[(SyncKind.CONTACT, [contact.pk], False)])
        else:
            raise NoCart("its shopper could not be sent to Mailchimp")
        return {"id": customer_id_for(contact.pk)}

    def _guest(self):
        email = mailchimp_email(typed_email(self.basket))
        if not email:
            raise NoCart("the shopper is not known (not logged in, no e-mail typed at checkout)")
        if not consent.may_send_cart(False, self.configuration.send_unconsented):
            raise NoCart("a guest has not consented before ordering, and the shop sends only people who "
                         "consented")
        if address_key(email) in self.context.known_addresses:
            # Anybody can type anybody's address: the abandoned-cart e-mail would go to a customer (a subscriber)
            # for a basket they never filled. A customer's cart is theirs when they are logged in.
            raise NoCart("a guest typed the address of a customer of the shop")
        return {"id": guest_customer_id(email), "email_address": email, "opt_in_status": False}

    def _payload(self, contact):
        basket = self.basket
        context = PricingContext(shop=basket.shop, customer=contact or AnonymousContact())
        quantities = product_quantities(basket)
        places = currency_places(basket.currency)
        lines = []
        for item in self.products:
            quantity = quantities[item.pk]
            sent_quantity = max(1, int(round(quantity)))
            # The price of the whole quantity (its quantity breaks) per unit sent: a line's ``price`` is the unit
            # price, as an order's lines carry it (order_fields.line_payloads) and Mailchimp's plugins send it.
            total = item.get_price_info(context, quantity=quantity).price.value
            lines.append({
                "id": "%s-%s" % (basket.pk, item.pk),
                "product_id": product.product_id_for(product.catalogue_id(item)),
                "product_variant_id": product.variant_id_for(item),
                "quantity": sent_quantity,
                "price": money(total / sent_quantity, places),
            })
        taxful = basket.taxful_total_price_value or Decimal(0)
        taxless = basket.taxless_total_price_value or taxful
        return {
            "id": cart_id_for(basket.pk),
            "customer": self.customer,
            "currency_code": basket.currency,
            "order_total": money(taxful, places),
            "tax_total": money(taxful - taxless, places),
            "checkout_url": restore_url(basket),
            "lines": lines,
        }

    def run(self, log):
        store_id = self.configuration.store_id
        if self.customer.get("email_address") and self.email.lower() != (self.row.email or "").lower():
            # A guest's address new to this cart: a member who joined the audience on their own (a form of
            # Mailchimp's) is not the shop's to mail a stranger's basket to.
            try:
                member = yield Operation("GET", member_path(self.configuration.list_id, self.email),
                                         params={"fields": "status"})
            except MailchimpNotFound:
                member = None
            if member and member.get("status") != TRANSACTIONAL:
                if may_be_in_mailchimp(self.row):
                    try:
                        yield Operation("DELETE", cart_path(store_id, self.payload["id"]))
                    except MailchimpNotFound:
                        pass
                log("cart.skip", "Cart %s not sent: a guest typed the address of a member of the audience"
                    % self.payload["id"])
                return Outcome.removed()
        yield from attribution.check_campaign(self.payload, self.context.attributions)
        yield from self.context.catalogue_gap.operations(store_id, self.products)
        payload = self.payload
        try:
            yield from self._write(store_id)
        except MailchimpAPIError as error:
            # The campaign went between the look-up and the write: the cart goes without it, as an order does.
            if not attribution.drop_refused_campaign(error, payload, self.context.attributions):
                raise
            yield from self._write(store_id)
        lines = len(payload["lines"])
        log("cart.send", "Cart %s sent (%s %s, %d %s)" % (
            payload["id"], payload["order_total"], payload["currency_code"], lines, "line" if lines == 1 else "lines"))
        return Outcome.synced(fingerprint=self.fingerprint, email=self.email)


    def _write(self, store_id):
        """The cart whole: posted when new; else PATCHed, its customer too (the basket may have changed hands: a link
        opened by another shopper, a guest's typed address corrected). Mailchimp keeps the lines a PATCH leaves out
        and refuses to delete a line alone: a cart that lost a line is deleted and posted whole (as Mailchimp's
        WooCommerce plugin does)."""
        payload = self.payload
        held = (yield from self._held_line_ids(store_id)) if self.row.last_synced_at else None
        if held is None:
            try:
                yield Operation("POST", cart_path(store_id), payload)
                return
            except MailchimpAPIError as error:
                if not errors.already_exists(error):
                    raise
            # Posted by an attempt whose answer was lost: the row does not know it.
            held = (yield from self._held_line_ids(store_id)) or set()
        if held - {line["id"] for line in payload["lines"]}:
            try:
                yield Operation("DELETE", cart_path(store_id, payload["id"]))
            except MailchimpNotFound:
                pass
            yield Operation("POST", cart_path(store_id), payload)
        else:
            yield Operation("PATCH", cart_path(store_id, payload["id"]),
                            {key: value for key, value in payload.items() if key != "id"})

    def _held_line_ids(self, store_id):
        """The ids of the lines Mailchimp holds in the cart; None when it has no such cart."""
        try:
            cart = yield Operation("GET", cart_path(store_id, self.payload["id"]), params={"fields": "lines.id"})
        except MailchimpNotFound:
            return None
        return {line.get("id") for line in (cart or {}).get("lines") or ()}


class DeletePlan:
    """A cart Mailchimp has that is no longer one: it is deleted there, and its row goes."""

    batchable = False

    def __init__(self, configuration, row, reason):
        self.configuration = configuration
        self.row = row
        self.reason = reason

    def run(self, log):
        cart_id = cart_id_for(self.row.object_id)
        try:
            yield Operation("DELETE", cart_path(self.configuration.store_id, cart_id))
        except MailchimpNotFound:
            pass  # deleted already (in Mailchimp, or by an earlier attempt)
        except MailchimpError as error:
            if errors.is_rate_limited(error) or not errors.is_transient(error):
                raise
            # Mailchimp down or slow: the delete is tried again until it goes, however long the outage (left in
            # Mailchimp, the cart of an ordered basket gets its abandoned-cart e-mail).
            outcome = classify(error)
            outcome.persists = True
            return outcome
        log("cart.delete", "Cart %s deleted in Mailchimp: %s" % (cart_id, self.reason))
        return Outcome.skipped(self.reason) if self.row.erase else Outcome.removed()


def erase_carts(contact_ids, shop_ids):
    """These shoppers were erased (GDPR anonymization, contact deleted): the carts of their open baskets in these
    shops are deleted in Mailchimp, and none of those baskets is ever sent again (their rows stay, erased, as a
    contact's do: a later save, an anonymized basket, a basket whose shopper became nobody when the contact went,
    is not sent). In the caller's transaction, before Shuup detaches the baskets from a deleted contact. Returns
    the ids of the shops with a row due."""
    contact_ids = list(contact_ids)
    if not contact_ids or not shop_ids:
        return set()
    by_shop = defaultdict(set)
    for shop_id, basket_id in StoredBasket.objects.filter(
            Q(customer_id__in=contact_ids) | Q(orderer_id__in=contact_ids), shop_id__in=list(shop_ids),
            deleted=False).values_list("shop_id", "pk"):
        by_shop[shop_id].add(basket_id)
    return {shop_id for shop_id, basket_ids in by_shop.items() if state.erase_rows(shop_id, KIND, basket_ids)}


def requeue_stale(synced_before):
    """Queue the carts last sent before ``synced_before`` and not changed since (they outlived their lifetime:
    their plan deletes them in Mailchimp). Returns how many were queued.

    A cart sent once whose later send failed is taken too (Mailchimp still holds what was sent) when its basket
    is past that time as well (left alone, or gone): one whose basket is still being changed is not queued at
    each round. So is a failed cart never known sent whose attempts may have reached Mailchimp (an error
    after the request: a timeout, a 5xx; see :func:`may_be_in_mailchimp`), once its basket is past that time."""
    rows = SyncState.objects.filter(
        Q(last_synced_at__lt=synced_before)
        | Q(last_synced_at__isnull=True, status=SyncStatus.FAILED, last_error_data__isnull=False), kind=KIND)
    changed = StoredBasket.objects.filter(pk=OuterRef("object_id"), updated_on__gte=synced_before)
    ids = rows.annotate(changed=Exists(changed)).filter(
        Q(status=SyncStatus.SYNCED) | Q(status=SyncStatus.FAILED, changed=False)).values_list("id", flat=True)
    return state.requeue_ids(ids, (SyncStatus.SYNCED, SyncStatus.FAILED))


def requeue_to_renew(synced_before):
    """Queue the carts last sent before ``synced_before`` whose basket changed after that send without changing the
    cart (their restore link would expire before the cart: the plan sends a fresh one). Returns how many were
    queued."""
    touched = StoredBasket.objects.filter(pk=OuterRef("object_id"), updated_on__gt=OuterRef("last_synced_at"))
    ids = SyncState.objects.filter(kind=KIND, status=SyncStatus.SYNCED, last_synced_at__lt=synced_before).annotate(
        touched=Exists(touched)).filter(touched=True).values_list("id", flat=True)
    return state.requeue_ids(ids, (SyncStatus.SYNCED,))
