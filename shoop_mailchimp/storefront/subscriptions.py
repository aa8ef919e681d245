"""What a shopper's newsletter choice changes in the shop: ``marketing_permission``, and a consent request
where consent alone cannot say it (:class:`~shoop_mailchimp.models.ConsentRequest`).

Saving a contact records its sync-state row (:mod:`shoop_mailchimp.receivers.contacts`); the drainer sends it after
the commit, so Mailchimp learns of a consent (``pending`` under double opt-in) or a withdrawal then. Each
change is logged with where the shopper made it: the shop's proof of consent.

An address typed into the newsletter block proves nothing about who typed it. For an address the shop
already knows (a contact's, or a guest buyer's from their orders, in any spelling Mailchimp gets as the same
address), the block changes no consent in the shop: it asks Mailchimp to mail the address's owner a
confirmation link (``pending``, whatever the audience's opt-in setting), and the consent is recorded when
they confirm (the ``subscribe`` webhook). A new address follows the setting.

A consent given here counts in this shop only, though Shuup keeps one ``marketing_permission`` for all shops
(see :mod:`shoop_mailchimp.shop_consent`); a withdrawal counts in every shop.
"""
import hashlib
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from shuup.core.models import Order, PersonContact, Shop

from shoop_mailchimp import consent, shop_consent
from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.journal import log_event
from shoop_mailchimp.mailchimp import members
from shoop_mailchimp.mailchimp.members import address_key
from shoop_mailchimp.models import ConsentRequest, MailchimpConfiguration, MailchimpLogEntry, SyncKind, SyncState
from shoop_mailchimp.receivers.contacts import (
    CONSENT_SHOP,
    consent_given_again,
    given_request,
    withdrawal_own_only,
    withdrawn_own_only_in,
)
from shoop_mailchimp.shops import (
    address_keys,
    contacts_per_shop,
    orders_with_keys,
    shop_contacts_with_address,
    shop_ids_for_contact,
)
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.delivery import schedule_delivery

SUBSCRIBED = "subscribed"
AWAITING_CONFIRMATION = "awaiting_confirmation"
NOT_SUBSCRIBED = "not_subscribed"
#: Mailchimp mails the address although the shop holds no consent: subscribed on another form.
SUBSCRIBED_ELSEWHERE = "subscribed_elsewhere"
#: Mailchimp cleaned the address (it bounces): it mails nothing there, whatever the shop's consent says.
UNDELIVERABLE = "undeliverable"
#: The shop holds no consent, but Mailchimp mailed the address a link to confirm a subscription (someone typed
#: it into the newsletter block, or into Mailchimp's own form): no newsletter until its owner clicks it.
CONFIRMATION_MAILED = "confirmation_mailed"
#: Mailchimp mailed a link to confirm a subscription longer ago than CONFIRMATION_LIFETIME, and nobody clicked it:
#: subscribing again has a fresh one mailed.
CONFIRMATION_LAPSED = "confirmation_lapsed"
#: The shop holds the shopper's consent, but a marketer archived their member in Mailchimp: no newsletter goes
#: to them until they subscribe again (a consent given again brings the member back).
ARCHIVED = "archived"
#: The shopper's account has no e-mail address: no newsletter can reach them, whatever they choose.
NO_ADDRESS = "no_address"
#: Consent given while the shop sends nothing to Mailchimp (disconnected, paused, "Send changes" unticked): nothing
#: was sent yet, no subscription made and no link mailed.
RECORDED = "recorded"
#: Consent withdrawn while the shop sends nothing to Mailchimp, for a member Mailchimp holds subscribed: the
#: newsletter may still come until the shop sends again.
UNSUBSCRIBE_RECORDED = "unsubscribe_recorded"

#: Where the shopper made the choice, as the log says it.
NEWSLETTER_BLOCK = "in the newsletter block"
REGISTRATION = "on the registration form"
ACTIVATION = "on the registration form (the account activated since)"
#: The log entry of a box ticked on the registration form of an account not activated yet: its consent is recorded
#: at the activation (see :func:`subscribe_after_activation`).
AWAITING_ACTIVATION = "storefront.awaiting_activation"
#: The log entry that uses up the ``AWAITING_ACTIVATION`` entries before it: their consent was recorded.
ACTIVATION_USED = "storefront.activation_consent"
ACCOUNT_PAGE = "on the account page"

