"""Consent races on PostgreSQL: a contact save (the admin's form, a checkout saving its customer) that loaded the
contact before an unsubscribe webhook committed does not write the withdrawn consent back (see
``receivers.contacts.stored_consent``). SQLite locks the whole database for a write, so the races need PostgreSQL:
the tests run on it through :func:`test_the_consent_races_pass_on_postgresql` (marked ``services``), in a process of
their own with ``--ds tests.services.settings_pg``, and skip elsewhere. Found by review aud11 of issue 19.
"""
import os
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection
from shuup.core.models import Contact, PersonContact

from shoop_mailchimp.sync.drainer import drain
from tests.helpers import new_person
from tests.services.processes import ROOT
from tests.webhooks.helpers import post_event


@pytest.mark.services
@pytest.mark.timeout(600)
def test_the_consent_races_pass_on_postgresql(postgres_port):
    env = dict(os.environ, SHOOP_MAILCHIMP_PG_PORT=str(postgres_port), PYTHONPATH=ROOT)
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--ds", "tests.services.settings_pg",
         "-m", "not services", os.path.relpath(__file__, ROOT)],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    output = finished.stdout.decode()
    assert finished.returncode == 0, output[-5000:]
    assert "2 passed" in output and "skipped" not in output, output[-2000:]


@pytest.fixture
def worker(configuration, settings):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    return configuration


@pytest.fixture
def unsubscribe_webhook_holding_the_row(worker, mailchimp_account, monkeypatch):
    """Starts, for a subscribed contact, Mailchimp's unsubscribe and its webhook in a thread whose transaction, once
    it has withdrawn the consent, stays open 1.5 s (a window of a few milliseconds, widened); returns when the row is
    locked: ``(thread, answers)``, the webhook's status codes in ``answers``."""
    from django.test import Client

    from shoop_mailchimp import member_events
    from shoop_mailchimp.mailchimp.resources import member_path
    from shoop_mailchimp.mailchimp.transport import MailchimpSession

    emulator, api_key, list_id = mailchimp_account
    locked = threading.Event()
    original = member_events.record_withdrawal

    def slow_withdrawal(*args, **kwargs):
        result = original(*args, **kwargs)
        locked.set()
        time.sleep(1.5)  # the webhook's transaction still open, the contact's row locked
        return result

    monkeypatch.setattr(member_events, "record_withdrawal", slow_withdrawal)

    def start(contact):
        assert emulator.get_member(api_key, list_id, contact.email)["status"] == "subscribed"
        with MailchimpSession(api_key) as session:
            session.patch(member_path(list_id, contact.email), {"status": "unsubscribed"})
        answers = []

        def webhook():
            try:
                answers.append(post_event(Client(), worker, "unsubscribe", email=contact.email,
                                          action="unsub").status_code)
            finally:
                connection.close()

        thread = threading.Thread(target=webhook)
        thread.start()
        assert locked.wait(30)
        return thread, answers

    return start


@pytest.mark.django_db(transaction=True)
def test_a_contact_saved_while_an_unsubscribe_webhook_commits_does_not_restore_the_consent(
        worker, mailchimp_account, unsubscribe_webhook_holding_the_row):
    """Vera consents and is subscribed. She unsubscribes in Mailchimp; the webhook's transaction has set her
    marketing permission off and is still writing its rows and log (a few milliseconds; here held for a second).
    Meanwhile the admin saves Vera's new name (or a checkout saves her as its customer): the save's pre_save reads
    the consent the database holds *committed* (on), then its UPDATE waits for the webhook's lock and, once the
    webhook commits, writes marketing_permission=True back. The unsubscribe is undone in the shop: Vera consents
    again without having consented (receivers.contacts.contact_saving's read-then-write is not locked)."""
    if connection.vendor != "postgresql":
        pytest.skip("a row-lock race: PostgreSQL only")
    emulator, api_key, list_id = mailchimp_account
    vera = new_person(permission=True, email="vera.race@fastmail.com")
    drain()
    thread, answers = unsubscribe_webhook_holding_the_row(vera)
    stale = PersonContact.objects.get(pk=vera.pk)
    stale.first_name = "Renamed"
    stale.save()  # as the admin's form: the consent untouched on the instance
    thread.join(30)
    assert answers == [200]
    drain()
    assert Contact.objects.get(pk=vera.pk).marketing_permission is False, (
        "the unsubscribe committed while the save waited for it, and the save wrote the consent back",
        emulator.get_member(api_key, list_id, vera.email)["status"], emulator.confirmations(api_key))


@pytest.mark.django_db(transaction=True)
def test_a_checkout_with_the_box_unticked_while_an_unsubscribe_webhook_commits_does_not_restore_the_consent(
        worker, mailchimp_account, unsubscribe_webhook_holding_the_row):
    """The same race through a checkout: Vera consents; she unsubscribes in Mailchimp and, in the same moment, places
    an order without ticking the box (an unticked box keeps a consent: BOX_UNTICKED). The checkout's save reads the
    consent still committed (on), keeps it on, waits for the webhook's lock and writes it back after the webhook
    committed: Vera consents again, and the worker asks Mailchimp to mail her a confirmation."""
    if connection.vendor != "postgresql":
        pytest.skip("a row-lock race: PostgreSQL only")
    from django.db.transaction import atomic
    from shuup.core.models import OrderLineType, Product
    from shuup.core.order_creator import OrderCreator, OrderSource
    from shuup.testing.factories import (
        create_product,
        create_random_address,
        get_default_supplier,
        get_initial_order_status,
    )

    emulator, api_key, list_id = mailchimp_account
    shop = worker.shop
    vera = new_person(permission=True, email="vera.checkout.race@fastmail.com")
    vera.add_to_shop(shop)
    product = create_product("race-%d" % Product.objects.count(), shop=shop, supplier=get_default_supplier(),
                             default_price=12)
    drain()
    source = OrderSource(shop)
    source.customer = PersonContact.objects.get(pk=vera.pk)  # loaded as the checkout began
    source.billing_address = create_random_address(name="Vera Race")
    source.billing_address.email = vera.email
    source.shipping_address = create_random_address(name="Vera Race")
    source.status = get_initial_order_status()
    source.marketing_permission = False  # the box left unticked
    source.add_line(type=OrderLineType.PRODUCT, product=product, supplier=get_default_supplier(), quantity=1,
                    base_unit_price=source.create_price(12), sku=product.sku, text="Race thing")
    thread, answers = unsubscribe_webhook_holding_the_row(vera)
    with atomic():
        OrderCreator().create_order(source)
    thread.join(30)
    assert answers == [200]
    drain()
    mailed = [item["email_address"] for item in emulator.confirmations(api_key)]
    assert Contact.objects.get(pk=vera.pk).marketing_permission is False and mailed == [], (
        "consent=%s after the unsubscribe; confirmation links mailed to %s" % (
            Contact.objects.get(pk=vera.pk).marketing_permission, mailed))
