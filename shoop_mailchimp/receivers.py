"""Signal receivers: record what Mailchimp must learn, in the caller's transaction. Nothing here
talks to Mailchimp; a drainer delivers after commit (see :mod:`shoop_mailchimp.sync.delivery`).
"""
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save, pre_delete, pre_save
from django.utils import timezone
from shuup.core.models import CompanyContact, Contact, ContactGroup, PersonContact
from shuup.core.order_creator.signals import order_creator_finished
from shuup.core.signals import order_changed, order_status_changed
from shuup.front.models import StoredBasket
from shuup.gdpr.signals import anonymization_requested

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.journal import log_event
from shoop_mailchimp.models import ContactGroupInterest, LogKind, MailchimpConfiguration, SyncKind, SyncState
from shoop_mailchimp.shops import forget_recording_shops, recording_shop_ids, shop_ids_for_contact
from shoop_mailchimp.storefront.attribution import remember_for_order
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.delivery import schedule_delivery
from shoop_mailchimp.sync.kinds.cart import has_shopper
from shoop_mailchimp.sync.kinds.group import concerns_mailchimp, membership_matters, names_members

CONTACT_LOADED_UID = "shoop_mailchimp.contact_loaded.%s"
CONTACT_SAVING_UID = "shoop_mailchimp.contact_saving.%s"
CONTACT_SAVED_UID = "shoop_mailchimp.contact_saved.%s"
CONTACT_DELETED_UID = "shoop_mailchimp.contact_deleted.%s"
GROUP_MEMBERS_UID = "shoop_mailchimp.group_members_changed"
CONTACT_SHOPS_UID = "shoop_mailchimp.contact_shops_changed"
GROUP_SAVED_UID = "shoop_mailchimp.group_saved"
GROUP_RENAMED_UID = "shoop_mailchimp.group_renamed"
GROUP_DELETED_UID = "shoop_mailchimp.group_deleted"
GROUP_DELETING_UID = "shoop_mailchimp.group_deleting"
ORDER_CREATED_UID = "shoop_mailchimp.order_created"
ORDER_STATUS_UID = "shoop_mailchimp.order_status_changed"
ORDER_CHANGED_UID = "shoop_mailchimp.order_changed"
ANONYMIZATION_UID = "shoop_mailchimp.anonymization_requested"
BASKET_SAVED_UID = "shoop_mailchimp.basket_saved"
CONFIGURATION_SAVED_UID = "shoop_mailchimp.configuration_saved"
CONFIGURATION_DELETED_UID = "shoop_mailchimp.configuration_deleted"

#: The consent a contact instance holds in the database (as loaded or last saved), and when a save of
#: that instance last turned it off: see :func:`order_created`.
STORED_CONSENT = "_shoop_mailchimp_stored_consent"
CONSENT_TURNED_OFF_AT = "_shoop_mailchimp_consent_turned_off_at"


def record(shop_id, kind, object_ids, only_known=False):
    if state.record(shop_id, kind, object_ids, only_known=only_known):
        schedule_delivery(shop_id)


def contact_loaded(sender, instance, **kwargs):
    # Read without triggering the load of a deferred field.
    setattr(instance, STORED_CONSENT, instance.__dict__.get("marketing_permission"))


def contact_saving(sender, instance, raw=False, **kwargs):
    """Note when this save is the one that turns consent off. The instance may be stale (a checkout saves
    the customer it loaded at the start of the request): the database says what the consent is now,
    read only for saves that would turn it off."""
    if getattr(instance, STORED_CONSENT, None) and instance.__dict__.get("marketing_permission") is False \
            and Contact.objects.filter(pk=instance.pk, marketing_permission=True).exists():
        setattr(instance, CONSENT_TURNED_OFF_AT, timezone.now())


def contact_saved(sender, instance, raw=False, **kwargs):
    setattr(instance, STORED_CONSENT, instance.__dict__.get("marketing_permission"))
    if raw:
        return
    for shop_id in shop_ids_for_contact(instance):
        record(shop_id, SyncKind.CONTACT, [instance.pk])


