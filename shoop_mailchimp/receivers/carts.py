"""Shoppers' baskets as Mailchimp carts: a stored basket saved (quietly: each save pushes the send back), and
the carts an order ends."""
from django.db.models.signals import post_save, pre_delete
from shuup.core.models import CompanyContact, PersonContact
from shuup.front.models import StoredBasket
from shuup.gdpr.signals import anonymization_requested

from shoop_mailchimp import cart_links
from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.models import SyncKind
from shoop_mailchimp.receivers.recording import record
from shoop_mailchimp.shops import recording_shop_ids
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.delivery import schedule_delivery
from shoop_mailchimp.sync.kinds.cart import erase_carts, has_shopper

BASKET_SAVED_UID = "shoop_mailchimp.basket_saved"
CONTACT_DELETING_UID = "shoop_mailchimp.cart_contact_deleting_%s"
CONTACT_ANONYMIZED_UID = "shoop_mailchimp.cart_contact_anonymized"


def basket_saved(sender, instance, raw=False, **kwargs):
    """A basket of a known shopper becomes a cart once the shopper pauses (CART_QUIET_SECONDS: each save pushes
    the send back, so filling a basket is one send); an ordered or deleted basket's cart goes at once. Anonymous
    baskets only matter if they were carts before. Runs in the storefront's request: one SELECT while the cart
    waits to be sent anyway (see :func:`~shoop_mailchimp.sync.state.record_quietly`), else one UPDATE, rarely
    more."""
    if raw or instance.shop_id not in recording_shop_ids():
        return
    if instance.deleted:
        record(instance.shop_id, SyncKind.CART, [instance.pk], only_known=True)
    else:
        quiet_seconds = get_setting("CART_QUIET_SECONDS")
        if has_shopper(instance):
            # Filling a basket: while its cart waits for more than half the quiet period, a save writes nothing.
            state.record_quietly(instance.shop_id, SyncKind.CART, instance.pk, quiet_seconds)
        else:
            state.record(instance.shop_id, SyncKind.CART, [instance.pk], only_known=True, quiet_seconds=quiet_seconds)
        restored_from = cart_links.basket_restored_from(instance.data)
        if restored_from and instance.customer_id:
            # A restore link's copy for a logged-in shopper: the cart of the basket it copied goes if it was theirs.
            state.record(instance.shop_id, SyncKind.CART, [restored_from], only_known=True,
                         quiet_seconds=get_setting("CART_QUIET_SECONDS"))


def record_carts_ordered(order):
    """The carts an order ends, besides its own basket's: the stored basket a restore link copied into it and the
    open baskets of its customer. Their plan deletes a cart whose shopper ordered since it last changed. The link's
    basket is noted as ordered from its copy: its link then says it is gone. Runs in the checkout's transaction,
    with no request to Mailchimp and indexed reads only; the carts found by the address the order has (a guest's
    baskets elsewhere, the carts sent under the address typed) are the order's send's to queue
    (:func:`shoop_mailchimp.sync.kinds.order.carts_of_address`): Shuup indexes no e-mail."""
    basket_ids = set()
    restored_from = cart_links.restored_from(order.extra_data)  # the basket's extra_data, copied by the creator
    if restored_from:
        basket_ids.add(restored_from)
        cart_links.mark_ordered_from_copy(order.shop_id, restored_from, order.created_on)
    if order.customer_id:
        basket_ids.update(StoredBasket.objects.filter(
            customer_id=order.customer_id, shop_id=order.shop_id, deleted=False).values_list("pk", flat=True))
    if basket_ids:
        record(order.shop_id, SyncKind.CART, basket_ids, only_known=True)


def contact_deleting(sender, instance, **kwargs):
    """A contact about to be deleted: its carts go for good (before Shuup detaches its baskets from it)."""
    for shop_id in erase_carts([instance.pk], recording_shop_ids()):
        schedule_delivery(shop_id)


def contact_anonymized(sender, shop, contact=None, **kwargs):
    """A GDPR anonymization: the person's carts go for good, in every shop (Shuup anonymizes all their baskets)."""
    if contact is not None:
        for shop_id in erase_carts([contact.pk], recording_shop_ids()):
            schedule_delivery(shop_id)


def connect():
    post_save.connect(basket_saved, sender=StoredBasket, dispatch_uid=BASKET_SAVED_UID)
    for model in (PersonContact, CompanyContact):
        pre_delete.connect(contact_deleting, sender=model, dispatch_uid=CONTACT_DELETING_UID % model.__name__)
    anonymization_requested.connect(contact_anonymized, dispatch_uid=CONTACT_ANONYMIZED_UID)
