"""A contact (person or company) saved, deleted, anonymized or added to a shop: where a contact change is
recorded, and where a save that turns consent on or off is told from one that does not."""
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save, pre_save
from django.utils import timezone
from shuup.core.models import CompanyContact, Contact, PersonContact
from shuup.gdpr.signals import anonymization_requested

from shoop_mailchimp import member_events, shop_consent
from shoop_mailchimp.consent_shown import CONSENT_AS_SHOWN
from shoop_mailchimp.journal import log_event
from shoop_mailchimp.models import ConsentRequest, LogKind, SyncKind, SyncState
from shoop_mailchimp.receivers.recording import loaded_value, recall, record
from shoop_mailchimp.shops import (
    contacts_per_shop,
    recording_shop_ids,
    shop_contacts_with_address,
    shop_ids_for_contact,
)
from shoop_mailchimp.storefront.attribution import STOREFRONT_REQUEST
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.delivery import schedule_delivery

CONTACT_LOADED_UID = "shoop_mailchimp.contact_loaded.%s"
CONTACT_SAVING_UID = "shoop_mailchimp.contact_saving.%s"
CONTACT_SAVED_UID = "shoop_mailchimp.contact_saved.%s"
CONTACT_DELETED_UID = "shoop_mailchimp.contact_deleted.%s"
CONTACT_SHOPS_UID = "shoop_mailchimp.contact_shops_changed"
ANONYMIZATION_UID = "shoop_mailchimp.anonymization_requested"

#: The consent a contact instance holds in the database (as loaded or last saved), and when a save of
#: that instance last turned it off: see :func:`shoop_mailchimp.receivers.orders.order_created`.
STORED_CONSENT = "_shoop_mailchimp_stored_consent"
CONSENT_TURNED_OFF_AT = "_shoop_mailchimp_consent_turned_off_at"
#: Whether this save gives consent the database did not hold: see :func:`consent_given`.
CONSENT_TURNED_ON = "_shoop_mailchimp_consent_turned_on"
#: Whether this save withdraws consent the database held: the shopper's carts are sent again (or deleted).
CONSENT_TURNED_OFF = "_shoop_mailchimp_consent_turned_off"
#: The shop whose storefront this save gives consent in (set by :mod:`shoop_mailchimp.storefront.subscriptions`):
#: the consent counts in that shop only (see :mod:`shoop_mailchimp.shop_consent`).
CONSENT_SHOP = "_shoop_mailchimp_consent_shop"
#: Set on the customer by a shopper's checkout (Shuup's OrderCreator, not the admin's) before it copies the order's
#: marketing box onto them and saves them (see :mod:`shoop_mailchimp.receivers.orders`): a consent this save gives
#: is the shopper's, given in a storefront, and follows :func:`given_request` (it counts in every shop still).
CONSENT_AT_CHECKOUT = "_shoop_mailchimp_consent_at_checkout"
#: Set on the customer by Shuup's OrderModifier (the admin's order editor: the order it edits) before it copies the
#: order's marketing box onto them and saves them (see :mod:`shoop_mailchimp.receivers.orders`): the box is the one
#: left when the order was placed, not a choice made now, so this save neither gives nor withdraws consent (see
#: :func:`contact_saving`).
ORDER_EDITED = "_shoop_mailchimp_order_edited"
#: Set on the customer by a shopper's checkout whose marketing box Shuup hid (the customer was asked before: see
#: :func:`shoop_mailchimp.receivers.orders.box_hidden`) and filled with their consent as the page was rendered, before
#: it copies the box onto them and saves them: no choice made, so this save gives no consent the database does not
#: hold (an unsubscribe heard since the page was rendered stays; see :func:`contact_saving`).
CONSENT_BOX_HIDDEN = "_shoop_mailchimp_consent_box_hidden"
#: Set on the customer by an order creator (a checkout, the admin's) whose order's marketing box is unticked, before
#: it copies the box onto them and saves them: an unticked box is no withdrawal, so this save keeps the consent the
#: customer holds, and the confirmation it may wait for (see :func:`contact_saving`).
BOX_UNTICKED = "_shoop_mailchimp_box_unticked"
#: Where Shuup manages contacts per shop, a consent a save gave a contact that is not yet one of the shops it counts
#: in: Shuup saves the contact first and adds it to the shop after (a checkout's first order in a shop, a company
#: registered on Shuup's *Company Information* page). ``(shop id or None, storefront)`` as :func:`contact_saved` had
#: it: when the contact joins such a shop (:func:`contact_shops_changed`, the same instance, in the same
#: transaction), the consent is sent there as it would have been, had the contact been the shop's at the save.
CONSENT_AWAITING_SHOP = "_shoop_mailchimp_consent_awaiting_shop"