def contact_deleted(sender, instance, **kwargs):
    """A deleted contact is erased from Mailchimp, wherever it had been sent."""
    for shop_id in SyncState.objects.contacts().filter(object_id=instance.pk).values_list("shop_id", flat=True):
        if state.erase(shop_id, [instance.pk]):
            schedule_delivery(shop_id)


def anonymization_requested_receiver(sender, shop, contact=None, **kwargs):
    if contact is not None and shop.pk in recording_shop_ids() and state.erase(shop.pk, [contact.pk]):
        schedule_delivery(shop.pk)


def group_members_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """Both directions: ``group.members.add(contact)`` and ``contact.groups.add(group)``; only groups that are
    (or were) interests, or that members carry by name (tags, a merge field), matter (Shuup puts every new
    person in its default group: no second send for that).

    ``group.members.clear()`` names no contacts afterwards, so its members are read before.
    """
    if reverse:  # instance is the contact
        if action in ("post_add", "post_remove", "post_clear"):
            for shop_id in shop_ids_for_contact(instance):
                if pk_set is None or membership_matters(shop_id, pk_set):
                    record(shop_id, SyncKind.CONTACT, [instance.pk])
        return
    if action == "pre_clear":
        pk_set = set(instance.members.values_list("pk", flat=True))
    elif action not in ("post_add", "post_remove"):
        return
    for shop_id in _shop_ids_for_group(instance):
        if membership_matters(shop_id, [instance.pk]):
            record(shop_id, SyncKind.CONTACT, pk_set or [])


def _shop_ids_for_group(group):
    shop_ids = recording_shop_ids()
    return [group.shop_id] if group.shop_id in shop_ids else (shop_ids if group.shop_id is None else [])


def contact_shops_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A contact added to a shop (multi-shop set-ups) becomes that shop's to send."""
    if action != "post_add" or reverse or not pk_set:
        return
    for shop_id in set(pk_set) & set(recording_shop_ids()):
        record(shop_id, SyncKind.CONTACT, [instance.pk])


def group_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    for shop_id in _shop_ids_for_group(instance):
        if concerns_mailchimp(shop_id, [instance.pk]):
            record(shop_id, SyncKind.GROUP, [instance.pk])


def group_renamed(sender, instance, raw=False, **kwargs):
    """The interest is renamed; members who carry the group's name (a tag, a merge field) are sent again."""
    if raw or instance.master_id is None:
        return
    group_saved(ContactGroup, instance.master)
    for shop_id in _shop_ids_for_group(instance.master):
        if names_members(shop_id, [instance.master_id]):
            record(shop_id, SyncKind.CONTACT, instance.master.members.values_list("pk", flat=True), only_known=True)


def group_deleting(sender, instance, **kwargs):
    """Members who carry the group's name (a tag, a merge field) are sent again without it; read before the
    delete takes the memberships with it."""
    for shop_id in _shop_ids_for_group(instance):
        if names_members(shop_id, [instance.pk]):
            record(shop_id, SyncKind.CONTACT, instance.members.values_list("pk", flat=True), only_known=True)


def group_deleted(sender, instance, **kwargs):
    for shop_id in _shop_ids_for_group(instance):
        if ContactGroupInterest.objects.filter(shop_id=shop_id, group_id=instance.pk).exists():
            record(shop_id, SyncKind.GROUP, [instance.pk])


def order_created(sender, order, source=None, **kwargs):
    """A new order: send it (with the Mailchimp campaign its visit came from, kept here in the checkout's
    transaction), and refresh its customer (interests, and the consent trap below).

    Shuup's OrderCreator copies the order's marketing checkbox onto the customer, so an order
    placed without ticking it would silently withdraw an earlier consent. An unticked box is not
    a withdrawal: when the save that turned consent off happened while this order was being created,
    it is undone and the event logged. Consent withdrawn before the order (by the shop, by the person,
    by an unsubscribe) stays withdrawn, even if Mailchimp has not heard of it yet.
    """
    if order.shop_id not in recording_shop_ids():
        return
    remember_for_order(order, getattr(source, "request", None))
    record(order.shop_id, SyncKind.ORDER, [order.pk])
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
    record(order.shop_id, SyncKind.CONTACT, [customer.pk])


