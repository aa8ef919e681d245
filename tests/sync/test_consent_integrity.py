"""Consent and data integrity: each case once ended with Mailchimp holding a state the shop did not ask
for (a lost edit, a person subscribed who withdrew or never consented). The concurrent cases run
again on PostgreSQL with real processes in tests/services."""
import itertools
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from shuup.core.models import Contact, Shop

from shoop_mailchimp.initialization import initialize
from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.mailchimp.resources import member_path
from shoop_mailchimp.mailchimp.transport import MailchimpSession, Operation
from shoop_mailchimp.models import (
    ConsentRequest,
    MailchimpConfiguration,
    MailchimpLogEntry,
    SyncKind,
    SyncState,
    SyncStatus,
)
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.drainer import ShopDelivery, drain
from shoop_mailchimp.webhook_registration import SOURCES
from tests.helpers import members_written_by_batches, new_person, place_order, row_of, wait_for
from tests.webhooks.helpers import post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]
_counter = itertools.count(1)


@pytest.fixture
def worker(configuration, settings):
    """Saves only record; the test drains when it wants Mailchimp to hear."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    return configuration

def change_address_in_mailchimp(api_key, list_id, old_email, new_email):
    with MailchimpSession(api_key) as session:
        session.patch(member_path(list_id, old_email), {"email_address": new_email})


def fired(seconds_ago=0):
    return (timezone.now() - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%d %H:%M:%S")


# 1. A change recorded while a worker holds the row is never lost --------------------------------


@pytest.mark.django_db  # no commit needed
def test_every_recorded_change_bumps_the_version_even_of_a_row_that_is_waiting(worker):
    contact = new_person()
    waiting = row_of(contact)
    assert waiting.status == SyncStatus.PENDING and not waiting.claimed_by
    contact.first_name = "Edited"
    contact.save()
    assert row_of(contact).version > waiting.version, "a worker that claimed the waiting row must see it changed"


@pytest.mark.django_db  # no commit needed
def test_an_edit_committed_while_the_row_is_out_is_sent_after_it(worker, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    contact = new_person()
    drain()
    contact.first_name = "Before"
    contact.save()
    rows = state.claim()  # a worker takes the row and reads the contact as it is now ...
    contact.first_name, contact.marketing_permission = "After", False
    contact.save()  # ... while the shop commits a newer change (a withdrawal)
    ShopDelivery(worker.shop_id, Counter()).deliver(rows)
    assert row_of(contact).status == SyncStatus.PENDING, "the stale send does not close the row"
    drain()
    member = emulator.get_member(api_key, list_id, contact.email)
    assert (member["merge_fields"]["FNAME"], member["status"]) == ("After", "unsubscribed")


# 2. A checkout does not undo a withdrawal Mailchimp has not heard of yet --------------------------


@pytest.mark.django_db  # no commit needed
def test_a_checkout_never_restores_consent_withdrawn_before_it(worker, shop, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    contact = new_person(permission=True)
    drain()
    assert emulator.get_member(api_key, list_id, contact.email)["status"] == "subscribed"
    contact.marketing_permission = False
    contact.save()  # withdrawn in the shop; Mailchimp is not told yet (no drain)
    order, _products = place_order(shop, Contact.objects.get(pk=contact.pk))
    assert order.marketing_permission is False
    assert Contact.objects.get(pk=contact.pk).marketing_permission is False
    assert not MailchimpLogEntry.objects.filter(action="consent.kept").exists()
    drain()
    assert emulator.get_member(api_key, list_id, contact.email)["status"] == "unsubscribed"


@pytest.mark.django_db  # no commit needed
def test_a_checkout_that_unticks_the_box_keeps_consent(worker, shop, mailchimp_account):
    """Shuup's OrderCreator copies the unticked box onto the customer: that is not a withdrawal."""
    emulator, api_key, list_id = mailchimp_account
    contact = new_person(permission=True)
    drain()
    order, _products = place_order(shop, Contact.objects.get(pk=contact.pk))
    assert Contact.objects.get(pk=contact.pk).marketing_permission is True
    assert MailchimpLogEntry.objects.get(action="consent.kept").order_id == order.pk
    drain()
    assert emulator.get_member(api_key, list_id, contact.email)["status"] == "subscribed"


# 3. A webhook acts only inside its own shop ------------------------------------------------------


