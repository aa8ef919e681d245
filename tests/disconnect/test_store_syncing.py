"""The store's ``is_syncing`` around a disconnect and a reconnect: a store created again gets the shop's history as
an import (no order e-mail for old orders), and an import cut short by a Disconnect leaves no store marked
``is_syncing`` for good (review aud13)."""
import pytest

from shoop_mailchimp.models import (
    BatchStatus,
    JobKind,
    JobStatus,
    MailchimpBatch,
    MailchimpConfiguration,
    MailchimpJob,
    SyncState,
)
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.rounds import run_due_work
from tests.admin.conftest import post_shop_form, url
from tests.helpers import new_person, place_order, row_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def test_old_orders_sent_again_to_the_recreated_store_mail_no_order_notifications(
        settings, admin_client, connected, mailchimp_account):
    """With order notifications on, a customer got their confirmation when they ordered. The admin disconnects,
    deletes the store (second confirmation), and reconnects: Initialize creates the store again and queues every
    old order "as never sent" (kinds.requeue_for_new_store) through the normal drainer, without marking the store
    ``is_syncing`` as an import does. Mailchimp then mails every customer an order confirmation / invoice for
    orders they placed long ago."""
    emulator, api_key, _list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    MailchimpConfiguration.objects.filter(pk=connected.pk).update(send_order_notifications=True)
    person = new_person()
    place_order(connected.shop, person)
    run_due_work()
    before = len(emulator.notifications(api_key))
    assert before > 0, "the new order's notification (test set-up: notifications on)"
    assert admin_client.post(url("disconnect"), {}).status_code == 302
    run_due_work()
    assert admin_client.post(url("disconnect"), {"mailchimp_delete_store_id": connected.store_id}).status_code == 302
    run_due_work()
    assert emulator.get_store(api_key, connected.store_id) is None
    assert post_shop_form(admin_client, connected.shop, initialize="1").status_code == 302
    run_due_work()
    run_due_work()
    assert emulator.get_store(api_key, connected.store_id) is not None
    assert len(emulator.orders(api_key, connected.store_id)) == 1, "the old order is in the new store (set-up)"
    again = emulator.notifications(api_key)[before:]
    assert again == [], "old orders re-sent to the re-created store mailed customers again: %s" % again
    # Once the history is in, the store notifies again: a new order mails its customer.
    assert emulator.get_store(api_key, connected.store_id)["is_syncing"] is False
    assert not MailchimpConfiguration.objects.get(pk=connected.pk).store_syncing
    place_order(connected.shop, person)
    run_due_work()
    assert [note["order_id"] for note in emulator.notifications(api_key)[before:]] == ["2"]


def test_old_orders_sent_to_a_store_recreated_after_it_vanished_mail_no_order_notifications(
        settings, admin_client, connected, mailchimp_account):
    """Same path without a disconnect: the store was deleted in Mailchimp (by hand, or by another tool) and the
    admin presses Initialize again. The log says "The store was missing in Mailchimp: ... queued to be sent
    again"; every old order then mails its customer an order confirmation once more."""
    emulator, api_key, _list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    MailchimpConfiguration.objects.filter(pk=connected.pk).update(send_order_notifications=True)
    place_order(connected.shop, new_person())
    run_due_work()
    before = len(emulator.notifications(api_key))
    assert before > 0
    emulator.delete_store(api_key, connected.store_id)
    assert post_shop_form(admin_client, connected.shop, initialize="1").status_code == 302
    run_due_work()
    run_due_work()
    assert len(emulator.orders(api_key, connected.store_id)) == 1, "the old order is in the new store (set-up)"
    again = emulator.notifications(api_key)[before:]
    assert again == [], "old orders re-sent to the re-created store mailed customers again: %s" % again
    assert emulator.get_store(api_key, connected.store_id)["is_syncing"] is False


