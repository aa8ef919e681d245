"""Found by independent review aud36 (issue 19), F2 (data, GDPR): an erasure skipped the contact's own member found
by its ``unique_email_id`` at an address the contact had left (another member's entry there): neither path deleted
it. Only an entry with the same ``unique_email_id`` is left to ``erase_members_left`` now."""
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import fired, mailchimp_form, webhook_path

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("upemail_late", [False, True], ids=["control-upemail-delivered", "upemail-late"])
def test_erasure_reaches_her_member_moved_back_to_an_address_she_left(
        shop, configuration, mailchimp_account, client, settings, upemail_late):
    """Harm (GDPR data loss): Vera is erased in the shop, and her own member in Mailchimp (her names) stays for good.

    Steps: Vera (no consent) is sent at vera@old: her member X. In the shop her address becomes common@, where
    Mailchimp holds a form subscriber's member: X stays at vera@old (``members_left``: [vera@old, X]). Her address
    then becomes vera@new: a member of her own, U, is created there (the row's ``unique_email_id``). A marketer
    deletes the old member X for good (a clean-up). In Mailchimp's profile page Vera changes U's address back to
    vera@old (the upemail delivery fails; Mailchimp retries it later). Her account is deleted:
    ``_delete_own_member`` finds nothing at vera@new, finds U by its ``unique_email_id`` at vera@old, and drops it
    because vera@old is in ``members_left`` ("a member the contact left has its own rules"); but
    ``_delete_member_left`` compares the entry's id (X) with the member there (U) and keeps it as "created again
    since". U, her own member with her names, is never deleted. Control: the upemail arrives in time (her row
    addresses vera@old): the erasure deletes U."""
    from shuup.core.models import PersonContact

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    tag = "late" if upemail_late else "ontime"
    old, common, new = ["vera.ml36.%s.%s@fastmail.com" % (tag, part) for part in ("old", "common", "new")]
    vera = new_person(permission=False, email=old, first_name="Vera", last_name="Secretname")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, old), "setup"
    emulator.fire_event(api_key, list_id, "subscribe", common)  # a form subscriber's own member
    vera.refresh_from_db()
    vera.email = common
    vera.save()
    send_due(rounds=2)
    assert [entry["email"] for entry in row_of(vera).members_left] == [old], "setup: %r" % row_of(vera).members_left
    vera.refresh_from_db()
    vera.email = new
    vera.save()
    send_due(rounds=2)
    row = row_of(vera)
    member = emulator.get_member(api_key, list_id, new)
    assert row.email == new and row.foreign_member is False and member, "setup: %r" % ((row.email, row.foreign_member),)
    assert row.unique_email_id == member["unique_email_id"], "setup"
    emulator.edit_member_by_hand(api_key, list_id, old, delete=True)
    emulator.fire_event(api_key, list_id, "upemail", new, new_email=old)
    if not upemail_late:
        assert client.post(webhook_path(configuration), mailchimp_form(
            "upemail", list_id, fired_at=fired(timezone.now() - timedelta(seconds=1)), old_email=new,
            new_email=old, new_id=member["unique_email_id"])).status_code == 200
        send_due(rounds=2)
        assert row_of(vera).email == old, "setup"
    assert emulator.get_member(api_key, list_id, old)["merge_fields"].get("LNAME") == "Secretname", "setup"
    PersonContact.objects.get(pk=vera.pk).delete()  # erasure
    send_due(rounds=3)
    left = emulator.get_member(api_key, list_id, old)
    assert left is None, "Vera was erased; her own member at %s keeps her data: %r" % (
        old, {key: left.get(key) for key in ("status", "unique_email_id", "merge_fields")})