def contact_loaded(sender, instance, **kwargs):
    # Read without triggering the load of a deferred field.
    setattr(instance, STORED_CONSENT, loaded_value(instance, "marketing_permission"))


def contact_saving(sender, instance, raw=False, **kwargs):
    """Note when this save is the one that turns consent off, or on. The instance may be stale (a checkout
    saves the customer it loaded at the start of the request): a save
    that did not touch the consent on its instance keeps what the database holds now, which a webhook (an
    unsubscribe, a confirmation) or another request may have changed since the instance was loaded (read locked:
    :func:`stored_consent`); a save that changed it decides. A form reloads the contact when it is posted: the
    form's box as it was shown (:data:`~shoop_mailchimp.consent_shown.CONSENT_AS_SHOWN`: the admin's contact form,
    Shuup's storefront contact forms) stands for the instance's loaded value, so a form shown before an unsubscribe
    and saved with its box as shown keeps the withdrawal."""
    permission = loaded_value(instance, "marketing_permission")
    loaded = getattr(instance, STORED_CONSENT, None)
    shown = recall(instance, CONSENT_AS_SHOWN)
    if loaded is not None and isinstance(shown, bool):
        loaded = shown
    edited_order = recall(instance, ORDER_EDITED)
    unticked_order = recall(instance, BOX_UNTICKED)
    hidden_box_order = recall(instance, CONSENT_BOX_HIDDEN)
    setattr(instance, CONSENT_TURNED_ON, False)
    setattr(instance, CONSENT_TURNED_OFF, False)
    if raw or instance.pk is None or permission is None or loaded is None:
        return
    stored = stored_consent(instance.pk)
    if stored is None:
        return
    if permission == loaded and stored != permission:
        instance.marketing_permission = permission = stored
    if edited_order is not None and permission != bool(stored):
        instance.marketing_permission = permission = bool(stored)
        _log_order_edit_keeps_consent(edited_order, instance, stored)
    if unticked_order is not None and permission is False and stored:
        instance.marketing_permission = permission = True
        log_event(unticked_order.shop_id, "consent.kept", "Order %s was placed without ticking the marketing box; the "
                  "customer keeps the consent given earlier (only an unsubscribe or an edit of the contact withdraws "
                  "it)." % (unticked_order.identifier or unticked_order.pk), kind=LogKind.INFO, contact_id=instance.pk,
                  order_id=unticked_order.pk)
    if hidden_box_order is not None and permission is True and not stored:
        instance.marketing_permission = permission = False
        log_event(hidden_box_order.shop_id, "consent.not_given", "Order %s was placed from a checkout that hid the "
                  "marketing box (the customer was asked before) and filled it with their consent as the page was "
                  "shown: it gives no consent; the customer keeps the choice they made since." % (
                      hidden_box_order.identifier or hidden_box_order.pk), contact_id=instance.pk,
                  order_id=hidden_box_order.pk)
    if loaded and permission is False and stored:
        setattr(instance, CONSENT_TURNED_OFF_AT, timezone.now())
    setattr(instance, CONSENT_TURNED_ON, permission is True and loaded is False and stored is False)
    setattr(instance, CONSENT_TURNED_OFF, permission is False and bool(stored))


def stored_consent(contact_id):
    """The consent the database holds for the contact now, read under a row lock where the database has them
    (PostgreSQL): a transaction that changed it and has not committed yet (an unsubscribe webhook still writing its
    rows and log) is waited for, and its value read, rather than the one committed before it. In the caller's
    transaction (a checkout's) the lock lasts until it ends, so no other transaction changes the consent before this
    save writes it; a save outside any holds it for the read alone. SQLite locks the whole
    database for a write: its reads see no transaction half done."""
    rows = Contact.objects.filter(pk=contact_id)
    if not connection.features.has_select_for_update:
        return rows.values_list("marketing_permission", flat=True).first()
    with transaction.atomic(savepoint=False):
        return rows.select_for_update().values_list("marketing_permission", flat=True).first()


