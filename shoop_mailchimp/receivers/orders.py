"""An order placed (with its campaign, the carts it ends and the consent its checkout must not withdraw),
its status changed, moved to another customer, or paid, shipped, cancelled or refunded; a customer anonymized
(their orders' attribution forgets the recipient's Mailchimp id)."""
from shuup.core.models import Contact
from shuup.core.order_creator import OrderCreator, OrderModifier
from shuup.core.order_creator.signals import order_creator_finished, post_order_line_save
from shuup.core.signals import order_changed, order_status_changed
from shuup.gdpr.signals import anonymization_requested

from shoop_mailchimp.journal import log_event
from shoop_mailchimp.models import LogKind, SyncKind
from shoop_mailchimp.receivers.carts import record_carts_ordered
from shoop_mailchimp.receivers.contacts import (
    BOX_UNTICKED,
    CONSENT_AT_CHECKOUT,
    CONSENT_BOX_HIDDEN,
    CONSENT_TURNED_OFF_AT,
    ORDER_EDITED,
    consent_given_again,
)
from shoop_mailchimp.receivers.recording import recall, record, record_facts_changed, remember
from shoop_mailchimp.shops import recording_shop_ids
from shoop_mailchimp.storefront.attribution import forget_recipient, remember_for_order
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.delivery import schedule_delivery
from shoop_mailchimp.sync.kinds import order as order_kind

ORDER_CREATED_UID = "shoop_mailchimp.order_created"
ORDER_LINE_SAVED_UID = "shoop_mailchimp.order_line_saved"
ORDER_STATUS_UID = "shoop_mailchimp.order_status_changed"
ORDER_CHANGED_UID = "shoop_mailchimp.order_changed"
ATTRIBUTION_ANONYMIZED_UID = "shoop_mailchimp.attribution_contact_anonymized"
#: Set in the customer's options by Shuup's checkout once it showed the marketing box: later checkouts hide it.
MARKETING_ASKED = "marketing_permission_asked"
#: Shuup's order creators whose orders the staff make (the admin's order creator): the marketing box of such an
#: order is the shop owner's to answer for. Named, not imported: the storefront's checkout imports no admin code.
STAFF_ORDER_CREATORS = ("shuup.admin.modules.orders.json_order_creator.AdminOrderCreator",)


def shoppers_checkout(sender):
    """Whether the order processor that sent one of Shuup's order creator signals (``sender``: its class) is a
    shopper's checkout: an ``OrderCreator`` (the storefront's basket order creator, or any other code creating
    orders) that is not the admin's. Shuup's ``OrderModifier`` (the admin's order editor) is not one."""
    return isinstance(sender, type) and issubclass(sender, OrderCreator) and not any(
        "%s.%s" % (cls.__module__, cls.__qualname__) in STAFF_ORDER_CREATORS for cls in sender.__mro__)


def order_editor(sender):
    """Whether the order processor that sent one of Shuup's order creator signals is Shuup's ``OrderModifier`` (the
    admin's order editor), which rewrites an existing order's lines and copies its original marketing box onto its
    customer, as its creator did."""
    return isinstance(sender, type) and issubclass(sender, OrderModifier)


def box_hidden(customer):
    """Whether Shuup's checkout hid the marketing box of ``customer``'s order: once a checkout showed it, Shuup sets
    :data:`MARKETING_ASKED` in the customer's options (after creating the order), and its later confirm pages hide
    the box and fill it with the customer's consent as the page was rendered: no choice the shopper made."""
    return bool((customer.options or {}).get(MARKETING_ASKED))


def order_line_saved(sender, order, **kwargs):
    """A line of an order Shuup's OrderCreator is creating was saved. Next, still before ``order_creator_finished``,
    the creator copies the order's marketing box onto the customer and saves them (``_update_customer_info_if_needed``,
    on the very instance the order holds), naming no shop: at a shopper's checkout with the box ticked, that instance
    is told so (:data:`~shoop_mailchimp.receivers.contacts.CONSENT_AT_CHECKOUT`), and the consent the save gives is
    sent as the shopper's own (proven address or not: see :func:`~shoop_mailchimp.receivers.contacts.given_request`),
    not as the shop owner's. A box Shuup's checkout hid (:func:`box_hidden`) is no choice made at this checkout: the
    save gives no consent to a customer who holds none (:data:`~shoop_mailchimp.receivers.contacts.CONSENT_BOX_HIDDEN`).
    Shuup's OrderModifier (the admin's order editor) does the same with the box as it was
    when the order was placed: no choice made now, the save changes the customer's consent in neither direction
    (:data:`~shoop_mailchimp.receivers.contacts.ORDER_EDITED`): a customer who withdrew since is not resubscribed,
    one who consented since keeps it."""
    if order.customer_id and order.marketing_permission and shoppers_checkout(sender) and box_hidden(order.customer):
        # Shuup's checkout hid the box and filled it with the customer's consent as the page was shown: the
        # customer may have withdrawn since (an unsubscribe heard meanwhile); the save gives no consent (see
        # shoop_mailchimp.receivers.contacts.contact_saving).
        remember(order.customer, CONSENT_BOX_HIDDEN, order)
    elif order.customer_id and order.marketing_permission and shoppers_checkout(sender):
        remember(order.customer, CONSENT_AT_CHECKOUT, True)
    elif order.customer_id and not order.marketing_permission and issubclass(sender, OrderCreator):
        # An unticked box is no withdrawal (see order_created): the save keeps the consent the customer holds, and
        # with it the confirmation it may still wait for (see shoop_mailchimp.receivers.contacts.contact_saving).
        remember(order.customer, BOX_UNTICKED, order)
    elif order.customer_id and order_editor(sender):
        # The order's box, as it was when the order was placed, copied back onto a customer who may have changed
        # their choice since: the save keeps it (see shoop_mailchimp.receivers.contacts.contact_saving).
        remember(order.customer, ORDER_EDITED, order)


