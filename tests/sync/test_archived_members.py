"""A member a marketer archived in Mailchimp stays archived: the shop sends it nothing (no member, no customer,
no cart) until consent is given or withdrawn in the shop; a resend never brings it back; a reconciliation
notices when a marketer unarchives it."""
import pytest
from django.core.management import call_command
from django.utils import timezone
from shuup.core.models import Contact

from shoop_mailchimp import shop_consent
from shoop_mailchimp.mailchimp.resources import member_path
from shoop_mailchimp.mailchimp.transport import MailchimpSession
from shoop_mailchimp.member_events import handle_event
from shoop_mailchimp.models import JobKind, MailchimpJob, SyncKind, SyncStatus
from shoop_mailchimp.storefront import subscriptions
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, new_person, place_order, row_of

pytestmark = pytest.mark.django_db


def archived_by_a_marketer(configuration, emulator, api_key, list_id, person):
    """The member archived in Mailchimp (DELETE), and the webhook telling the shop."""
    with MailchimpSession(api_key) as session:
        session.delete(member_path(list_id, person.email))
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "archived"
    handle_event(configuration, {"type": "unsubscribe", "fired_at": timezone.now(), "merges": {},
                                 "data": {"list_id": list_id, "email": person.email, "action": "delete"}})
    assert row_of(person).member_status == "archived"


def requests_for(emulator, person):
    return [r for r in emulator.requests if person.email in str(r.get("body")) or
            (r["method"] != "GET" and ("/customers/%d" % person.pk) in r["path"])]


def test_edits_and_resends_never_bring_an_archived_member_back(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=True)
    drain()
    archived_by_a_marketer(configuration, emulator, api_key, list_id, person)
    emulator.clear_requests()

    person.last_name = "Edited"
    person.save()
    drain()
    assert row_of(person).status == SyncStatus.SKIPPED
    state.resend_all(configuration.shop_id, SyncKind.CONTACT)  # the merge field mapping changed
    make_all_due()
    drain()
    assert requests_for(emulator, person) == [], "neither the member nor the customer was written"

    state.requeue_all(configuration.shop_id, SyncKind.CONTACT)  # a re-created store: sent as never sent
    make_all_due()
    drain()
    assert not [r for r in emulator.requests if "/customers/" in r["path"]], "a customer would bring it back"
    member = emulator.get_member(api_key, list_id, person.email)
    assert member["status"] == "archived" and member["merge_fields"].get("LNAME") != "Edited"
    assert row_of(person).member_status == "archived"
    assert Contact.objects.get(pk=person.pk).marketing_permission is True  # archiving is not the person's choice


@pytest.mark.parametrize("proven", [True, False])
def test_a_consent_given_again_brings_it_back_subscribed(configuration, mailchimp_account, proven):
    """The shopper's consent on the account page brings an archived member back: subscribed where the address is
    proven theirs (their account activated through the link mailed to it); otherwise its owner confirms first
    (``pending``), as for an address typed into the newsletter block."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=False)
    if proven:
        shop_consent.record_proof(person.pk, person.email)
    drain()
    archived_by_a_marketer(configuration, emulator, api_key, list_id, person)
    subscriptions.subscribe_person(configuration.shop, person, subscriptions.ACCOUNT_PAGE)
    drain()
    expected = "subscribed" if proven else "pending"
    assert emulator.get_member(api_key, list_id, person.email)["status"] == expected
    assert row_of(person).member_status == expected


@pytest.mark.parametrize("how", ["withdrawn", "asked"])
def test_a_withdrawal_still_reaches_an_archived_member(configuration, mailchimp_account, how):
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=True)
    drain()
    archived_by_a_marketer(configuration, emulator, api_key, list_id, person)
    if how == "asked":  # the shopper asks on the account page, though the shop holds no consent to withdraw
        # The shopper proved the address theirs: an unproven account's press ends only a subscription its own
        # consent made (review aud11, withdrawal_own_only).
        shop_consent.record_proof(person.pk, person.email)
        Contact.objects.filter(pk=person.pk).update(marketing_permission=False)
        state.apply_mailchimp_fact([row_of(person).pk], timezone.now(), opt_in=False)
    subscriptions.withdraw_consent(configuration.shop, Contact.objects.get(pk=person.pk))
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "unsubscribed"


def test_a_first_sync_leaves_an_archived_member_archived(configuration, mailchimp_account):
    """The shop never sent the contact, and the audience holds its address archived: the member write (with only
    ``status_if_new``) leaves it archived, and the customer, which would bring it back, is not sent. (A consent
    given in the shop would bring it back: it is sent as a change, see test_consent_integrity.)"""
    emulator, api_key, list_id = mailchimp_account
    emulator.add_members(api_key, list_id, ["archived.before@fastmail.com"], status="archived")
    person = new_person(permission=False, email="archived.before@fastmail.com")
    emulator.clear_requests()
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "archived"
    assert not [r for r in emulator.requests if "/customers/" in r["path"]]
    assert row_of(person).member_status == "archived"


def test_a_reconciliation_notices_a_marketer_unarchiving(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=False)
    drain()
    archived_by_a_marketer(configuration, emulator, api_key, list_id, person)
    person.last_name = "Edited"
    person.save()
    drain()  # left archived
    emulator.edit_member_by_hand(api_key, list_id, person.email, status="transactional")

    call_command("mailchimp_reconcile")

    job = MailchimpJob.objects.filter(kind=JobKind.RECONCILE).first()
    assert job.result["found"]["unarchived"] == 1
    assert row_of(person).member_status == "transactional"
    drain()  # what the shop held back while the member was archived reaches it now
    member = emulator.get_member(api_key, list_id, person.email)
    assert member["status"] == "transactional" and member["merge_fields"]["LNAME"] == "Edited"


def test_an_order_by_an_archived_contact_brings_the_member_back_never_subscribed(configuration, mailchimp_account):
    """Mailchimp's rule: a purchase in the connected store unarchives the contact (the order's customer). The
    shop does not hold the order back; the member comes back as it was (here without a subscription), and a
    reconciliation records it."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=False)
    drain()
    archived_by_a_marketer(configuration, emulator, api_key, list_id, person)
    place_order(configuration.shop, person)
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "transactional"
    call_command("mailchimp_reconcile")
    assert row_of(person).member_status == "transactional"
    assert MailchimpJob.objects.filter(kind=JobKind.RECONCILE).first().result["found"]["unarchived"] == 1
