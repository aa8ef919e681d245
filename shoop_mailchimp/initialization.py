"""Initialization: check the account and audience, create the store and the group interests.

Safe to run again: it finds what exists and creates only what is missing.
"""
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from shoop_mailchimp.journal import Journal
from shoop_mailchimp.mailchimp import interests, lists, stores
from shoop_mailchimp.mailchimp.client import build_client
from shoop_mailchimp.mailchimp.errors import MailchimpError, MailchimpNotFound
from shoop_mailchimp.models import (
    ContactGroupInterest,
    LogKind,
    MailchimpConfiguration,
    SyncKind,
    SyncState,
    SyncStatus,
)
from shoop_mailchimp.sync.delivery import schedule_delivery
from shoop_mailchimp.sync.groups import group_name, shop_groups
from shoop_mailchimp.webhooks import register_webhook


class InitializationError(Exception):
    """Initialization stopped; the message says why in the shop owner's terms."""


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


def _initialize(configuration, journal):
    if not (configuration.api_key and configuration.list_id):
        raise InitializationError("Set the API key and the audience (list) id first.")
    shop = configuration.shop
    client = build_client(configuration)
    try:
        lists.ping(client)
        journal.add("account.ping", "The API key works")
        try:
            audience = lists.get_list(client, configuration.list_id)
        except MailchimpNotFound:
            raise InitializationError(
                "The audience %r does not exist in this Mailchimp account." % configuration.list_id
            )
        journal.add("list.check", "Audience %r (%s) found" % (audience.get("name"), configuration.list_id))

        store_id = configuration.store_id or MailchimpConfiguration.default_store_id(shop)
        store, created = stores.ensure_store(client, stores.store_payload(shop, store_id, configuration.list_id))
        if store.get("list_id") and store["list_id"] != configuration.list_id:
            raise InitializationError(
                "The store %r already exists in Mailchimp for another audience (%s)." % (store_id, store["list_id"])
            )
        journal.add("store.create" if created else "store.check",
                    "Store %r %s" % (store_id, "created" if created else "already exists"))

        category_id = interests.ensure_category(client, configuration.list_id)
        journal.add("interest_category.ensure", "Interest category %r is %s" % (interests.CATEGORY_TITLE, category_id))
        created_interests = _ensure_group_interests(client, configuration, shop, category_id)
        journal.add("interest.ensure", "%d contact group interests created" % created_interests)
    finally:
        client.close()

    with transaction.atomic():
        if created and configuration.is_initialized:
            queued = _send_everything_again(configuration.shop_id)
            journal.add("store.resend", "The store was missing in Mailchimp: %d contacts and orders queued "
                        "to be sent again" % queued, kind=LogKind.WARNING)
        configuration.store_id = store_id
        configuration.interest_category_id = category_id
        configuration.paused_reason = ""
        if configuration.initialized_on is None:
            configuration.initialized_on = timezone.now()
        configuration.save()
    # Unsubscribes made in Mailchimp reach the shop through the webhook; a failure is logged, not fatal.
    register_webhook(configuration, journal)
    journal.add("initialize", "Initialization finished")


def _send_everything_again(shop_id):
    """A re-created store (and the audience it came with) knows none of the customers and orders sent before."""
    rows = SyncState.objects.filter(shop_id=shop_id, kind__in=(SyncKind.CONTACT, SyncKind.ORDER), erase=False)
    queued = rows.update(version=F("version") + 1, status=SyncStatus.PENDING, attempts=0,
                         next_attempt_at=timezone.now(), fingerprint="", last_synced_at=None, last_error="")
    if queued:
        schedule_delivery(shop_id)
    return queued


def _ensure_group_interests(client, configuration, shop, category_id):
    existing = interests.existing_interests(client, configuration.list_id, category_id)
    known = {mapping.group_id: mapping for mapping in ContactGroupInterest.objects.filter(shop=shop)}
    valid_ids = set(existing.values())
    created = 0
    used_names = {mapping.name for mapping in known.values() if mapping.interest_id in valid_ids}
    for group in shop_groups(shop):
        mapping = known.get(group.pk)
        if mapping and mapping.interest_id in valid_ids:
            continue
        name = interests.interest_name(group_name(group.pk), group.pk)
        if name in used_names:
            name = interests.interest_name("%s (%s)" % (name[:90], group.pk), group.pk)
        interest_id = existing.get(name)
        if interest_id is None:
            interest_id = interests.create_interest(client, configuration.list_id, category_id, name)
            created += 1
        used_names.add(name)
        ContactGroupInterest.objects.update_or_create(
            shop=shop, group_id=group.pk, defaults={"interest_id": interest_id, "name": name}
        )
    return created


