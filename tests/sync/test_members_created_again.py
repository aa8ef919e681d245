"""The contact's own member was deleted in Mailchimp and its address's owner made a new one since (a signup on
Mailchimp's own form: another ``unique_email_id``). That member is its owner's: the contact's address change leaves
it where it is, and once the shop knows it (the ``subscribe`` webhook) the contact's edits leave its names alone
(review aud14, finding 5)."""
from collections import Counter

import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.drainer import ShopDelivery, drain
from tests.helpers import new_person, row_of
from tests.webhooks.helpers import configure_with_live_webhook, post_event

FORM_NAMES = {"FNAME": "Fay", "LNAME": "Former"}


def created_again_on_the_form(emulator, api_key, list_id, email):
    """The member is deleted for good in Mailchimp, then its address's owner subscribes on Mailchimp's own form.
    Returns the new member and the webhook's deliveries (none where the shop registered none)."""
    emulator.edit_member_by_hand(api_key, list_id, email, delete=True)
    return emulator.fire_event(api_key, list_id, "subscribe", email, merges=FORM_NAMES)


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_an_address_change_leaves_the_member_its_owner_created_again_where_it_is(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    old, new = "ann.created.again@fastmail.com", "ann.moved@fastmail.com"
    person = new_person(permission=True, email=old, first_name="Ann", last_name="Shopper")
    written = row_of(person).unique_email_id
    assert written
    subscriber, deliveries = created_again_on_the_form(emulator, api_key, list_id, old)
    assert deliveries == [], "the shop hears nothing of it (no webhook registered, or its delivery missed)"
    assert subscriber["unique_email_id"] != written

    person = PersonContact.objects.get(pk=person.pk)
    person.email = new
    person.save()

    kept = emulator.get_member(api_key, list_id, old)
    assert kept is not None, "the form subscriber's member was moved to the contact's new address"
    assert (kept["unique_email_id"], kept["email_address"], kept["status"]) == (
        subscriber["unique_email_id"], old, "subscribed")
    assert (kept["merge_fields"]["FNAME"], kept["merge_fields"]["LNAME"]) == ("Fay", "Former")
    moved = emulator.get_member(api_key, list_id, new)
    assert moved["status"] == "subscribed" and moved["unique_email_id"] != subscriber["unique_email_id"]
    assert (moved["merge_fields"]["FNAME"], moved["merge_fields"]["LNAME"]) == ("Ann", "Shopper")
    row = row_of(person)
    assert (row.email, row.unique_email_id, row.foreign_member) == (new, moved["unique_email_id"], False)
    customer = emulator.get_customer(api_key, configuration.store_id, str(person.pk))
    assert customer["email_address"] == new


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("id_recorded", [True, False], ids=["id-recorded", "sent-before-ids-were-kept"])
def test_an_address_change_reads_the_contacts_own_member_then_moves_it(configuration, mailchimp_account,
                                                                      id_recorded):
    """The contact's own member (the id its send recorded; or, for a row that recorded none, whatever member is
    there: nothing tells it apart) is read (one GET), then moved as it is."""
    emulator, api_key, list_id = mailchimp_account
    old, new = "bea.own@fastmail.com", "bea.own.moved@fastmail.com"
    person = new_person(permission=True, email=old, first_name="Bea", last_name="Owner")
    own = emulator.get_member(api_key, list_id, old)
    if not id_recorded:
        type(row_of(person)).objects.filter(pk=row_of(person).pk).update(unique_email_id="")
    emulator.clear_requests()

    person = PersonContact.objects.get(pk=person.pk)
    person.email = new
    person.save()

    reads = [r for r in emulator.requests if r["method"] == "GET" and r["path"].endswith(
        "/members/" + subscriber_hash(old))]
    assert len(reads) == 1 and "unique_email_id" in reads[0]["query"].get("fields", ""), emulator.requests
    assert emulator.get_member(api_key, list_id, old) is None
    moved = emulator.get_member(api_key, list_id, new)
    assert (moved["unique_email_id"], moved["status"], moved["merge_fields"]["FNAME"]) == (
        own["unique_email_id"], "subscribed", "Bea")
    row = row_of(person)
    assert (row.email, row.unique_email_id, row.foreign_member) == (new, own["unique_email_id"], False)


@pytest.mark.django_db(transaction=True)
def test_an_edit_leaves_alone_the_member_its_owner_created_again(settings, live_server, shop, mailchimp_settings,
                                                                  mailchimp_account):
    """The owner's signup reaches the shop (the ``subscribe`` webhook names the new member): the contact's later
    edits write none of its names there."""
    emulator, api_key, list_id = mailchimp_account
    configuration = configure_with_live_webhook(settings, live_server, shop, mailchimp_account)
    email = "cat.created.again@fastmail.com"
    person = new_person(permission=False, email=email, first_name="Cat", last_name="Shopper")
    written = row_of(person).unique_email_id
    assert written and emulator.get_member(api_key, list_id, email)["status"] == "transactional"
    subscriber, deliveries = created_again_on_the_form(emulator, api_key, list_id, email)
    assert [status for _url, status in deliveries] == [200]
    assert subscriber["unique_email_id"] != written
    assert row_of(person).foreign_member is True

    person = PersonContact.objects.get(pk=person.pk)
    person.first_name, person.last_name = "Catherine", "Renamed"
    person.save()

    member = emulator.get_member(api_key, list_id, email)
    assert (member["unique_email_id"], member["status"]) == (subscriber["unique_email_id"], "subscribed")
    assert (member["merge_fields"]["FNAME"], member["merge_fields"]["LNAME"]) == ("Fay", "Former"), (
        "the contact's edit renamed the form subscriber's member")
    assert row_of(person).foreign_member is True
    assert emulator.get_customer(api_key, configuration.store_id, str(person.pk))["last_name"] == "Renamed"


@pytest.mark.django_db  # no commit needed
def test_a_send_under_way_when_the_shop_learns_the_member_not_the_contacts_does_not_undo_it(
        client, settings, configuration, mailchimp_account):
    """The ``subscribe`` webhook arrives while a worker sends the contact (planned as the member's owner): that send
    closes its row pending, keeping what the webhook taught, and the next edit leaves the member's names alone."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    email = "dan.under.way@fastmail.com"
    person = new_person(permission=False, email=email, first_name="Dan", last_name="Shopper")
    drain()
    subscriber, _deliveries = created_again_on_the_form(emulator, api_key, list_id, email)
    person = PersonContact.objects.get(pk=person.pk)
    person.first_name = "Daniel"
    person.save()
    rows = state.claim()  # a worker takes the row ...
    assert post_event(client, configuration, "subscribe", email=email, id=subscriber["unique_email_id"],
                      merges=dict(FORM_NAMES, EMAIL=email)).status_code == 200  # ... as the webhook arrives
    ShopDelivery(configuration.shop_id, Counter()).deliver(rows)
    row = row_of(person)
    assert (row.status, row.foreign_member) == (SyncStatus.PENDING, True)

    emulator.fire_event(api_key, list_id, "profile", email, merges=FORM_NAMES)  # the owner puts their names back
    person.last_name = "Later"
    person.save()
    drain()
    assert emulator.get_member(api_key, list_id, email)["merge_fields"]["LNAME"] == "Former"
    assert row_of(person).foreign_member is True


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_contact_whose_member_was_deleted_moving_onto_a_subscribers_address_leaves_her_names(
        configuration, mailchimp_account):
    """The contact's own member was deleted in Mailchimp (nothing left under its old address to move), and the
    contact, consenting, changes its address to one whose member is a Mailchimp-form subscriber's. Finding no member
    to move, the send took the new address's member for its own and wrote its names there. Nothing shows that
    member the contact's: it keeps its names, and the contact's consent reaches it as the consent rules say."""
    emulator, api_key, list_id = mailchimp_account
    old, new = "eve.deleted@fastmail.com", "fay.form.subscriber@fastmail.com"
    emulator.add_members(api_key, list_id, [new], status="subscribed", merge_fields=FORM_NAMES)
    person = new_person(permission=True, email=old, first_name="Eve", last_name="Mover")
    emulator.edit_member_by_hand(api_key, list_id, old, delete=True)

    person = PersonContact.objects.get(pk=person.pk)
    person.email = new
    person.save()

    member = emulator.get_member(api_key, list_id, new)
    assert (member["merge_fields"]["FNAME"], member["merge_fields"]["LNAME"]) == ("Fay", "Former"), (
        "a contact moving onto a form subscriber's address renamed her member")
    assert member["status"] == "subscribed"
    assert row_of(person).foreign_member is True