def test_a_disconnect_during_an_import_does_not_leave_the_kept_store_is_syncing_for_ever(
        settings, admin_client, connected, mailchimp_account):
    """The shop imports its history: the store is ``is_syncing`` in Mailchimp (no order e-mails, no automations).
    The admin presses Disconnect (keeping the store). stop_sending() clears ``store_syncing`` in the database only;
    the disconnect job never tells Mailchimp, and Initialize (reconnect, store kept) does not either. The marketer
    finds the store's abandoned-cart and order automations silently dead after the reconnect, for ever."""
    emulator, api_key, _list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BATCH_POLL_INTERVAL=3600)
    people = [new_person() for _ in range(3)]
    # Never seen by the sync, as in a shop connecting years of customers (as tests/disconnect/test_disconnect.py).
    SyncState.objects.filter(kind="contact", object_id__in=[person.pk for person in people]).delete()
    run_due_work()
    rows, batches = bulk.start(connected.shop_id)  # an import has begun: its batch is open
    assert batches == 1
    assert emulator.get_store(api_key, connected.store_id)["is_syncing"] is True
    assert admin_client.post(url("disconnect"), {}).status_code == 302
    run_due_work()  # worker mode: the disconnect job
    assert MailchimpBatch.objects.get().status == BatchStatus.CANCELLED
    assert emulator.get_store(api_key, connected.store_id)["is_syncing"] is False, "told at the disconnect"
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    assert configuration.disconnected_on is not None
    # Reconnect: "Save and initialize Mailchimp", then the shop runs normally.
    assert post_shop_form(admin_client, configuration.shop, initialize="1").status_code == 302
    new_person()
    run_due_work()
    run_due_work()
    configuration.refresh_from_db()
    assert configuration.is_active
    assert emulator.get_store(api_key, connected.store_id)["is_syncing"] is False, (
        "the kept store stays is_syncing in Mailchimp after disconnect + reconnect: no automations, no order e-mails")


def test_a_store_not_told_at_the_disconnect_is_told_at_the_reconnect(settings, admin_client, connected,
                                                                     mailchimp_account):
    """Mailchimp refuses the disconnect's PATCH for a moment: the disconnect says so, and the reconnect tells it."""
    emulator, api_key, _list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BATCH_POLL_INTERVAL=3600)
    people = [new_person() for _ in range(2)]
    SyncState.objects.filter(kind="contact", object_id__in=[person.pk for person in people]).delete()
    run_due_work()
    assert bulk.start(connected.shop_id)[1] == 1
    emulator.faults.fail("/ecommerce/stores/*", status=503, method="PATCH", times=1)
    assert admin_client.post(url("disconnect"), {}).status_code == 302
    run_due_work()
    job = MailchimpJob.objects.filter(kind=JobKind.DISCONNECT).get()
    assert job.status == JobStatus.FAILED and "no longer imports its history" in job.message, job.message
    assert emulator.get_store(api_key, connected.store_id)["is_syncing"] is True
    assert post_shop_form(admin_client, connected.shop, initialize="1").status_code == 302
    run_due_work()
    run_due_work()
    assert emulator.get_store(api_key, connected.store_id)["is_syncing"] is False
    assert not MailchimpConfiguration.objects.get(pk=connected.pk).store_syncing
    assert all(row_of(person).status == "synced" for person in people)


def test_an_import_of_orders_cut_by_a_disconnect_goes_on_at_the_reconnect_without_order_e_mails(
        settings, admin_client, connected, mailchimp_account):
    """The rest of an import the disconnect stopped is sent at the reconnect with the store ``is_syncing`` again:
    the old orders mail no confirmation; then the store notifies again."""
    emulator, api_key, _list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BATCH_POLL_INTERVAL=3600)
    MailchimpConfiguration.objects.filter(pk=connected.pk).update(send_order_notifications=True)
    people = [new_person() for _ in range(2)]
    for person in people:
        place_order(connected.shop, person)
    SyncState.objects.filter(shop=connected.shop).delete()  # never seen: history from before Mailchimp
    run_due_work()
    assert bulk.start(connected.shop_id, include_orders=True)[1] >= 2
    assert admin_client.post(url("disconnect"), {}).status_code == 302
    run_due_work()
    assert emulator.get_store(api_key, connected.store_id)["is_syncing"] is False
    assert post_shop_form(admin_client, connected.shop, initialize="1").status_code == 302
    run_due_work()
    run_due_work()
    assert len(emulator.orders(api_key, connected.store_id)) == 2
    assert emulator.notifications(api_key) == []
    assert emulator.get_store(api_key, connected.store_id)["is_syncing"] is False
    place_order(connected.shop, people[0])
    run_due_work()
    assert len(emulator.notifications(api_key)) == 1
