"""Initialization: check the account and audience, create the store and the group interests, register
the webhook. Runs as a job in the drainer (the admin's button queues it); safe to run again: it finds
what exists and creates only what is missing.
"""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import ugettext as _

from shoop_mailchimp import reconciliation, sites
from shoop_mailchimp.connected_site import link_connected_site, site_domain
from shoop_mailchimp.journal import Journal
from shoop_mailchimp.mailchimp import resources
from shoop_mailchimp.mailchimp.errors import MailchimpError, MailchimpNotFound
from shoop_mailchimp.mailchimp.transport import open_session
from shoop_mailchimp.merge_field_setup import read_merge_fields
from shoop_mailchimp.models import LogKind, MailchimpConfiguration, SyncKind
from shoop_mailchimp.sync import kinds, state
from shoop_mailchimp.sync.kinds import contact
from shoop_mailchimp.sync.kinds.contact import erasures_not_sent, forget_audience
from shoop_mailchimp.sync.kinds.group import MAX_INTERESTS, ensure_group_interests, interest_groups
from shoop_mailchimp.sync.transport.direct import drive
from shoop_mailchimp.webhook_registration import register_webhook

#: The configuration fields Initialize writes at its end (an admin's settings saved meanwhile are kept); when it
#: moves the store to another audience, also what it forgets of the old one (see :func:`_initialize`).
INITIALIZE_OWNS = (
    "site", "site_from_setting", "store_id", "site_script_url", "interest_category_id", "paused_reason",
    "disconnected_on", "initialized_on", "members_list_id", "store_deleted_on", "account_checked_on",
    "account_problem", "modified_on",
)


class InitializationError(Exception):
    """Initialization stopped; the message says why in the shop owner's terms."""


def store_payload(shop, store_id, list_id):
    payload = {
        "id": store_id,
        "list_id": list_id,
        # In any language: a shop named in Finnish only is still initialized by a worker running in English.
        "name": (shop.safe_translation_getter("public_name", any_language=True)
                 or shop.safe_translation_getter("name", any_language=True) or "Shop %s" % shop.pk),
        "currency_code": shop.currency,
        "platform": "Shuup",
    }
    domain = site_domain(shop)  # the storefront's host, as the connected site's
    if domain:
        payload["domain"] = domain
    if shop.contact_address and shop.contact_address.email:
        payload["email_address"] = shop.contact_address.email
    return payload


def shop_label(shop):
    """A shop as its staff knows it: its name (in any language) and id."""
    name = shop.safe_translation_getter("name", any_language=True) or shop.identifier or ""
    return "%s (%s)" % (name, shop.pk) if name else str(shop.pk)


def audience_taken_message(list_id, holder):
    """Why this shop cannot be connected to the audience ``list_id``: it serves the shop of ``holder``."""
    return _("The audience %(list)s already serves the shop %(shop)s of this installation: an audience serves "
             "one shop (the two shops would overwrite each other's total spent, tags and other facts of a person "
             "both have). Choose another audience for this shop.") % {
        "list": list_id, "shop": shop_label(holder.shop)}


def initialize(configuration, user=None):
    """Run initialization for a shop's configuration; raises :class:`InitializationError`."""
    journal = Journal(configuration.shop_id, user=user)
    try:
        _initialize(configuration, journal)
    except MailchimpError as error:
        journal.error("initialize", error)
        raise InitializationError(str(error)) from error
    except InitializationError as error:
        journal.add("initialize", str(error), kind=LogKind.ERROR)
        raise
    finally:
        journal.flush()
    return configuration


def _read_old_audience(session, configuration, old_list_id, journal):
    """The unsubscribes (and bounces) of the old audience's members the shop missed are applied before it forgets
    that audience (:func:`shoop_mailchimp.reconciliation.read_audience_left`): clicked while the shop was
    disconnected (its webhook deleted with the store), they withdraw the shop's consent, which the new audience
    then gets. An old audience gone (deleted with its members) has nothing to tell."""
    try:
        reconciliation.read_audience_left(configuration, session, old_list_id)
    except MailchimpNotFound:
        journal.add("reconcile", "The audience %s the shop leaves no longer exists in Mailchimp: none of its "
                    "members' unsubscribes could be read before the move" % old_list_id, kind=LogKind.WARNING)


