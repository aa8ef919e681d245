"""GDPR erasure: a deleted or anonymized contact disappears from Mailchimp and is never sent again.

Shuup's admin runs the anonymizer inside one transaction, so Mailchimp only ever hears of the
erasure. Run outside a transaction (a custom background task runner), each of the anonymizer's
saves commits and is delivered on its own: the member is renamed to the random e-mail before it is
deleted. The end state is the same (nothing left in Mailchimp), but the random address is sent.
"""
import pytest
from django.db import transaction
from shuup.core.models import Contact, PersonContact
from shuup.gdpr.anonymizer import Anonymizer
from shuup.testing.factories import create_random_person

from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.models import MailchimpLogEntry, SyncKind, SyncState, SyncStatus
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import new_person, row_of, send_due

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


def erase_person(shop, contact_id, how):
    """The person's erasure in Shuup: the staff delete the contact (``"deleted"``), or anonymize it (GDPR)."""
    if how == "deleted":
        PersonContact.objects.get(pk=contact_id).delete()
    else:
        Anonymizer().anonymize(shop, contact=PersonContact.objects.get(pk=contact_id))


def rounds(n=3):
    from tests.helpers import make_all_due

    for _ in range(n):
        make_all_due()
        drain()


PAT = ("+358 40 765 4321", "05/17", "Pat", "Erased")


@pytest.mark.parametrize("q_consents", [True, False], ids=["kept-subscribed", "unsubscribed"])
@pytest.mark.parametrize("required", [False, True], ids=["optional", "required-fields"])
def test_erasing_a_contact_whose_address_another_keeps_leaves_none_of_its_personal_data_on_the_member(
        shop, configuration, mailchimp_account, q_consents, required):
    """P (phone, birthday, names) and Q share an address; P was sent first, so Mailchimp's one member is P's and
    carries P's phone, birthday and names (Q's send found it there: not Q's, its data left alone). P asks to be
    erased (GDPR; the admin deletes the contact). The member is kept for Q (never deleted while another contact holds
    the address), but it kept P's phone number, birthday and names: the erasure left the erased person's personal data
    in Mailchimp (review aud11). The mapped fields are cleared (also where the audience marks them required); when Q
    does not consent, the member is unsubscribed in the same write."""
    import datetime

    from shuup.core.models import PersonContact

    from shoop_mailchimp.models import MailchimpConfiguration
    from tests.helpers import new_person
    from tests.sync.test_audience_data import read_audience_fields

    emulator, api_key, list_id = mailchimp_account
    email = "erased.data.%s.%s@fastmail.com" % (int(q_consents), int(required))
    if required:
        for tag in ("FNAME", "PHONE", "BIRTHDAY"):
            emulator.set_merge_field_required(api_key, list_id, tag)
    read_audience_fields(configuration)
    assert MailchimpConfiguration.objects.get(pk=configuration.pk).audience_merge_fields is not None
    p = new_person(permission=True, email=email, first_name="Pat", last_name="Erased", phone="+358 40 765 4321",
                   birth_date=datetime.date(1980, 5, 17))
    rounds(2)
    q = new_person(permission=q_consents, email=email, first_name="Quinn", last_name="Keeps")
    rounds(2)
    merged = emulator.get_member(api_key, list_id, email)["merge_fields"]
    assert merged["PHONE"] == "+358 40 765 4321" and merged["FNAME"] == "Pat", merged
    PersonContact.objects.get(pk=p.pk).delete()
    rounds(3)
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and PersonContact.objects.filter(pk=q.pk).exists()
    left = {tag: value for tag, value in member["merge_fields"].items() if value in PAT}
    assert not left, "the erased contact's personal data left on the kept member: %r" % left
    assert member["status"] == ("subscribed" if q_consents else "unsubscribed")
    assert SyncState.objects.get(kind=SyncKind.CONTACT, object_id=q.pk).status == SyncStatus.SYNCED
    assert not SyncState.objects.filter(kind=SyncKind.CONTACT, status=SyncStatus.FAILED).exists()


# Found by independent review aud12 (issue 19): a contact that does not own the member of its address never deletes it.
@pytest.mark.parametrize("how", ["deleted", "anonymized"])
def test_erasing_a_strangers_account_leaves_a_mailchimp_form_subscriber_in_the_audience(
        shop, configuration, mailchimp_account, how):
    """Ann subscribed on Mailchimp's own signup form (the shop has no contact of her). Mallory registers an account
    with Ann's address (Shuup verifies nothing) and never consents; the shop sends her as a contact without consent
    (her first send reads Ann's member and leaves it alone). Mallory then has her account anonymized (Shuup's GDPR
    anonymizer) or the staff delete it as a fake. The worker's erasure permanently deleted Ann's member
    (``erase_member``: "held by others" counts only the shop's contacts), and Mailchimp refuses to re-add a
    permanently deleted address through the API. The member was never Mallory's (``SyncState.foreign_member``):
    the erasure leaves it as it is."""
    emulator, api_key, list_id = mailchimp_account
    email = "ann.formonly.%s@fastmail.com" % how
    emulator.add_members(api_key, list_id, [email], status="subscribed")
    mallory = new_person(permission=False, email=email)
    mallory.add_to_shop(shop)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    erase_person(shop, mallory.pk, how)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and member["status"] == "subscribed", (
        "the erasure of a stranger's account permanently deleted a subscriber of Mailchimp's own form: %r" % member)


