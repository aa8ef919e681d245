"""GDPR erasure: a deleted or anonymized contact disappears from Mailchimp and is never sent again.

Shuup's admin runs the anonymizer inside one transaction, so Mailchimp only ever hears of the
erasure. Run outside a transaction (a custom background task runner), each of the anonymizer's
saves commits and is delivered on its own: the member is renamed to the random e-mail before it is
deleted. The end state is the same (nothing left in Mailchimp), but the random address is sent.
"""
import pytest
from django.db import transaction
from shuup.core.models import Contact
from shuup.gdpr.anonymizer import Anonymizer
from shuup.testing.factories import create_random_person

from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.models import MailchimpLogEntry, SyncKind, SyncState, SyncStatus
from shoop_mailchimp.sync.drainer import drain

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def synced_person(emulator, api_key, list_id, configuration):
    person = create_random_person()
    person.marketing_permission = True
    person.save()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"
    assert emulator.get_customer(api_key, configuration.store_id, str(person.pk))
    return person


def assert_erased(emulator, api_key, list_id, configuration, contact_id, email):
    assert emulator.get_member(api_key, list_id, email) is None
    assert emulator.get_customer(api_key, configuration.store_id, str(contact_id)) is None
    deletes = [r for r in emulator.requests if r["method"] == "POST" and r["path"].endswith(
        "/members/%s/actions/delete-permanent" % subscriber_hash(email))]
    assert len(deletes) == 1
    state = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=contact_id)
    assert (state.erase, state.status, state.email, state.member_status) == (True, SyncStatus.SYNCED, "", "erased")
    assert MailchimpLogEntry.objects.filter(action="member.delete_permanent", contact_id=contact_id).exists()


def sent_emails(emulator):
    """Every e-mail address the shop sent to Mailchimp, in bodies and as member hashes."""
    emails, hashes = set(), set()
    for request in emulator.requests:
        body = request["body"] if isinstance(request["body"], dict) else {}
        if body.get("email_address"):
            emails.add(body["email_address"].lower())
        if "/members/" in request["path"]:
            hashes.add(request["path"].split("/members/")[1].split("/")[0])
    return emails, hashes


def test_a_deleted_contact_is_erased_from_mailchimp(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = synced_person(emulator, api_key, list_id, configuration)
    contact_id, email = person.pk, person.email
    emulator.clear_requests()

    Contact.objects.get(pk=contact_id).delete()
    drain(shop_id=configuration.shop_id)

    assert_erased(emulator, api_key, list_id, configuration, contact_id, email)


def test_an_anonymized_contact_is_erased_and_its_fake_email_never_sent(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = synced_person(emulator, api_key, list_id, configuration)
    contact_id, email = person.pk, person.email
    emulator.clear_requests()

    # As Shuup's admin "Anonymize" button runs it: in one transaction.
    with transaction.atomic():
        Anonymizer().anonymize(configuration.shop, person)
    drain(shop_id=configuration.shop_id)

    anonymized = Contact.objects.get(pk=contact_id)
    assert anonymized.email.lower() != email.lower()
    assert_erased(emulator, api_key, list_id, configuration, contact_id, email)

    # Later saves of the anonymized contact are not sent: the person stays erased.
    anonymized.first_name = "Someone"
    anonymized.marketing_permission = True
    anonymized.save()
    drain(shop_id=configuration.shop_id)
    state = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=contact_id)
    assert state.erase is True and state.email == ""
    emails, hashes = sent_emails(emulator)
    assert anonymized.email.lower() not in emails
    assert subscriber_hash(anonymized.email) not in hashes
    assert emulator.get_member(api_key, list_id, anonymized.email) is None
    assert emulator.customers(api_key, configuration.store_id) == []