ADDRESS_LOCK = "shoop_mailchimp:signup-recording:%s:%s"
#: Longer than recording one address takes; the lock is released as soon as it is done.
ADDRESS_LOCK_SECONDS = 30

#: Member statuses from which a new consent reaches Mailchimp as ``pending`` whatever the configuration.
CONFIRMATION_NEEDED_FROM = (members.PENDING, members.UNSUBSCRIBED, members.CLEANED)


def double_opt_in(shop):
    return MailchimpConfiguration.objects.filter(shop=shop, double_opt_in=True).exists()


def subscribe_address(shop, email, first_name="", last_name=""):
    """A subscription asked for with an address alone (the newsletter block): a new person who consents, or,
    for the contacts of the shop with that address, a confirmation their owner must give (see above); for the
    address of a guest buyer (an order of the shop has it, no contact does), a new person who does not consent yet,
    whose owner confirms. The
    names fill only a new person: an anonymous form must not rename a customer.

    A second request for the same address while one is being recorded (a double click) records nothing:
    both would find no contact and create two people.
    """
    lock = ADDRESS_LOCK % (shop.pk, hashlib.sha256(address_key(email).encode("utf-8")).hexdigest())
    if not cache.add(lock, True, ADDRESS_LOCK_SECONDS):
        return
    try:
        with transaction.atomic():
            # Any spelling of the address Mailchimp gets as the same one (letter case, a domain in Unicode or
            # punycode, decomposed, a fullwidth letter), stored or typed: their address keys compared.
            contacts = list(shop_contacts_with_address(shop.pk, email))
            if not contacts and orders_with_keys(address_keys([email]), Order.objects.filter(shop=shop)).exists():
                # A guest buyer's address, which the shop knows from their orders though it has no contact of it:
                # a new person who has not consented, whose owner confirms (whether Mailchimp holds the buyer yet
                # or not: the order may be sent after this press). Nor the names nor the page's language typed with
                # it: the buyer's member, if Mailchimp holds it, must not be renamed by an anonymous form.
                person = _new_person(shop, email, "", "", False, language="")
                contacts = [person]
            elif not contacts:
                person = _new_person(shop, email, first_name, last_name, True)
                _log_choice(shop, person, True, NEWSLETTER_BLOCK)
                # A consent just given: sent as a change even where the address is already in the audience, where
                # its owner is asked to confirm it (ConsentRequest.SIGNUP).
                if state.request_consent_change(shop.pk, SyncKind.CONTACT, [person.pk], ConsentRequest.SIGNUP):
                    schedule_delivery(shop.pk)
            subscribed = set(SyncState.objects.filter(
                shop=shop, kind=SyncKind.CONTACT, object_id__in=[contact.pk for contact in contacts],
                member_status=members.SUBSCRIBED).values_list("object_id", flat=True))
            # Nothing to ask of someone who consents and is subscribed; anyone else confirms by e-mail.
            withheld = shop_consent.withheld(shop.pk, [contact.pk for contact in contacts])
            confirm = [contact for contact in contacts if not (
                contact.marketing_permission and contact.pk not in withheld and contact.pk in subscribed)]
            for contact in confirm:
                log_event(shop.pk, "storefront.confirm", "Subscription asked for %s: Mailchimp mails the address "
                          "a confirmation link, and the consent is recorded when its owner confirms."
                          % NEWSLETTER_BLOCK, contact_id=contact.pk)
            # A stranger's press never replaces what the shopper asked for themselves and is not sent yet.
            if confirm and state.request_consent_change(shop.pk, SyncKind.CONTACT, [contact.pk for contact in confirm],
                                                        ConsentRequest.CONFIRM, unless=(
                                                            ConsentRequest.UNSUBSCRIBE,) + ConsentRequest.GIVEN):
                schedule_delivery(shop.pk)
    finally:
        cache.delete(lock)


def _new_person(shop, email, first_name, last_name, permission, language=None):
    """A person for an address typed into the block, in the language of the page the shopper signed up on
    (Mailchimp's e-mails to them follow it) unless ``language`` says otherwise. A consent counts in this shop only
    (see shoop_mailchimp.shop_consent): the other shops sharing the contact do not take a stranger's press for their
    own subscriber's consent."""
    person = PersonContact(email=email, first_name=first_name, last_name=last_name, marketing_permission=permission,
                           language=get_language() if language is None else language)
    if permission:
        setattr(person, CONSENT_SHOP, shop.pk)
    person.save()
    person.add_to_shop(shop)
    return person


