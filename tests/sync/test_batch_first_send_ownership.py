"""A consenting contact's first send, in a burst, at an address Mailchimp holds a guest buyer's member of: whose the
member is is decided in a batch as one by one (found by independent review aud15, issue 19; each docstring tells
what went wrong before the fix)."""
import pytest
from shuup.core.models import PersonContact
from shuup.testing.factories import create_random_contact_group

from shoop_mailchimp import shop_consent
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.rounds import run_due_work
from tests.helpers import batch_posts, make_all_due, member_writes, new_person, row_of
from tests.sync.conftest import BURST_THRESHOLD as THRESHOLD
from tests.sync.test_audience_data import member_of, tag_by_hand, tag_names

pytestmark = pytest.mark.django_db


def test_a_guest_buyers_member_keeps_its_names_in_a_burst_as_one_by_one(burst_settings, mailchimp_account):
    """Guest buyers (transactional members, their own names) register accounts they never activate; the staff give
    each consent. One by one, the first send reads the member, finds it is not the contact's (foreign_member), sends
    the consent as a change and leaves the guest's names alone. In a burst the batch reads the member too, writes it
    without data, learns it existed without the consent and retries, but records no foreign_member (the row's
    written_facts carry none): the retry takes the member as its own (foreign_member None: "not known", sends write
    data) and writes the account's names and tags over the guest's member."""
    emulator, api_key, list_id = mailchimp_account
    emails = ["guest.aud15.%d@fastmail.com" % number for number in range(THRESHOLD + 1)]
    emulator.add_members(api_key, list_id, emails, status="transactional", merge_fields={"FNAME": "Guest"})
    alone = new_person(email=emails[0], first_name="Stranger")
    drain()  # one by one
    assert emulator.get_member(api_key, list_id, alone.email)["status"] == "subscribed"
    assert emulator.get_member(api_key, list_id, alone.email)["merge_fields"]["FNAME"] == "Guest"
    assert row_of(alone).foreign_member is True

    crowd = [new_person(email=email, first_name="Stranger") for email in emails[1:]]
    emulator.clear_requests()
    run_due_work()
    assert bulk.resume_batches(burst_settings.shop_id, poll_interval=0.02, timeout=30) == 0
    assert batch_posts(emulator) and not member_writes(emulator), "the first writes went in batches"
    make_all_due()
    drain()  # their next plans: the consent as a change
    for person in crowd:
        member = emulator.get_member(api_key, list_id, person.email)
        assert member["status"] == "subscribed"
        assert member["merge_fields"]["FNAME"] == "Guest", "the guest buyer's names were overwritten by the account's"
        assert row_of(person).foreign_member is True


def strangers_at_guest_buyers_addresses(burst_settings, mailchimp_account, emails):
    """Guest buyers' members (transactional, their own names) at ``emails``; an account the staff give consent at
    each, sent (in a burst when they are many), then their consent sent as a change. Returns the accounts."""
    emulator, api_key, list_id = mailchimp_account
    emulator.add_members(api_key, list_id, emails, status="transactional", merge_fields={"FNAME": "Guest"})
    crowd = [new_person(email=email, first_name="Stranger") for email in emails]
    run_due_work()
    assert bulk.resume_batches(burst_settings.shop_id, poll_interval=0.02, timeout=30) == 0
    assert bool(batch_posts(emulator)) is (len(emails) > 1)
    make_all_due()
    drain()
    return crowd


@pytest.mark.parametrize("count", [1, THRESHOLD + 1], ids=["one-by-one-control", "burst"])
def test_erasing_a_strangers_account_keeps_the_guest_buyers_member_in_a_burst_as_one_by_one(
        burst_settings, mailchimp_account, count):
    """As above, then each account is erased (GDPR, its contact deleted): one by one the guest buyer's member is not
    the account's (foreign_member True) and stays; after a burst the row says "not known" (None), the erasure takes
    the member for the account's own and deletes the guest buyer's member permanently (Mailchimp never lets the API
    add that address again)."""

    emulator, api_key, list_id = mailchimp_account
    emails = ["guest.erase.aud15.%d@fastmail.com" % number for number in range(count)]
    crowd = strangers_at_guest_buyers_addresses(burst_settings, mailchimp_account, emails)
    for person in crowd:
        PersonContact.objects.get(pk=person.pk).delete()
    make_all_due()
    drain()
    for email in emails:
        member = emulator.get_member(api_key, list_id, email)
        assert member is not None, "the guest buyer's member %s was deleted for good by a stranger's erasure" % email