def order_status_changed_receiver(sender, order, **kwargs):
    if order.shop_id in recording_shop_ids():
        record(order.shop_id, SyncKind.ORDER, [order.pk])


def order_saved(sender, order, **kwargs):
    """Payment, shipping and cancellation changes of an order Mailchimp already has, and its customer (a
    cancellation changes what they spent and whether they are a customer: merge fields, tags; a customer
    whose data did not change closes without a request)."""
    if state.record(order.shop_id, SyncKind.ORDER, [order.pk], only_known=True):
        if order.customer_id:
            state.record(order.shop_id, SyncKind.CONTACT, [order.customer_id], only_known=True)
        schedule_delivery(order.shop_id)


def basket_saved(sender, instance, raw=False, **kwargs):
    """A basket of a known shopper becomes a cart once the shopper pauses (CART_QUIET_SECONDS: each save pushes
    the send back, so filling a basket is one send); an ordered or deleted basket's cart goes at once. Anonymous
    baskets only matter if they were carts before. Runs in the storefront's request: one UPDATE, rarely two."""
    if raw or instance.shop_id not in recording_shop_ids():
        return
    if instance.deleted:
        record(instance.shop_id, SyncKind.CART, [instance.pk], only_known=True)
    else:
        state.record(instance.shop_id, SyncKind.CART, [instance.pk], only_known=not has_shopper(instance),
                     quiet_seconds=get_setting("CART_QUIET_SECONDS"))


def connect_receivers():
    for model in (PersonContact, CompanyContact):
        post_init.connect(contact_loaded, sender=model, dispatch_uid=CONTACT_LOADED_UID % model.__name__)
        pre_save.connect(contact_saving, sender=model, dispatch_uid=CONTACT_SAVING_UID % model.__name__)
        post_save.connect(contact_saved, sender=model, dispatch_uid=CONTACT_SAVED_UID % model.__name__)
        post_delete.connect(contact_deleted, sender=model, dispatch_uid=CONTACT_DELETED_UID % model.__name__)
    m2m_changed.connect(group_members_changed, sender=ContactGroup.members.through, dispatch_uid=GROUP_MEMBERS_UID)
    m2m_changed.connect(contact_shops_changed, sender=Contact.shops.through, dispatch_uid=CONTACT_SHOPS_UID)
    post_save.connect(group_saved, sender=ContactGroup, dispatch_uid=GROUP_SAVED_UID)
    post_save.connect(group_renamed, sender=ContactGroup._meta.get_field("translations").related_model,
                      dispatch_uid=GROUP_RENAMED_UID)
    post_delete.connect(group_deleted, sender=ContactGroup, dispatch_uid=GROUP_DELETED_UID)
    pre_delete.connect(group_deleting, sender=ContactGroup, dispatch_uid=GROUP_DELETING_UID)
    order_creator_finished.connect(order_created, dispatch_uid=ORDER_CREATED_UID)
    order_status_changed.connect(order_status_changed_receiver, dispatch_uid=ORDER_STATUS_UID)
    order_changed.connect(order_saved, dispatch_uid=ORDER_CHANGED_UID)
    anonymization_requested.connect(anonymization_requested_receiver, dispatch_uid=ANONYMIZATION_UID)
    post_save.connect(basket_saved, sender=StoredBasket, dispatch_uid=BASKET_SAVED_UID)
    post_save.connect(forget_recording_shops, sender=MailchimpConfiguration, dispatch_uid=CONFIGURATION_SAVED_UID)
    post_delete.connect(forget_recording_shops, sender=MailchimpConfiguration, dispatch_uid=CONFIGURATION_DELETED_UID)