def subscribe_person(shop, contact, where):
    """A logged-in shopper (account page, registration) consents for their own contact. Consenting already,
    with the confirmation link lapsed, they are mailed a fresh one. The consent is sent as given only for an
    address the shopper proved theirs (the account activated through the link mailed to it, and the address not
    changed since): for another, a member Mailchimp already holds of it (a guest buyer) is asked to confirm first,
    as in the newsletter block (see :func:`shoop_mailchimp.receivers.contacts.given_request`)."""
    status = newsletter_status(shop, contact)
    if status == ARCHIVED:
        # Consenting already, the member archived: a consent given again is sent, and brings the member back
        # (as given where the address is proven its owner's; see given_request).
        _log_choice(shop, contact, True, where)
        if state.request_consent_change(shop.pk, SyncKind.CONTACT, [contact.pk], given_request(contact),
                                        unless=(ConsentRequest.UNSUBSCRIBE,)):
            schedule_delivery(shop.pk)
        return
    if (contact.marketing_permission and shop_consent.consents_in(shop.pk, contact)
            and status == CONFIRMATION_LAPSED):
        log_event(shop.pk, "storefront.confirm", "The shopper asked again %s after the confirmation link lapsed: "
                  "Mailchimp mails a fresh one." % where, contact_id=contact.pk)
        if state.request_consent_change(shop.pk, SyncKind.CONTACT, [contact.pk], ConsentRequest.CONFIRM,
                                        unless=(ConsentRequest.UNSUBSCRIBE,) + ConsentRequest.GIVEN):
            schedule_delivery(shop.pk)
        return
    with transaction.atomic():
        # Where Shuup manages contacts per shop, a shopper whose contact is not yet one of this shop's (their account
        # registered in another shop, or by the staff) joins it, as a first checkout or registration here makes
        # them: a consent given in a shop the contact is not in would be recorded and never sent.
        joining = contacts_per_shop() and not contact.shops.filter(pk=shop.pk).exists()
        if joining and contact.marketing_permission:
            contact.add_to_shop(shop)  # first: the consent given in this shop too finds the shop the contact's
            joining = False
        _set_consent(shop, contact, True, where)
        if joining:
            # After the save that gave the consent: the shop joined sends it as given there
            # (receivers.contacts.contact_shops_changed).
            contact.add_to_shop(shop)


def address_unproven(contact):
    """Whether a consent the shopper gives for the contact is sent as one typed into the newsletter block (their
    address not proven theirs): a member Mailchimp holds of the address is asked to confirm first."""
    return given_request(contact) == ConsentRequest.SIGNUP


def await_activation(shop, contact, where):
    """The shopper ticked the box on the registration form of an account that is inactive until they click the
    activation link mailed to its address: nothing is recorded but the wish (the log), until then."""
    log_event(shop.pk, AWAITING_ACTIVATION, "The shopper asked for the newsletter %s: the consent is recorded when "
              "they activate their account (its link, mailed to the address, proves it is theirs)." % where,
              contact_id=contact.pk)


def subscribe_after_activation(contact):
    """The account was activated: the newsletter asked for at its registration is subscribed, in each shop where
    it was asked for. The wish is used up then (an ``ACTIVATION_USED`` entry follows it in the log): an account or
    company activated again later (a credit hold lifted) subscribes nobody who unsubscribed since."""
    with transaction.atomic():
        asked = {}
        for shop_id, entry_id, asked_on in MailchimpLogEntry.objects.filter(
                action=AWAITING_ACTIVATION, contact_id=contact.pk).values_list("shop_id", "pk", "created_on"):
            if entry_id > asked.get(shop_id, (0, None))[0]:
                asked[shop_id] = (entry_id, asked_on)
        used = {}
        for shop_id, entry_id in MailchimpLogEntry.objects.filter(
                action=ACTIVATION_USED, contact_id=contact.pk).values_list("shop_id", "pk"):
            used[shop_id] = max(entry_id, used.get(shop_id, 0))
        waiting = {shop_id: asked_on for shop_id, (entry_id, asked_on) in asked.items()
                   if entry_id > used.get(shop_id, 0)}
        for shop in Shop.objects.filter(pk__in=list(waiting)):
            if _said_no_since(shop.pk, contact, waiting[shop.pk]):
                log_event(shop.pk, ACTIVATION_USED, "The account was activated; the newsletter asked for at its "
                          "registration is not subscribed: the address unsubscribed (or bounced) since.",
                          contact_id=contact.pk)
                continue
            log_event(shop.pk, ACTIVATION_USED, "The account was activated: the newsletter asked for at its "
                      "registration becomes the shopper's consent (once).", contact_id=contact.pk)
            subscribe_person(shop, contact, ACTIVATION)


