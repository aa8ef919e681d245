"""Errors are scoped: a missing interest, category or order is repaired, or fails its one item; only the
key, the audience or the store being gone pauses a shop. Our own bugs are retried a few times with the
traceback kept, then reported."""
import pytest
from shuup.testing.factories import create_random_contact_group

from shoop_mailchimp.mailchimp.resources import interests_path, list_path
from shoop_mailchimp.mailchimp.transport import MailchimpSession
from shoop_mailchimp.models import (
    ContactGroupInterest,
    MailchimpConfiguration,
    MailchimpLogEntry,
    SyncStatus,
)
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.kinds import contact as contact_kind
from shoop_mailchimp.sync.outcome import UNEXPECTED_ATTEMPTS
from tests.helpers import make_all_due, new_person, row_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def deleted_in_mailchimp(api_key, path):
    with MailchimpSession(api_key) as session:
        session.delete(path)


def interest_of(configuration, group):
    return ContactGroupInterest.objects.get(shop_id=configuration.shop_id, group_id=group.pk).interest_id


def assert_not_paused(configuration):
    assert MailchimpConfiguration.objects.get(pk=configuration.pk).paused_reason == ""


def test_an_interest_deleted_in_mailchimp_is_created_again_when_its_group_is_renamed(configuration,
                                                                                    mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    group = create_random_contact_group(shop=configuration.shop)
    member = new_person()
    group.members.add(member)
    old_interest = interest_of(configuration, group)
    deleted_in_mailchimp(api_key, interests_path(list_id, configuration.interest_category_id, old_interest))
    group.name = "Renamed after the delete"
    group.save()
    assert_not_paused(configuration)
    new_interest = interest_of(configuration, group)
    assert new_interest != old_interest
    names = {i["id"]: i["name"] for i in emulator.interest_categories(api_key, list_id)[0]["interests"]}
    assert names[new_interest] == "Renamed after the delete"
    assert emulator.get_member(api_key, list_id, member.email)["interests"][new_interest] is True


def test_a_contact_sent_with_a_deleted_interest_repairs_the_groups_and_arrives(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    group = create_random_contact_group(shop=configuration.shop)
    member = new_person()
    group.members.add(member)
    deleted_in_mailchimp(api_key, interests_path(list_id, configuration.interest_category_id,
                                                 interest_of(configuration, group)))
    member.first_name = "Edited"
    member.save()  # "Invalid interest ID": the groups are checked, the contact is sent again after them
    assert_not_paused(configuration)
    assert MailchimpLogEntry.objects.filter(action="contact.sync", contact_id=member.pk,
                                            message__contains="interest").exists()
    assert MailchimpLogEntry.objects.filter(action="interest.missing").exists()
    assert row_of(member).status == SyncStatus.SYNCED
    sent = emulator.get_member(api_key, list_id, member.email)
    assert sent["merge_fields"]["FNAME"] == "Edited"
    assert sent["interests"][interest_of(configuration, group)] is True


def test_a_deleted_interest_category_is_created_again(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    deleted_in_mailchimp(api_key, list_path(list_id) + "/interest-categories/" + configuration.interest_category_id)
    group = create_random_contact_group(shop=configuration.shop)
    member = new_person()
    group.members.add(member)
    make_all_due()
    drain()
    configuration.refresh_from_db()
    assert_not_paused(configuration)
    [category] = emulator.interest_categories(api_key, list_id)
    assert category["id"] == configuration.interest_category_id
    assert emulator.get_member(api_key, list_id, member.email)["interests"][interest_of(configuration, group)] is True


def test_a_404_on_one_member_fails_that_contact_alone(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    first = new_person()
    emulator.faults.fail_email("lost@fastmail.com", status=404, title="Resource Not Found",
                               detail="The requested resource could not be found.")
    lost, after = new_person(email="lost@fastmail.com"), new_person()
    assert row_of(lost).status == SyncStatus.FAILED
    assert {row_of(first).status, row_of(after).status} == {SyncStatus.SYNCED}
    assert_not_paused(configuration)


def test_an_unexpected_error_is_retried_with_its_traceback_then_reported(configuration, mailchimp_account,
                                                                       monkeypatch):
    def broken(self, status=None, **options):
        raise KeyError("a bug in a plan")

    monkeypatch.setattr(contact_kind.ContactPlan, "member_operation", broken)
    contact = new_person()
    row = row_of(contact)
    assert row.status == SyncStatus.PENDING and "KeyError" in row.last_error
    assert "Traceback" in row.last_error_data["traceback"] and "member_operation" in row.last_error_data["traceback"]
    for _attempt in range(UNEXPECTED_ATTEMPTS):
        make_all_due()
        drain()
    row = row_of(contact)
    assert row.status == SyncStatus.FAILED and row.attempts == UNEXPECTED_ATTEMPTS
    assert "unexpected error" in row.last_error
    assert_not_paused(configuration)