def _erase_in_old_audience(session, configuration, old_list_id, journal):
    """The erasures recorded while disconnected were of the old audience's members (the shop never sent these
    people to the new one): they are done there by the erasure's own rules (:func:`contact.erase_members_in`: the
    member at the contact's address, at an address a lost send noted, those it left), never in the new audience,
    where a member of the address is someone's own sign-up. When the old audience is gone (deleted with its
    members), there is nothing left to erase and they are dropped, each with a log entry saying why; a member's
    step Mailchimp refuses for good is an error in the log, and the other steps go on. Either way
    :func:`forget_audience` then forgets their addresses."""
    erasures = erasures_not_sent(configuration.shop_id)
    if not erasures:
        return
    try:
        resources.get_list(session, old_list_id)
    except MailchimpNotFound:
        for contact_id in sorted(erasures):
            journal.add("member.delete_permanent", "Erasure not sent: the audience %s it was recorded for no longer "
                        "exists in Mailchimp (deleted with its members; or it is in an account the shop's key does "
                        "not reach), and the shop never sent the person to the new audience %s"
                        % (old_list_id, configuration.list_id),
                        kind=LogKind.WARNING, contact_id=contact_id)
        return
    where = " (in the audience %s the erasure was recorded for, not in the new audience %s)" % (
        old_list_id, configuration.list_id)
    for contact_id in sorted(erasures):
        def log(action, message, contact_id=contact_id, **fields):
            journal.add(action, message + where, contact_id=contact_id, **fields)

        # A refusal for good of a member's step is logged (an error) and the others go on; a passing failure
        # stops Initialize before it forgets anything: pressed again, it tries again.
        drive(session, contact.erase_members_in(configuration, old_list_id, erasures[contact_id], log))


def _read_merge_fields(session, configuration, journal):
    """The audience's merge fields, read as Initialize connects the shop: the shop page offers their mapping at once,
    and the defaults (PHONE, BIRTHDAY, ADDRESS where the audience has them) are sent from the first send (review
    nu57 F1: nothing read them until the shop form was saved). A failed read stops nothing: saving the shop page
    reads them again."""
    try:
        read_merge_fields(configuration, session)
    except MailchimpError as error:
        journal.add("merge_fields.read", "Could not read the audience's merge fields (%s): save the shop page to read "
                    "them again" % error, kind=LogKind.WARNING)