def test_erasing_a_strangers_account_that_arrived_first_keeps_the_owner_who_subscribed_later(
        shop, configuration, mailchimp_account):
    """Mallory registers an account with Ann's address (no consent): its first send creates a transactional
    member. Ann then subscribes on Mailchimp's own form. The staff delete Mallory's account as a fake: the member,
    read before its permanent delete, is subscribed without any consent the shop sent, so it is Ann's and stays
    (review aud14)."""
    emulator, api_key, list_id = mailchimp_account
    email = "ann.laterform@fastmail.com"
    mallory = new_person(permission=False, email=email, first_name="Mallory", last_name="Stranger")
    mallory.add_to_shop(shop)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "transactional"
    emulator.set_member_status(api_key, list_id, email, "subscribed")  # her form signup
    PersonContact.objects.get(pk=mallory.pk).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and member["status"] == "subscribed", member
    assert MailchimpLogEntry.objects.filter(action="member.kept", message__contains="never went to it").exists()


def test_erasing_a_row_sent_before_ownership_was_recorded_keeps_a_form_subscriber(
        shop, configuration, mailchimp_account):
    """A stranger's row sent before migration 0034 counts as owning its member (``foreign_member`` False): its
    erasure reads the member first, and a subscription its consent never went to stays (review aud14)."""
    from tests.helpers import row_of

    emulator, api_key, list_id = mailchimp_account
    email = "ann.premigration@fastmail.com"
    emulator.add_members(api_key, list_id, [email], status="subscribed",
                         merge_fields={"FNAME": "Ann", "LNAME": "Form"})
    mallory = new_person(permission=False, email=email, first_name="Mallory", last_name="Stranger")
    mallory.add_to_shop(shop)
    send_due(rounds=2)
    SyncState.objects.filter(pk=row_of(mallory).pk).update(foreign_member=False)  # as migration 0034 leaves it
    PersonContact.objects.get(pk=mallory.pk).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and member["status"] == "subscribed", member


def test_erasing_a_contact_whose_member_its_owner_created_again_keeps_it(shop, configuration, mailchimp_account):
    """The contact's own member was archived and deleted in Mailchimp, then created again by its owner (another
    ``unique_email_id``): the erasure leaves that member alone (review aud14)."""
    from tests.helpers import row_of

    emulator, api_key, list_id = mailchimp_account
    email = "ann.created.again@fastmail.com"
    person = new_person(permission=False, email=email)
    send_due(rounds=2)
    written = row_of(person).unique_email_id
    assert written
    with emulator.lock:
        emulator.accounts[api_key].lists[list_id].members.pop(subscriber_hash(email))
    emulator.add_members(api_key, list_id, [email], status="transactional")
    assert emulator.get_member(api_key, list_id, email)["unique_email_id"] != written
    PersonContact.objects.get(pk=person.pk).delete()
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email) is not None


# Found by independent review aud15 (F6): a subscription the erased contact's consent made of a member not its own.
@pytest.mark.parametrize("ends_by", ["withdrawal", "deleted", "anonymized", "moved"])
def test_a_subscription_only_the_erased_contacts_consent_made_does_not_outlive_it(
        shop, configuration, mailchimp_account, settings, ends_by):
    """Mailchimp holds a guest buyer's transactional member (nobody consented). The staff create a contact with that
    address and tick its consent: the first send finds the member (not the contact's) and sends the consent as a
    change: the member is subscribed by this contact's consent only. The staff unticking it unsubscribes it again
    (the control). Erasing the contact (its consent goes with it) skipped the member altogether and left it
    subscribed with nobody's consent behind it. It is unsubscribed, never deleted, and keeps its own data. So too
    when the staff correct the contact's address: its consent leaves with it."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    email = "guest.erased.%s@fastmail.com" % ends_by
    emulator.add_members(api_key, list_id, [email], status="transactional", merge_fields={"FNAME": "Guest"})
    person = new_person(permission=True, email=email, first_name="Staff")
    person.add_to_shop(shop)
    send_due(rounds=2)
    assert (row_of(person).foreign_member, row_of(person).opt_in, row_of(person).consent_made) == (True, True, True)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    if ends_by == "withdrawal":
        person = PersonContact.objects.get(pk=person.pk)
        person.marketing_permission = False
        person.save()
    elif ends_by == "moved":  # the staff correct the address they typed: the consent goes with the contact
        person = PersonContact.objects.get(pk=person.pk)
        person.email = "staff.own.address@fastmail.com"
        person.save()
    else:
        erase_person(shop, person.pk, ends_by)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and (member["status"], member["merge_fields"]["FNAME"]) == ("unsubscribed", "Guest"), (
        "the member (%r) after the only consent behind its subscription ended (%s)" % (member, ends_by))
    assert not [r for r in emulator.requests if r["path"].endswith("/actions/delete-permanent")]
    if ends_by == "moved":
        assert emulator.get_member(api_key, list_id, "staff.own.address@fastmail.com")["status"] == "subscribed"
        # Its own member there, created subscribed by its consent (which another's later proof would not end).
        assert (row_of(person).foreign_member, row_of(person).consent_made) == (False, True)


def test_erasing_a_contact_whose_consent_subscribed_a_guest_buyers_member_keeps_another_contacts_consent(
        shop, configuration, mailchimp_account, settings):
    """As above, but another contact of the shop with the address consents: the subscription stays theirs."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    email = "guest.erased.shared@fastmail.com"
    emulator.add_members(api_key, list_id, [email], status="transactional", merge_fields={"FNAME": "Guest"})
    person = new_person(permission=True, email=email, first_name="Staff")
    person.add_to_shop(shop)
    send_due(rounds=2)
    assert row_of(person).consent_made is True
    other = new_person(permission=True, email=email, first_name="Other")
    other.add_to_shop(shop)
    send_due(rounds=2)
    PersonContact.objects.get(pk=person.pk).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and member["status"] == "subscribed", member
