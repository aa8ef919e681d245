"""The store's ``is_syncing`` around a disconnect and a reconnect: a store created again gets the shop's history as
an import (no order e-mail for old orders), and an import cut short by a Disconnect leaves no store marked
``is_syncing`` for good (review aud13)."""
import pytest

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.rounds import run_due_work
from tests.admin.conftest import post_shop_form, url
from tests.helpers import new_person, place_order

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