def _said_no_since(shop_id, contact, asked_on):
    """Whether Mailchimp told the shop, after the registration's wish (``asked_on``), that the contact's address
    unsubscribed or bounced: a later no than the wish, which it overrides. Mailchimp's times have whole seconds: a
    no of the wish's second counts as later."""
    return SyncState.objects.contacts().filter(
        shop_id=shop_id, object_id=contact.pk, member_status__in=(members.UNSUBSCRIBED, members.CLEANED),
        mailchimp_fact_at__gte=asked_on.replace(microsecond=0)).exists()


def withdraw_consent(shop, contact):
    """The address says no: the shopper's contact and any other contact of the shop with the same address
    stop consenting, so that no record of the shop still claims a consent the person withdrew; and Mailchimp
    unsubscribes the member even where the shop never sent a consent (they subscribed on another form).

    Unless the shopper never proved the address theirs and the address's subscription is not one their consent made
    (:func:`~shoop_mailchimp.receivers.contacts.withdrawal_own_only`: another contact of the shop who proved the
    address consents, or someone else subscribed the member: Mailchimp's own form, the staff, a guest buyer's
    box): anyone can register an account with a subscriber's address, so such a press withdraws the shopper's own
    consent only. The member stays as it is and
    the other contacts keep theirs (in each shop where the rule holds, the shopper's row is told its consent is no
    longer the member's to withdraw); every letter Mailchimp sends carries an unsubscribe link for the mailbox's
    owner. The same rule holds for Shuup's *Customer
    Information* page saved with the box unticked (see
    :func:`~shoop_mailchimp.receivers.contacts.contact_saved`). Returns whether the press unsubscribes the address
    (False: the shopper's own consent only)."""
    with transaction.atomic():
        # Decided before the withdrawal is recorded (the rule reads the consent the row last sent).
        own_only = withdrawn_own_only_in(contact, [shop.pk] + [
            other for other in shop_ids_for_contact(contact) if other != shop.pk])
        _set_consent(shop, contact, False, ACCOUNT_PAGE)
        state.withdrawal_not_the_members(own_only, SyncKind.CONTACT, contact.pk)
        if shop.pk in own_only:
            proven = own_only[shop.pk]
            log_event(shop.pk, "storefront.unsubscribe", "The shopper's own consent only: %s; the member was left as "
                      "it is (this shopper never proved the address theirs)." % (
                          "contact %d, whose owner proved the address theirs, consents" % proven if proven else
                          "the address's subscription is not one this contact's consent made"),
                      contact_id=contact.pk)
            return False
        others = list(shop_contacts_with_address(shop.pk, contact.email).exclude(pk=contact.pk)) \
            if contact.email else []
        for other in others:
            if other.marketing_permission:
                other.marketing_permission = False
                other.save(update_fields=["marketing_permission"])
                # Not claimed as this contact's own choice: the shop does not verify that an account's address
                # is its owner's.
                log_event(shop.pk, "storefront.unsubscribe", "Consent withdrawn: the shopper of contact %d, who "
                          "has the same address, unsubscribed on the account page." % contact.pk,
                          contact_id=other.pk)
        if state.request_consent_change(shop.pk, SyncKind.CONTACT, [contact.pk] + [other.pk for other in others],
                                        ConsentRequest.UNSUBSCRIBE):
            schedule_delivery(shop.pk)
        return True


def _set_consent(shop, contact, permission, where):
    """Change the shop's consent (the save records it for the sync; see :mod:`shoop_mailchimp.receivers.contacts`).
    A consent given here counts in this shop only (see :mod:`shoop_mailchimp.shop_consent`); a withdrawal, in
    every shop."""
    if contact.marketing_permission != permission:
        contact.marketing_permission = permission
        if permission:
            setattr(contact, CONSENT_SHOP, shop.pk)
        contact.save(update_fields=["marketing_permission"])
        _log_choice(shop, contact, permission, where)
    elif permission and not shop_consent.consents_in(shop.pk, contact):
        # Consent given in another shop only: now given in this one too.
        consent_given_again(contact, shop.pk)
        _log_choice(shop, contact, permission, where)


