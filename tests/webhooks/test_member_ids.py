"""A ``subscribe`` event names its member (``data[id]``: the member's ``unique_email_id``). Naming another member
than the one the contact's sends wrote at the address, it tells the shop that member is not the contact's: its owner
made it after the contact's own was deleted in Mailchimp (review aud14, finding 5)."""
import pytest

from shoop_mailchimp.models import MailchimpLogEntry, SyncState
from tests.helpers import new_person, row_of
from tests.webhooks.helpers import post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def ownership(contact):
    row = row_of(contact)
    return row.foreign_member, row.unique_email_id


def test_a_subscribe_naming_another_member_teaches_the_rows_of_its_address_it_is_not_their_contacts(
        client, configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    email = "dee.again@fastmail.com"
    dee = new_person(permission=False, email=email)
    written = row_of(dee).unique_email_id
    assert written == emulator.get_member(api_key, list_id, email)["unique_email_id"]
    # The contact's own member named (its owner confirming, say), or no member (an id longer than any): nothing
    # changes.
    for member_id in (written, "f" * 65):
        assert post_event(client, configuration, "subscribe", email=email, id=member_id).status_code == 200
        assert ownership(dee) == (False, written)

    assert post_event(client, configuration, "subscribe", email="Dee.Again@fastmail.com", id="0a1b2c3d4e",
                      email_type="html", merges={"EMAIL": "Dee.Again@fastmail.com"}).status_code == 200
    assert ownership(dee) == (True, written)
    assert row_of(dee).member_status == "subscribed"
    message = MailchimpLogEntry.objects.filter(action="webhook.subscribe").latest("pk").message
    assert "created again in Mailchimp" in message, message

    # A contact whose address changed in the shop and is not sent yet: the event of its new address finds it by
    # that, but the id its row recorded is of its old address's member, and it learns nothing of this one.
    gus = new_person(permission=False, email="gus.before@fastmail.com")
    gus_id = row_of(gus).unique_email_id
    emulator.faults.down()
    try:
        gus.email = "gus.after@fastmail.com"
        gus.save()
    finally:
        emulator.faults.up()
    assert row_of(gus).email == "gus.before@fastmail.com"
    assert post_event(client, configuration, "subscribe", email="gus.after@fastmail.com",
                      id="1234567890").status_code == 200
    assert MailchimpLogEntry.objects.filter(action="webhook.subscribe", contact_id=gus.pk).exists()
    assert ownership(gus) == (False, gus_id)


def test_a_row_sent_before_ids_were_kept_learns_the_id_a_subscribe_names(client, configuration):
    """Which member such a row wrote, nothing tells: it learns the id of the member there now (as a reconciliation
    teaches it), so that a member created again after this is told apart."""
    person = new_person(permission=False, email="fay.early@fastmail.com")
    SyncState.objects.filter(pk=row_of(person).pk).update(unique_email_id="")
    assert post_event(client, configuration, "subscribe", email=person.email, id="5f6e7d8c9b").status_code == 200
    assert ownership(person) == (False, "5f6e7d8c9b")