def order_created(sender, order, source=None, **kwargs):
    """A new order: send it (with the Mailchimp campaign its visit came from, kept here in the checkout's
    transaction), and refresh its customer (interests, and the consent trap below).

    Shuup's OrderCreator copies the order's marketing checkbox onto the customer, so an order
    placed without ticking it would silently withdraw an earlier consent. An unticked box is not
    a withdrawal: the save keeps the consent (:data:`~shoop_mailchimp.receivers.contacts.BOX_UNTICKED`), and
    when a save that turned consent off happened while this order was being created all the same (an order
    Shuup saved no line of), it is undone here; both log it. Consent withdrawn before the order (by the shop, by
    the person, by an unsubscribe) stays withdrawn, even if Mailchimp has not heard of it yet.
    """
    if order.customer_id:
        recall(order.customer, CONSENT_AT_CHECKOUT)  # not left for a later save when the creator saved nothing
        recall(order.customer, ORDER_EDITED)
        recall(order.customer, CONSENT_BOX_HIDDEN)
        recall(order.customer, BOX_UNTICKED)
    if order.shop_id not in recording_shop_ids():
        return
    remember_for_order(order, getattr(source, "request", None))
    order_kind.record_promos(order)
    record(order.shop_id, SyncKind.ORDER, [order.pk])
    record_carts_ordered(order)
    customer = order.customer
    if customer is None:
        return
    turned_off_at = getattr(customer, CONSENT_TURNED_OFF_AT, None)
    if turned_off_at and turned_off_at >= order.created_on and not order.marketing_permission \
            and not customer.marketing_permission:
        Contact.objects.filter(pk=customer.pk).update(marketing_permission=True)
        customer.marketing_permission = True
        log_event(
            order.shop_id, "consent.kept",
            "Order %s was placed without ticking the marketing box; the customer keeps the consent given "
            "earlier (only an unsubscribe or an edit of the contact withdraws it)." % (order.identifier or order.pk),
            kind=LogKind.INFO, contact_id=customer.pk, order_id=order.pk,
        )
    elif order.marketing_permission and customer.marketing_permission and not (customer.options or {}).get(
            MARKETING_ASKED):
        # The box shown at this checkout and ticked, while the consent was on already because another shop's
        # storefront gave it: Shuup saves nothing, yet a consent given at a checkout counts in every shop. (Once
        # asked, Shuup's checkout hides the box and copies the customer's flag into it: no consent given here.)
        # The shopper's, at a storefront's checkout: sent as their own (see order_line_saved).
        if consent_given_again(customer, storefront=shoppers_checkout(sender)):
            log_event(order.shop_id, "consent.given", "Order %s was placed with the marketing box ticked: the "
                      "customer's consent, given in another shop only, counts in every shop." % (
                          order.identifier or order.pk), contact_id=customer.pk, order_id=order.pk)
    record_facts_changed(order.shop_id, [customer.pk])


def order_status_changed_receiver(sender, order, old_status=None, **kwargs):
    """A status change of an order. Not its first status, given on its first save while Shuup's OrderCreator is
    still adding its lines and its campaign: ``order_created`` records the order once it is complete (recorded
    here, the drainer could send it at once without its campaign, and a PATCH add it later)."""
    if old_status is not None and order.shop_id in recording_shop_ids():
        record(order.shop_id, SyncKind.ORDER, [order.pk])


def order_saved(sender, order, **kwargs):
    """Payment, shipping, cancellation and refund changes of an order Mailchimp already has, and its customer (a
    cancellation changes what they spent and whether they are a customer: merge fields, tags; a customer
    whose data did not change closes without a request).

    Shuup saves the order for each of them, so ``order_changed`` is the one signal: a payment that pays it in
    full (``create_payment``), a shipment sent or received (``update_shipping_status``), a cancellation, a refund
    (``create_refund`` saves before sending ``refund_created``). A payment or shipment that changes neither
    status saves nothing, and changes nothing Mailchimp is sent.

    An order moved to another customer (Shuup's order editor) queues its new customer here; the first one is
    sent again by the order's plan, which compares the customer with the one its row last sent
    (:func:`~shoop_mailchimp.sync.kinds.order.with_customer`): a save reads nothing of the order."""
    recorded = state.record(order.shop_id, SyncKind.ORDER, [order.pk], only_known=True)
    if recorded and order.customer_id:
        record_facts_changed(order.shop_id, [order.customer_id], only_known=True)
    if recorded:
        schedule_delivery(order.shop_id)


def contact_anonymized(sender, shop, contact=None, **kwargs):
    """A GDPR anonymization (Shuup's *Anonymize*): the person's orders, in every shop, keep their campaign but not
    the recipient's Mailchimp id (see :func:`~shoop_mailchimp.storefront.attribution.forget_recipient`)."""
    if contact is not None:
        forget_recipient([contact.pk])


def connect():
    order_creator_finished.connect(order_created, dispatch_uid=ORDER_CREATED_UID)
    post_order_line_save.connect(order_line_saved, dispatch_uid=ORDER_LINE_SAVED_UID)
    anonymization_requested.connect(contact_anonymized, dispatch_uid=ATTRIBUTION_ANONYMIZED_UID)
    order_status_changed.connect(order_status_changed_receiver, dispatch_uid=ORDER_STATUS_UID)
    order_changed.connect(order_saved, dispatch_uid=ORDER_CHANGED_UID)