def _log_order_edit_keeps_consent(order, contact, stored):
    """An order edit (Shuup's OrderModifier) copied the order's original marketing box onto its customer, who has
    made another choice since: the choice is kept, and the event logged."""
    if stored:
        log_event(order.shop_id, "consent.kept", "Order %s was edited: its marketing box, unticked when it was "
                  "placed, withdraws no consent now; the customer keeps the consent given since (only an "
                  "unsubscribe or an edit of the contact withdraws it)." % (order.identifier or order.pk),
                  kind=LogKind.INFO, contact_id=contact.pk, order_id=order.pk)
    else:
        log_event(order.shop_id, "consent.not_given", "Order %s was edited: its marketing box, ticked when it was "
                  "placed, gives no consent now; the customer keeps the choice they made since (only the shopper, "
                  "or an edit of the contact, gives consent)." % (order.identifier or order.pk), contact_id=contact.pk,
                  order_id=order.pk)


def contact_saved(sender, instance, raw=False, created=False, **kwargs):
    """A consent this save gives counts in every shop, or, when the storefront of one shop gave it
    (:data:`CONSENT_SHOP`, or a save of the shopper's own contact in a storefront request:
    :func:`storefront_consent_shop`), in that shop only: the others send the contact as one who did not consent.
    Given in a storefront (one shop's, or a shopper's checkout: :data:`CONSENT_AT_CHECKOUT`), it is sent as the
    shopper's (:func:`given_request`); given by the staff, as the shop owner's."""
    given = loaded_value(instance, "marketing_permission") is True and (created or getattr(
        instance, CONSENT_TURNED_ON, False))
    consent_shop_id = recall(instance, CONSENT_SHOP)
    at_checkout = bool(recall(instance, CONSENT_AT_CHECKOUT))
    if given and consent_shop_id is None and not at_checkout and not raw:
        consent_shop_id = storefront_consent_shop(instance, created)
    storefront = consent_shop_id is not None or at_checkout
    setattr(instance, STORED_CONSENT, loaded_value(instance, "marketing_permission"))
    if raw:
        return
    turned_off = getattr(instance, CONSENT_TURNED_OFF, False)
    shop_ids = shop_ids_for_contact(instance)
    # The shopper withdrew their own contact's consent in a storefront (Shuup's Customer Information page, the
    # account page): where it is theirs only, its row is told before it is queued (withdrawal_own_only).
    own_only = withdrawn_own_only_in(instance, shop_ids) if turned_off and own_storefront_save(instance) else {}
    if own_only:
        state.withdrawal_not_the_members(own_only, SyncKind.CONTACT, instance.pk)
        served = STOREFRONT_REQUEST.get()
        log_event(served.shop_id, "storefront.unsubscribe", "The shopper withdrew consent on the storefront page %s: "
                  "their own consent only (they never proved the address theirs, and the address's subscription is "
                  "not one their consent made); the member was left as it is." % served.view_name,
                  contact_id=instance.pk)
    if given:
        if consent_shop_id is None:
            shop_consent.given_everywhere([instance.pk])
        else:
            shop_consent.given_in_shop(consent_shop_id, instance.pk, fresh=True)
    for shop_id in shop_ids:
        if turned_off:
            # Before the row is queued: its send may start as soon as it is.
            state.consent_withdrawn(shop_id, SyncKind.CONTACT, [instance.pk])
        if given and consent_shop_id in (None, shop_id):
            consent_given(shop_id, instance, storefront=storefront)
        else:
            record(shop_id, SyncKind.CONTACT, [instance.pk])
        if getattr(instance, CONSENT_TURNED_OFF, False):
            member_events.record_carts_of(shop_id, [instance.pk])
    if given and contacts_per_shop():
        setattr(instance, CONSENT_AWAITING_SHOP, (consent_shop_id, storefront))
    elif getattr(instance, CONSENT_TURNED_OFF, False):
        recall(instance, CONSENT_AWAITING_SHOP)


def storefront_consent_shop(contact, created=False):
    """The shop whose storefront gives the consent a save that names no shop gives ``contact``, or None (the staff's
    consent). While a storefront request is served (marked by
    :class:`~shoop_mailchimp.storefront.attribution.CampaignAttributionMiddleware`), a consent given to its shopper's
    own contact (the person logged in, or the company they buy as), or to a contact the shopper's request creates (a
    company they register on Shuup's company page), is theirs, given in the request's shop: Shuup's own *Customer
    Information* and *Company Information* pages, or any other storefront page saving the marketing box. The
    admin's saves are not served by a storefront request. Logged as the shopper's choice."""
    served = STOREFRONT_REQUEST.get()
    if served is None or not (contact.pk in served.contact_ids or created):
        return None
    log_event(served.shop_id, "storefront.subscribe", "The shopper gave consent on the storefront page %s." %
              served.view_name, contact_id=contact.pk)
    return served.shop_id