def _log_choice(shop, contact, permission, where):
    action, message = ("storefront.subscribe", "The shopper gave consent %s.") if permission else (
        "storefront.unsubscribe", "The shopper withdrew consent %s.")
    log_event(shop.pk, action, message % where, contact_id=contact.pk)


def held_back(shop):
    """Whether the shop sends Mailchimp nothing now (disconnected, paused, switched off, or no Mailchimp set up at
    all): what the shopper chooses waits for a send, and no subscription is claimed made."""
    configuration = MailchimpConfiguration.objects.filter(shop=shop).first()
    return configuration is None or not configuration.is_active


def newsletter_status(shop, contact):
    """What the shopper is told on their account page: subscribed, waiting for their confirmation (Mailchimp
    mailed a link, or will: double opt-in, consent given on the newsletter block, or given again after an
    unsubscribe), recorded (consent given while the shop sends nothing: no subscription or link yet), an
    unsubscribe recorded (withdrawn while the shop sends nothing: Mailchimp still holds the member subscribed),
    subscribed on another form (Mailchimp mails them without the shop's consent), a confirmation link mailed
    without their consent (someone typed their address into a sign-up form), undeliverable (the address
    bounces: no link or newsletter reaches it), archived by a marketer though consenting, a confirmation link that
    lapsed, no e-mail address, or not subscribed. Nothing is claimed done that waits for a
    send the shop does not make now."""
    if not (contact.email or "").strip():
        return NO_ADDRESS
    member_status, request, consent_sent, link_sent_at, requested_at = SyncState.objects.filter(
        shop=shop, kind=SyncKind.CONTACT, object_id=contact.pk).values_list(
        "member_status", "consent_request", "opt_in", "confirmation_sent_at", "consent_requested_at",
    ).first() or ("", "", None, None, None)
    if member_status == members.CLEANED:
        return UNDELIVERABLE
    lifetime = timedelta(seconds=get_setting("CONFIRMATION_LIFETIME"))
    if consent.confirmation_lapsed(member_status, link_sent_at, timezone.now(), lifetime) and not (
            request != ConsentRequest.UNSUBSCRIBE
            and consent.fresh_link_due(member_status, link_sent_at, requested_at, timezone.now(), lifetime)):
        return CONFIRMATION_LAPSED  # unless a fresh link was asked for since: it goes with the next send
    if not shop_consent.consents_in(shop.pk, contact):
        withdrawn_unsent = request == ConsentRequest.UNSUBSCRIBE or bool(consent_sent)
        if member_status == members.SUBSCRIBED and withdrawn_unsent and held_back(shop):
            return UNSUBSCRIBE_RECORDED
        if request != ConsentRequest.UNSUBSCRIBE and member_status == members.SUBSCRIBED:
            if withdrawal_own_only(shop.pk, contact):
                # The address's subscription is not this account's (its owner never proved the address theirs, and
                # another customer who did consents, or someone else subscribed the member): its Unsubscribe
                # withdraws its own consent only.
                return NOT_SUBSCRIBED
            return SUBSCRIBED_ELSEWHERE
        if request != ConsentRequest.UNSUBSCRIBE and member_status == members.PENDING:
            return CONFIRMATION_MAILED  # not subscribed anywhere: a pending member is mailed no newsletter
        return NOT_SUBSCRIBED
    if member_status == members.SUBSCRIBED:
        return SUBSCRIBED
    if member_status == members.ARCHIVED and request not in ConsentRequest.GIVEN:
        return ARCHIVED  # (a consent given again goes with the next send: below)
    if member_status != members.PENDING and held_back(shop):
        return RECORDED  # the consent goes with the next send, once the shop sends again
    if member_status in CONFIRMATION_NEEDED_FROM or request == ConsentRequest.CONFIRM or double_opt_in(shop) or (
            request == ConsentRequest.SIGNUP and member_status == members.TRANSACTIONAL):
        # (a consent from an address not proven the shopper's, for a member Mailchimp holds: its owner confirms)
        return AWAITING_CONFIRMATION  # a pending member was mailed its link; otherwise it goes with the next send
    return SUBSCRIBED