def _initialize(configuration, journal):
    if not (configuration.has_api_key and configuration.list_id):
        raise InitializationError("Set the API key and the audience (list) id first.")
    holder = configuration.audience_holder(configuration.list_id)
    if holder is not None:
        raise InitializationError(audience_taken_message(configuration.list_id, holder))
    shop = configuration.shop
    loaded_disconnected_on = configuration.disconnected_on
    # Initializing here makes this the configuration's site (see shoop_mailchimp.sites); saved below.
    configuration.site, configuration.site_from_setting = configuration.site_here, sites.named_by_setting()
    with open_session(configuration) as session:
        resources.ping(session)
        journal.add("account.ping", "The API key works")
        try:
            audience = resources.get_list(session, configuration.list_id)
        except MailchimpNotFound:
            raise InitializationError(
                "The audience %r does not exist in this Mailchimp account." % configuration.list_id
            )
        journal.add("list.check", "Audience %r (%s) found" % (audience.get("name"), configuration.list_id))

        store_id = configuration.store_id or MailchimpConfiguration.default_store_id(shop)
        disconnected_on = MailchimpConfiguration.objects.filter(pk=configuration.pk).values_list(
            "disconnected_on", flat=True).first()
        if disconnected_on is not None and disconnected_on != loaded_disconnected_on:
            # A Disconnect ran meanwhile (deleting the store, perhaps): no store is created for a disconnected shop.
            raise InitializationError("The shop was disconnected while Initialize ran: nothing more was done. "
                                      "Press Initialize again to reconnect.")
        store = resources.get_or_none(session, resources.store_path(store_id))
        created = store is None
        old_list_id = configuration.members_list_id
        moved = bool(old_list_id) and old_list_id != configuration.list_id
        # A store created again for a shop that sent before gets the shop's history again: as an import, the
        # store ``is_syncing`` until it is in, so that Mailchimp mails no old order again and starts no automation.
        resend = configuration.is_initialized and (created or (moved and bool(configuration.disconnected_on)))
        syncing_since = timezone.now()
        if created:
            payload = store_payload(shop, store_id, configuration.list_id)
            if resend:
                payload["is_syncing"] = True
            store = session.post("ecommerce/stores", payload)
        elif store.get("list_id") and store["list_id"] != configuration.list_id:
            raise InitializationError(
                "The store %r already exists in Mailchimp for another audience (%s)." % (store_id, store["list_id"])
            )
        journal.add("store.create" if created else "store.check",
                    "Store %r %s" % (store_id, "created" if created else "already exists"))
        changes = {}
        if not created and store.get("currency_code") != shop.currency:
            # The shop's currency changed since the store was created (its save queues an Initialize).
            changes["currency_code"] = shop.currency
            journal.add("store.update", "Store %r now in %s (was %s), as the shop" % (
                store_id, shop.currency, store.get("currency_code") or "-"))
        domain = site_domain(shop)
        # The shop's domain changed where no save saw it (a queryset update, a restored dump), or while the shop
        # was disconnected (no FOLLOW_DOMAIN job then): the store follows it here, as the connected site does.
        domain_moved = not created and bool(domain) and store.get("domain") != domain
        if domain_moved:
            changes["domain"] = domain
            journal.add("store.update", "Store %r: its domain is %s now (was %s), as the storefront's" % (
                store_id, domain, store.get("domain") or "-"))
        importing = MailchimpConfiguration.objects.filter(pk=configuration.pk, store_syncing=True).exists()
        if not created and bool(store.get("is_syncing")) != (resend or importing):
            # An import under way (cut short by a disconnect, its rows queued again) goes on with the store marked;
            # a store left marked with no import under way (a disconnect that could not tell Mailchimp, a crash)
            # would send no order e-mail and start no automation for good.
            changes["is_syncing"] = resend or importing
            journal.add("store.update", "Store %r: marked as importing the shop's history again" % store_id
                        if changes["is_syncing"] else "Store %r was still marked as importing history in Mailchimp, "
                        "with no import under way: Mailchimp sends its order e-mails and starts its automations "
                        "again" % store_id, kind=LogKind.INFO if changes["is_syncing"] else LogKind.WARNING)
        if changes:
            session.patch(resources.store_path(store_id), changes)
        # The store is in the audience now; the shop's rows describe the members of the audience it had before
        # (chosen while disconnected, the old store deleted): they are forgotten below, once the erasures
        # recorded for that audience are done there.
        if moved:
            _read_old_audience(session, configuration, old_list_id, journal)
            _erase_in_old_audience(session, configuration, old_list_id, journal)
        configuration.store_id = store_id
        configuration.site_script_url = link_connected_site(session, configuration, store_id, journal) or \
            configuration.site_script_url
        chosen = interest_groups(configuration).count()
        if chosen > MAX_INTERESTS:
            raise InitializationError(
                "An audience takes at most %d interests, and %d contact groups are chosen to become interests: "
                "choose at most %d on the shop's Mailchimp settings." % (MAX_INTERESTS, chosen, MAX_INTERESTS))
        category_id, _created = ensure_group_interests(session, configuration, journal.add)
        _read_merge_fields(session, configuration, journal)

    # Queued before the configuration is saved, outside its transaction (a requeue of many rows never waits for
    # one while holding others): if this stops in between, the next Initialize finds the store and saves.
    if moved:
        forgotten = forget_audience(configuration.shop_id)
        journal.add("audience.move", "The store is in the audience %s now: what the shop knew of the members of "
                    "the audience %s is forgotten, and %d contacts are queued to be sent to the new audience as "
                    "never sent (a withdrawal not yet sent is sent as an unsubscribe)"
                    % (configuration.list_id, old_list_id, forgotten), kind=LogKind.WARNING)
        # Members the new audience changed before the shop sent to it are not drift: reconciliations start here.
        configuration.reconciled_until = None
        # The merge fields the shop created are the old audience's: the new one has none of them to clear.
        configuration.created_merge_fields, configuration.merge_fields_to_clear = None, None
    if domain_moved and configuration.is_initialized:
        # The carts Mailchimp holds link to the old storefront: they go again with links to this one.
        state.rewrite_sent(configuration.shop_id, SyncKind.CART)
    if (created or moved) and configuration.is_initialized and configuration.disconnected_on:
        # A disconnect deleted the store; the audience stayed, and with it what the shop knows of members.
        queued = kinds.requeue_for_new_store(configuration.shop_id)
        journal.add("store.resend", "The store deleted at the disconnect was created again: %d contacts, "
                    "products, orders and promo codes queued to be sent again" % queued)
    elif created and configuration.is_initialized:
        # A re-created store knows none of the customers and orders; the audience is the same (another audience
        # can only be chosen while disconnected), and its members keep their status, consent last sent and tags:
        # a withdrawal not yet sent is still sent as one.
        queued = kinds.requeue_for_new_store(configuration.shop_id)
        journal.add("store.resend", "The store was missing in Mailchimp: %d contacts, products, orders and "
                    "promo codes queued to be sent again" % queued, kind=LogKind.WARNING)
    if resend:
        # Marked after the rows are queued (a round in between finds nothing left to wait for and ends it at once);
        # carts sent since the store was created go again once the history is in (see bulk.finish_store_syncing).
        MailchimpConfiguration.objects.filter(pk=configuration.pk).update(
            store_syncing=True, store_syncing_since=syncing_since)
        journal.add("bulk.store_syncing", "The store's history is sent again as an import: Mailchimp sends no "
                    "order e-mail and starts no automation for it, until it is all in")
    with transaction.atomic():
        # Only the fields Initialize owns are written: what an admin saved meanwhile (double opt-in, the merge
        # field mapping, ...) stays. A Disconnect pressed meanwhile wins: the shop stays disconnected.
        stored = list(MailchimpConfiguration.objects.select_for_update().filter(pk=configuration.pk).values_list(
            "disconnected_on", flat=True))
        if not stored:
            raise InitializationError("The Mailchimp configuration was deleted while Initialize ran.")
        disconnected_meanwhile = stored[0] != loaded_disconnected_on
        configuration.interest_category_id = category_id
        configuration.paused_reason = ""
        if disconnected_meanwhile:
            configuration.disconnected_on = stored[0]
        elif configuration.disconnected_on:
            journal.add("reconnect", "Connected to Mailchimp again after the disconnect of %s"
                        % configuration.disconnected_on.isoformat(timespec="seconds"))
            configuration.disconnected_on = None
        configuration.initialized_on = timezone.now()
        configuration.members_list_id = configuration.list_id
        configuration.store_deleted_on = None
        # Members changed before the shop first sent anything are not drift: reconciliations start here.
        owned = list(INITIALIZE_OWNS)
        if moved:
            owned += ["created_merge_fields", "merge_fields_to_clear"]
        if moved or not configuration.reconciled_until:
            owned.append("reconciled_until")
        if disconnected_meanwhile:  # the DISCONNECT job says whether it deleted the store
            owned.remove("store_deleted_on")
        configuration.reconciled_until = configuration.reconciled_until or configuration.initialized_on
        # Initializing checked the key and the audience too: the shop page need not say a check is under way.
        configuration.account_checked_on, configuration.account_problem = configuration.initialized_on, ""
        configuration.save(update_fields=owned)
    if disconnected_meanwhile:
        raise InitializationError("Disconnect was pressed while Initialize ran: the shop stays disconnected from "
                                  "Mailchimp (press Initialize to connect it again).")
    # Unsubscribes made in Mailchimp reach the shop through the webhook; a failure is logged, not fatal.
    register_webhook(configuration, journal)
    journal.add("initialize", "Initialization finished")