def consent_given(shop_id, contact, storefront=False):
    """This save gave consent: it is sent as a change, also to a member the shop never told (a former guest
    buyer). An address another contact of the shop has proves nothing (anyone can type it into their account):
    its owner confirms by e-mail first, unless the contact's owner proved the address theirs (a stranger's block
    press, or an account someone registered with it, does not make its proven owner confirm). A company and its
    own members are one owner (a one-person business gives the company its owner's address). Given in a storefront
    (``storefront``: the shopper's own consent), it is sent as given only for an address its owner proved theirs
    (:func:`given_request`)."""
    others = set(shop_contacts_with_address(shop_id, contact.email).exclude(pk=contact.pk).values_list(
        "pk", flat=True)) if contact.email else set()
    owners = same_owner(contact.pk) if others or storefront else set()
    shared = bool(others - owners) if others else False
    if shared or storefront:
        request = given_request(contact, owners)
        if shared and request != ConsentRequest.SUBSCRIBE:
            request = ConsentRequest.CONFIRM
    else:
        request = ConsentRequest.SUBSCRIBE
    if state.request_consent_change(shop_id, SyncKind.CONTACT, [contact.pk], request):
        schedule_delivery(shop_id)


def given_request(contact, owners=None):
    """The request of a consent the shopper gave in a storefront (the registration box, the account page, a
    checkout's marketing box): ``SUBSCRIBE`` where the contact's address is one its owner
    proved (:func:`shoop_mailchimp.shop_consent.address_proven`), otherwise ``SIGNUP`` (as typed into the newsletter
    block: sent as given to a new member, while a member Mailchimp already holds of the address, a guest buyer, is
    asked to confirm first). A consent the staff give (the admin's contact form, the admin's order creator) is the
    shop owner's to answer for and is sent as given. ``owners``: :func:`same_owner` of the contact, when known."""
    if shop_consent.address_proven(contact, same_owner(contact.pk) if owners is None else owners):
        return ConsentRequest.SUBSCRIBE
    return ConsentRequest.SIGNUP


def _unproven_owners(contact):
    """:func:`same_owner` of a contact whose owner never proved its address theirs (:func:`given_request`); None
    where they did, or the contact has no address."""
    if not (contact.email or "").strip():
        return None
    owners = same_owner(contact.pk)
    return owners if given_request(contact, owners) == ConsentRequest.SIGNUP else None


def _proven_subscriber(shop_id, contact, owners):
    """Another contact of the shop with ``contact``'s address whose owner proved the address theirs and who consents
    in the shop (its id), else None. ``owners``: ``contact``'s (:func:`same_owner`); a company and its own members
    are one owner."""
    for other in shop_contacts_with_address(shop_id, contact.email).exclude(pk__in={contact.pk} | owners):
        if shop_consent.consents_in(shop_id, other) and shop_consent.address_proven(other, same_owner(other.pk)):
            return other.pk
    return None


def withdrawal_own_only(shop_id, contact):
    """The one rule of a shopper's storefront withdrawal of their own contact's consent (the account page's
    *Unsubscribe*, Shuup's *Customer Information* page saved with the marketing box unticked): whether, in the shop,
    it withdraws that contact's own consent only, leaving Mailchimp's member and the other contacts' consents as
    they are. So where the contact's owner never proved the address theirs (:func:`given_request`; anyone can
    register an account with any address) and either another contact of the shop who proved it consents
    (:func:`_proven_subscriber`), or the member's subscription is not the one this contact's consent made: the
    row did not last send the contact's consent (``opt_in``), so the member, if subscribed, was subscribed by
    someone else (Mailchimp's own form, the staff, another contact, a guest buyer's box), or the member is not the
    contact's (``SyncState.foreign_member``: Mailchimp held it when the contact arrived at the address, so a
    subscription there is its owner's, made on Mailchimp's form or confirmed by them, even when this contact's
    consent reached it since), unless this contact's consent made it (``SyncState.consent_made``: the member, a guest
    buyer's, was neither subscribed nor pending until the consent was sent as a change). A proven owner's
    withdrawal is the address's (every letter Mailchimp sends carries an unsubscribe link for the mailbox's owner
    otherwise)."""
    return shop_id in withdrawn_own_only_in(contact, [shop_id])