@pytest.mark.parametrize("count", [1, THRESHOLD + 1], ids=["one-by-one-control", "burst"])
def test_a_strangers_account_moving_away_leaves_the_guest_buyers_member_in_a_burst_as_one_by_one(
        burst_settings, mailchimp_account, count):
    """As above, then each account's address is changed to its owner's real one: one by one the guest buyer's member
    is not the account's (foreign_member True) and stays at the guest's address; after a burst the row says "not
    known" (None), so the move renames the guest buyer's member to the account's new address."""

    emulator, api_key, list_id = mailchimp_account
    emails = ["guest.move.aud15.%d@fastmail.com" % number for number in range(count)]
    crowd = strangers_at_guest_buyers_addresses(burst_settings, mailchimp_account, emails)
    for number, person in enumerate(crowd):
        person = PersonContact.objects.get(pk=person.pk)
        person.email = "stranger.own.aud15.%d@fastmail.com" % number
        person.save()
    make_all_due()
    drain()
    for email in emails:
        member = emulator.get_member(api_key, list_id, email)
        assert member is not None and member["merge_fields"]["FNAME"] == "Guest", (
            "the guest buyer's member %s was moved away by a stranger's address change" % email)


@pytest.mark.parametrize("count", [1, THRESHOLD + 1], ids=["one-by-one", "burst"])
def test_an_address_proven_after_the_first_send_makes_the_member_the_contacts_own_in_a_burst_as_one_by_one(
        burst_settings, mailchimp_account, count):
    """As above, but the accounts are the guest buyers' own, and they join a tag group (its tag taken as the guest
    member's own while the member is not theirs; the marketer had tagged the first member so by hand). Each then
    clicks the activation link mailed to the address (shop_consent.record_proof), and nothing else of theirs
    changes. The proof queued nothing, and a send would have skipped the member write anyway (its member half of the
    fingerprint counted as sent): their names never reached their own members, the rows stayed foreign_member, and
    the group's tag was never added (independent review aud15, finding 8). A tag the marketer added stays theirs."""
    emulator, api_key, list_id = mailchimp_account
    gold = create_random_contact_group(shop=burst_settings.shop)
    MailchimpConfiguration.objects.filter(pk=burst_settings.pk).update(interest_group_ids=[], tag_group_ids=[gold.pk])
    gold_tag = gold.safe_translation_getter("name", any_language=True)
    emails = ["guest.proven.aud15.%d@fastmail.com" % number for number in range(count)]
    crowd = strangers_at_guest_buyers_addresses(burst_settings, mailchimp_account, emails)
    tag_by_hand(mailchimp_account, crowd[0], gold_tag)
    gold.members.add(*crowd)
    make_all_due()
    drain()
    assert all(row_of(person).foreign_member is True for person in crowd)
    assert [tag_names(member_of(mailchimp_account, person)) for person in crowd] == [[gold_tag]] + [[]] * (count - 1)
    for person in crowd:
        shop_consent.record_proof(person.pk, person.email)
    emulator.clear_requests()
    run_due_work()
    assert bulk.resume_batches(burst_settings.shop_id, poll_interval=0.02, timeout=30) == 0
    assert bool(batch_posts(emulator)) is (count > 1)
    make_all_due()
    drain()
    for person in crowd:
        member = member_of(mailchimp_account, person)
        assert member["merge_fields"]["FNAME"] == "Stranger", "the proven owner's names never reach their member"
        assert (member["status"], tag_names(member)) == ("subscribed", [gold_tag])
        assert row_of(person).foreign_member is False
    gold.members.clear()
    make_all_due()
    drain()
    assert [tag_names(member_of(mailchimp_account, person)) for person in crowd] == [[gold_tag]] + [[]] * (count - 1), (
        "the marketer's tag stays, the shop's own are removed")