@pytest.mark.django_db  # no commit needed
@override_settings(SHUUP_ENABLE_MULTIPLE_SHOPS=True, SHUUP_MANAGE_CONTACTS_PER_SHOP=True)
def test_a_webhook_of_shop_a_never_touches_a_contact_of_shop_b(client, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    shop_b = Shop.objects.create(identifier="b", name="Shop B", public_name="Shop B", currency="EUR")
    list_b = emulator.add_list(api_key, name="Shop B audience")
    config_b = MailchimpConfiguration.objects.create(shop=shop_b, api_key=api_key, list_id=list_b, enabled=True)
    initialize(config_b)
    contact = new_person(permission=True)
    contact.add_to_shop(shop_b)  # a customer of shop B only
    assert not contact.shops.filter(pk=configuration.shop_id).exists()
    drain()
    assert emulator.get_member(api_key, list_b, contact.email)["status"] == "subscribed"
    # Shop A's audience sends events about the same address.
    assert post_event(client, configuration, "unsubscribe", email=contact.email).status_code == 200
    assert Contact.objects.get(pk=contact.pk).marketing_permission is True
    entry = MailchimpLogEntry.objects.get(shop=configuration.shop, action="webhook.unsubscribe")
    assert "no contact of this shop" in entry.message
    assert emulator.get_member(api_key, list_b, contact.email)["status"] == "subscribed"


# 4. Late and replayed events never win -------------------------------------------------------


@pytest.mark.django_db  # no commit needed
def test_an_event_fired_before_the_newest_fact_is_ignored(client, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    contact = new_person(permission=True)
    assert post_event(client, configuration, "subscribe", email=contact.email, fired_at=fired()).status_code == 200
    # Delivered late: fired five minutes before the subscribe the shop already applied.
    assert post_event(client, configuration, "unsubscribe", email=contact.email,
                      fired_at=fired(300)).status_code == 200
    assert Contact.objects.get(pk=contact.pk).marketing_permission is True
    assert row_of(contact).member_status == "subscribed"
    assert MailchimpLogEntry.objects.filter(action="webhook.stale", contact_id=contact.pk).exists()


def test_an_unsubscribe_older_than_consent_given_again_in_the_shop_is_ignored(client, configuration,
                                                                             mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    contact = new_person(permission=False)
    contact.marketing_permission = True
    contact.save()  # consent given in the shop, sent at once
    assert row_of(contact).consent_sent_at is not None
    assert post_event(client, configuration, "unsubscribe", email=contact.email,
                      fired_at=fired(600)).status_code == 200
    assert Contact.objects.get(pk=contact.pk).marketing_permission is True
    assert emulator.get_member(api_key, list_id, contact.email)["status"] == "subscribed"
    # A replay of a current one does apply.
    assert post_event(client, configuration, "unsubscribe", email=contact.email).status_code == 200
    assert Contact.objects.get(pk=contact.pk).marketing_permission is False


@pytest.mark.django_db(transaction=True)  # a thread of its own reads the test's data
def test_an_unsubscribe_made_while_the_consent_is_being_sent_is_not_taken_for_older(client, worker, monkeypatch,
                                                                                    mailchimp_account):
    """Mailchimp's ``fired_at`` has whole seconds: the consent's time is when it left, not when its send
    ended, or an unsubscribe made between the two looks older than it and is ignored (found by the
    reconciliation chaos test)."""
    emulator, api_key, list_id = mailchimp_account
    contact = new_person(permission=False)
    drain()
    contact.marketing_permission = True
    contact.save()
    emulator.faults.hang(60, path_pattern="*/customers/*", times=1)  # the send ends when the test lets it
    sender = threading.Thread(target=drain)
    sender.start()
    wait_for(emulator, lambda: (emulator.get_member(api_key, list_id, contact.email) or {}).get("status")
             == "subscribed", "the consent reaching Mailchimp")
    with MailchimpSession(api_key) as session:  # the person unsubscribes from the first e-mail at once
        session.patch(member_path(list_id, contact.email), {"status": "unsubscribed"})
    unsubscribed_at = fired()
    wait_for(emulator, lambda: emulator.faults.hangs_begun == 1, "the customer PUT being held")
    # The send ends in a later second than the unsubscribe (fired_at has whole seconds): the clock moves a second.
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(seconds=1))
    emulator.release_hangs()
    sender.join(30)
    assert row_of(contact).status == SyncStatus.SYNCED
    assert post_event(client, worker, "unsubscribe", email=contact.email, fired_at=unsubscribed_at).status_code == 200
    assert Contact.objects.get(pk=contact.pk).marketing_permission is False
    assert not MailchimpLogEntry.objects.filter(action="webhook.stale", contact_id=contact.pk).exists()


# 5. A new e-mail that already has a member -----------------------------------------------------


def test_an_email_changed_to_an_address_already_in_the_audience(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    contact = new_person(permission=True)
    old_email, new_email = contact.email, "taken.%d@fastmail.com" % next(_counter)
    with MailchimpSession(api_key) as session:  # a guest's address, say
        session.run(Operation("PUT", member_path(list_id, new_email),
                              {"email_address": new_email, "status_if_new": "transactional"}))
    contact.email = new_email
    contact.save()
    assert row_of(contact).status == SyncStatus.SYNCED
    assert emulator.get_member(api_key, list_id, old_email)["status"] == "archived", "no longer mailed"
    # The consent follows the person, confirmed by the new address's owner: Shuup does not verify an address
    # typed into an account, and the member there may be someone else's (found by review).
    assert emulator.get_member(api_key, list_id, new_email)["status"] == "pending"
    assert [c["email_address"] for c in emulator.confirmations(api_key)] == [new_email]
    contact.marketing_permission = False
    contact.save()
    assert emulator.get_member(api_key, list_id, new_email)["status"] == "unsubscribed"
    assert emulator.get_member(api_key, list_id, old_email)["status"] == "archived"


# 6. An upemail webhook that arrives while a send is under way ------------------------------------


@pytest.mark.django_db  # no commit needed
def test_an_address_changed_in_mailchimp_during_a_send_is_not_undone(client, worker, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    contact = new_person(permission=True)
    drain()
    old_email, new_email = contact.email, "moved.%d@fastmail.com" % next(_counter)
    contact.first_name = "Renamed"
    contact.save()
    rows = state.claim()  # a worker has the row and is about to send to the old address ...
    change_address_in_mailchimp(api_key, list_id, old_email, new_email)  # ... the person changes it in Mailchimp
    assert post_event(client, worker, "upemail", old_email=old_email, new_email=new_email).status_code == 200
    ShopDelivery(worker.shop_id, Counter()).deliver(rows)  # the send to the old address completes
    assert row_of(contact).email == new_email, "the webhook's fact survives the send's close"
    drain()
    member = emulator.get_member(api_key, list_id, new_email)
    assert (member["status"], member["merge_fields"]["FNAME"]) == ("subscribed", "Renamed")
    stray = emulator.get_member(api_key, list_id, old_email)
    assert stray is None or stray["status"] == "transactional", "the old address is never subscribed again"


# 7. Orders name existing customers by id only ------------------------------------------------------


def test_an_order_of_a_known_customer_carries_only_its_id(client, configuration, shop, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    contact = new_person(permission=True)
    old_email, new_email = contact.email, "new.%d@fastmail.com" % next(_counter)
    change_address_in_mailchimp(api_key, list_id, old_email, new_email)
    assert post_event(client, configuration, "upemail", old_email=old_email, new_email=new_email).status_code == 200
    order, _products = place_order(shop, Contact.objects.get(pk=contact.pk))
    posts = [r for r in emulator.requests if r["method"] == "POST" and r["path"].endswith("/orders")]
    assert posts[-1]["body"]["customer"] == {"id": str(contact.pk)}
    assert [o["id"] for o in emulator.orders(api_key, configuration.store_id)] == [str(order.pk)]
    stray = emulator.get_member(api_key, list_id, old_email)
    assert stray is None or stray["status"] != "subscribed", "no second subscribed member at the old address"


# 8. What a webhook means ---------------------------------------------------------------------------


@pytest.mark.django_db  # no commit needed
def test_an_admin_archiving_a_member_is_not_the_persons_withdrawal(client, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    contact = new_person(permission=True)
    assert post_event(client, configuration, "unsubscribe", email=contact.email, action="delete").status_code == 200
    assert Contact.objects.get(pk=contact.pk).marketing_permission is True
    assert row_of(contact).member_status == "archived"
    assert MailchimpLogEntry.objects.get(action="webhook.archived").contact_id == contact.pk


@pytest.mark.django_db  # no commit needed
def test_the_webhook_listens_to_people_and_admins_not_to_the_api(configuration):
    """The shop's own API writes must not come back as events."""
    assert SOURCES == {"user": True, "admin": True, "api": False}



@pytest.mark.django_db  # no commit needed
def test_a_withdrawal_made_while_the_checkout_ran_is_not_undone_by_it(worker, shop, mailchimp_account):
    """The checkout saves the customer it loaded at its start; staff withdrew consent meanwhile."""
    emulator, api_key, list_id = mailchimp_account
    contact = new_person(permission=True)
    drain()
    checkout_customer = Contact.objects.get(pk=contact.pk)  # the checkout request loads its customer
    staff_copy = Contact.objects.get(pk=contact.pk)
    staff_copy.marketing_permission = False
    staff_copy.save()  # the admin withdraws consent while the checkout runs
    place_order(shop, checkout_customer)  # the box unticked
    assert Contact.objects.get(pk=contact.pk).marketing_permission is False
    assert not MailchimpLogEntry.objects.filter(action="consent.kept").exists()
    drain()
    assert emulator.get_member(api_key, list_id, contact.email)["status"] == "unsubscribed"


@pytest.mark.django_db  # no commit needed
def test_an_unsubscribe_that_arrives_while_the_checkout_runs_is_not_undone_by_it(client, worker, shop,
                                                                                mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    contact = new_person(permission=True)
    drain()
    checkout_customer = Contact.objects.get(pk=contact.pk)
    with MailchimpSession(api_key) as session:
        session.patch(member_path(list_id, contact.email), {"status": "unsubscribed"})
    assert post_event(client, worker, "unsubscribe", email=contact.email, action="unsub").status_code == 200
    place_order(shop, checkout_customer)
    assert Contact.objects.get(pk=contact.pk).marketing_permission is False
    drain()
    assert emulator.get_member(api_key, list_id, contact.email)["status"] == "unsubscribed"
    assert emulator.confirmations(api_key) == [], "no confirmation e-mail to someone who just unsubscribed"


def test_an_order_of_a_customer_sent_once_names_it_by_id_even_when_its_last_send_failed(
    client, configuration, shop, mailchimp_account
):
    emulator, api_key, list_id = mailchimp_account
    contact = new_person(permission=True)
    old_email, new_email = contact.email, "moved.%d@fastmail.com" % next(_counter)
    change_address_in_mailchimp(api_key, list_id, old_email, new_email)
    assert post_event(client, configuration, "upemail", old_email=old_email, new_email=new_email).status_code == 200
    order, _products = place_order(shop, Contact.objects.get(pk=contact.pk))
    emulator.faults.fail("*/members/*", status=400, method="PUT", times=1)
    contact = Contact.objects.get(pk=contact.pk)
    contact.first_name = "Refused"
    contact.save()  # this send fails; Mailchimp still knows the customer
    assert row_of(contact).status == SyncStatus.FAILED
    emulator.clear_requests()
    order.set_canceled()  # the cancelled order is sent again
    [update] = [r for r in emulator.requests if "/orders" in r["path"] and r["method"] in ("PATCH", "POST")]
    assert update["body"]["customer"] == {"id": str(contact.pk)}
    assert emulator.get_member(api_key, list_id, old_email) is None, "the old address is not re-created"


@pytest.mark.django_db(transaction=True)  # a thread of its own reads the test's data
def test_a_worker_whose_lease_ran_out_never_sends_an_older_plan_after_another_worker(worker, settings,
                                                                                    mailchimp_account):
    """Worker A claims two rows and hangs on the first past its lease; worker B takes both and sends the
    newest state; A, back, must not send its older plan of the second (consent given, then withdrawn)."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, LEASE_SECONDS=2)
    slow, toggled = new_person(), new_person(permission=False)
    drain()
    slow.first_name = "Slow"
    slow.save()
    toggled.marketing_permission = True
    toggled.save()  # consent given ...
    emulator.faults.hang(60, "*/members/%s" % subscriber_hash(slow.email), times=1)
    worker_a = threading.Thread(target=drain, kwargs={"max_rounds": 1})
    worker_a.start()  # claims both, plans both, then hangs on the first
    wait_for(emulator, lambda: emulator.stats["in_flight"] == 1, "A hanging on the first row")
    toggled.marketing_permission = False
    toggled.save()  # ... and withdrawn while A holds the row
    # A's lease runs out while it is held: its 2 s pass.
    claimed = SyncState.objects.filter(pk__in=[row_of(slow).pk, row_of(toggled).pk])
    assert all(row.lease_until and row.lease_until > timezone.now() for row in claimed), "A holds both rows"
    while claimed.filter(lease_until__gte=timezone.now()).exists():
        time.sleep(0.05)
    drain()  # worker B
    emulator.release_hangs()  # A is back, after B
    worker_a.join(30)
    assert emulator.get_member(api_key, list_id, toggled.email)["status"] != "subscribed"
    row = row_of(toggled)
    assert (row.status, row.opt_in) == (SyncStatus.SYNCED, False)


def test_a_shop_that_sends_only_people_who_consented(configuration, shop, mailchimp_account):
    """Mailchimp counts transactional members toward the plan: the shop may leave them out."""
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(send_unconsented=False)
    silent, consenting = new_person(permission=False), new_person(permission=True)
    assert row_of(silent).status == SyncStatus.SKIPPED and "only people who consented" in row_of(silent).last_error
    assert emulator.get_member(api_key, list_id, silent.email) is None
    order, _products = place_order(shop, Contact.objects.get(pk=silent.pk))
    assert SyncState.objects.get(kind="order", object_id=order.pk).status == SyncStatus.SKIPPED
    assert emulator.get_member(api_key, list_id, silent.email) is None, "nor through an order"
    assert emulator.get_member(api_key, list_id, consenting.email)["status"] == "subscribed"
    consenting.marketing_permission = False
    consenting.save()  # a member Mailchimp has: the withdrawal still reaches it
    assert emulator.get_member(api_key, list_id, consenting.email)["status"] == "unsubscribed"
    silent.marketing_permission = True
    silent.save()
    assert emulator.get_member(api_key, list_id, silent.email)["status"] == "subscribed"


# 6. A member written by an attempt that then failed is known to be subscribed ----------------------


@pytest.mark.django_db  # no commit needed
@pytest.mark.parametrize("status", [503, 400])
def test_a_member_subscribed_by_an_attempt_whose_customer_failed_is_unsubscribed_on_withdrawal(
        worker, mailchimp_account, status):
    """The member PUT subscribed the person, the customer PUT failed (passing or for good): the row kept
    "consent never sent", so the withdrawal that followed sent no status and the member stayed subscribed
    (found by review)."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=True)
    emulator.faults.fail("*/customers/*", status=status, method="PUT", times=1)
    drain()
    row = row_of(person)
    assert row.status == (SyncStatus.PENDING if status == 503 else SyncStatus.FAILED)
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    assert (row.opt_in, row.member_status) == (True, "subscribed")
    person.marketing_permission = False
    person.save()
    state.make_due(worker.shop_id)
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "unsubscribed"
    assert row_of(person).status == SyncStatus.SYNCED


@pytest.mark.django_db  # no commit needed
def test_a_member_a_lost_batch_may_have_subscribed_is_unsubscribed_on_withdrawal(worker, mailchimp_account, settings):
    """Mailchimp ran a burst's batch and then forgot it: its rows go back as a lost attempt's, so a consent
    withdrawn meanwhile is sent as a withdrawal (found by review: the members stayed subscribed)."""
    from shoop_mailchimp.models import MailchimpBatch
    from shoop_mailchimp.sync import bulk
    from shoop_mailchimp.sync.bursts import send_bursts

    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BURST_THRESHOLD=3, BATCH_SIZE=10)
    people = [new_person(permission=True) for _ in range(3)]

    send_bursts(worker.shop_id)  # the reads phase is submitted; the emulator runs it, then the members phase
    batch = MailchimpBatch.objects.get()
    members_written_by_batches(worker.shop_id, emulator, api_key, list_id, people)
    assert all(emulator.get_member(api_key, list_id, p.email)["status"] == "subscribed" for p in people)
    with emulator.lock:
        emulator.accounts[api_key].batches.clear()  # Mailchimp ran it, then forgot it
    for person in people:
        person.marketing_permission = False
        person.save()
    bulk.check_batches(worker.shop_id)
    assert MailchimpBatch.objects.get(pk=batch.pk).status == "lost"
    drain()
    assert [emulator.get_member(api_key, list_id, p.email)["status"] for p in people] == ["unsubscribed"] * 3


# 9. A save of a contact loaded before a webhook does not undo what the webhook recorded ------------


@pytest.mark.django_db  # no commit needed
def test_a_stale_save_after_an_unsubscribe_does_not_subscribe_again(client, worker, mailchimp_account):
    """An admin form or a script holds the contact it loaded; the shopper unsubscribes meanwhile."""
    emulator, api_key, list_id = mailchimp_account
    contact = new_person(permission=True)
    drain()
    stale = Contact.objects.get(pk=contact.pk)
    with MailchimpSession(api_key) as session:
        session.patch(member_path(list_id, contact.email), {"status": "unsubscribed"})
    assert post_event(client, worker, "unsubscribe", email=contact.email, action="unsub").status_code == 200
    stale.first_name = "Renamed"
    stale.save()  # its marketing_permission is the True it loaded
    assert Contact.objects.get(pk=contact.pk).marketing_permission is False
    drain()
    member = emulator.get_member(api_key, list_id, contact.email)
    assert (member["status"], member["merge_fields"]["FNAME"]) == ("unsubscribed", "Renamed")
    assert emulator.confirmations(api_key) == []


@pytest.mark.django_db  # no commit needed
def test_a_stale_save_after_a_confirmation_does_not_withdraw_it(client, worker, mailchimp_account):
    """The address's owner confirmed by e-mail (the shop records the consent); a copy loaded before saves."""
    emulator, api_key, list_id = mailchimp_account
    contact = new_person(permission=False)
    drain()
    state.request_consent_change(worker.shop_id, SyncKind.CONTACT, [contact.pk], ConsentRequest.CONFIRM)
    drain()
    assert emulator.get_member(api_key, list_id, contact.email)["status"] == "pending"
    stale = Contact.objects.get(pk=contact.pk)
    emulator.set_member_status(api_key, list_id, contact.email, "subscribed")  # the link clicked
    assert post_event(client, worker, "subscribe", email=contact.email).status_code == 200
    assert Contact.objects.get(pk=contact.pk).marketing_permission is True
    stale.first_name = "Renamed"
    stale.save()  # its marketing_permission is the False it loaded
    assert Contact.objects.get(pk=contact.pk).marketing_permission is True
    drain()
    member = emulator.get_member(api_key, list_id, contact.email)
    assert (member["status"], member["merge_fields"]["FNAME"]) == ("subscribed", "Renamed")


@pytest.mark.django_db  # no commit needed
def test_a_save_that_changes_the_consent_still_changes_it(worker, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    contact = new_person(permission=True)
    drain()
    copy = Contact.objects.get(pk=contact.pk)
    copy.marketing_permission = False
    copy.save()
    drain()
    assert emulator.get_member(api_key, list_id, contact.email)["status"] == "unsubscribed"


@pytest.mark.django_db  # no commit needed
def test_a_lost_batchs_member_stays_suspect_after_a_failed_retry(worker, mailchimp_account, settings):
    """A lost batch may have subscribed its members; the first attempt after it fails before writing anything
    (a 503). The row must stay a lost attempt's, so that a withdrawal after it is still sent as one (found by
    review: the retry forgot, and the members stayed subscribed)."""
    from shoop_mailchimp.models import MailchimpBatch
    from shoop_mailchimp.sync import bulk
    from shoop_mailchimp.sync.bursts import send_bursts

    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, BURST_THRESHOLD=3, BATCH_SIZE=10)
    people = [new_person(permission=True) for _ in range(3)]
    send_bursts(worker.shop_id)
    members_written_by_batches(worker.shop_id, emulator, api_key, list_id, people)
    with emulator.lock:
        emulator.accounts[api_key].batches.clear()  # Mailchimp ran it, then forgot it
    bulk.check_batches(worker.shop_id)
    assert MailchimpBatch.objects.get().status == "lost"
    emulator.faults.fail("*/members/*", status=503, method="PUT", times=3)
    drain()
    assert all(row_of(p).status != SyncStatus.SYNCED for p in people), "every retry failed"
    for person in people:
        person.marketing_permission = False
        person.save()
    state.make_due(worker.shop_id)
    drain()
    assert [emulator.get_member(api_key, list_id, p.email)["status"] for p in people] == ["unsubscribed"] * 3