def withdrawn_own_only_in(contact, shop_ids):
    """The shops (of ``shop_ids``) where a storefront withdrawal of ``contact``'s consent by its shopper is theirs
    only (:func:`withdrawal_own_only`), decided before the withdrawal is recorded: a dict of each such shop's id to
    the id of the contact who proved the address theirs and consents there, or None
    where the member's subscription is not one this contact's consent made."""
    owners = _unproven_owners(contact)
    if owners is None:
        return {}
    consent_made = set(SyncState.objects.filter(
        Q(foreign_member=False) | Q(consent_made=True),
        shop_id__in=list(shop_ids), kind=SyncKind.CONTACT, object_id=contact.pk, opt_in=True,
    ).values_list("shop_id", flat=True))
    own_only = {}
    for shop_id in shop_ids:
        proven = _proven_subscriber(shop_id, contact, owners)
        if proven is not None or shop_id not in consent_made:
            own_only[shop_id] = proven
    return own_only


def own_storefront_save(contact):
    """Whether this save is a storefront request's save of its shopper's own contact (the person logged in, or the
    company they buy as): see :func:`storefront_consent_shop`."""
    served = STOREFRONT_REQUEST.get()
    return served is not None and contact.pk in served.contact_ids


def consent_given_again(contact, shop_id=None, storefront=False):
    """Consent given for a contact whose marketing permission is on already, counting in other shops only: Shuup
    changes nothing (a checkout's box, a storefront's press), so no save says it. ``shop_id``: given in that
    shop's storefront, it counts there too; None: given where no shop is named, it counts in every shop
    (``storefront``: by the shopper, at a checkout). Sent as a consent given in each shop where it did not count.
    Returns those shops' ids."""
    if not contact.marketing_permission:
        return []
    withheld_in = [candidate for candidate in shop_ids_for_contact(contact)
                   if shop_id in (None, candidate) and not shop_consent.consents_in(candidate, contact)]
    if shop_id is None:
        shop_consent.given_everywhere([contact.pk])
    else:
        shop_consent.given_in_shop(shop_id, contact.pk, fresh=False)
    for candidate in withheld_in:
        consent_given(candidate, contact, storefront=storefront or shop_id is not None)
    return withheld_in


def same_owner(contact_id):
    """The companies a contact belongs to, and a company's members."""
    memberships = CompanyContact.members.through.objects
    return set(memberships.filter(contact_id=contact_id).values_list("companycontact_id", flat=True)) | set(
        memberships.filter(companycontact_id=contact_id).values_list("contact_id", flat=True))


def contact_deleted(sender, instance, **kwargs):
    """A deleted contact is erased from Mailchimp, wherever it had been sent."""
    for shop_id in SyncState.objects.contacts().filter(object_id=instance.pk).values_list("shop_id", flat=True):
        if state.erase(shop_id, SyncKind.CONTACT, [instance.pk]):
            schedule_delivery(shop_id)


def anonymization_requested_receiver(sender, shop, contact=None, **kwargs):
    if contact is not None and shop.pk in recording_shop_ids() and state.erase(shop.pk, SyncKind.CONTACT, [contact.pk]):
        schedule_delivery(shop.pk)


def contact_shops_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A contact added to a shop (multi-shop set-ups) becomes that shop's to send. A consent the contact's last
    save gave while it was not yet the shop's (:data:`CONSENT_AWAITING_SHOP`: Shuup adds the contact to the shop
    after saving it) is sent there as the save would have sent it (:func:`consent_given`): the shopper's, given in a
    storefront, asks an address nobody proved to confirm first."""
    if action != "post_add" or reverse or not pk_set:
        return
    awaiting = getattr(instance, CONSENT_AWAITING_SHOP, None)
    consents = awaiting is not None and loaded_value(instance, "marketing_permission") is True
    for shop_id in set(pk_set) & set(recording_shop_ids()):
        if consents and awaiting[0] in (None, shop_id):
            consent_given(shop_id, instance, storefront=awaiting[1])
        else:
            record(shop_id, SyncKind.CONTACT, [instance.pk])


def connect():
    for model in (PersonContact, CompanyContact):
        post_init.connect(contact_loaded, sender=model, dispatch_uid=CONTACT_LOADED_UID % model.__name__)
        pre_save.connect(contact_saving, sender=model, dispatch_uid=CONTACT_SAVING_UID % model.__name__)
        post_save.connect(contact_saved, sender=model, dispatch_uid=CONTACT_SAVED_UID % model.__name__)
        post_delete.connect(contact_deleted, sender=model, dispatch_uid=CONTACT_DELETED_UID % model.__name__)
    m2m_changed.connect(contact_shops_changed, sender=Contact.shops.through, dispatch_uid=CONTACT_SHOPS_UID)
    anonymization_requested.connect(anonymization_requested_receiver, dispatch_uid=ANONYMIZATION_UID)
