"""Found by independent review aud57 (issue 19) of dcc101d, F1 (fixed: a finished erasure clears its row's digests, and
digests are keyed; GDPR): an erasure that finishes keeps ``SyncState.fields_written`` on the erased row for good.

Harm: the digests are unsalted sha256 (first 16 hex digits) of ``json.dumps(value)``. For short values (a birthday
"MM/DD": 366 candidates; a phone number; a name from a list of names) they are the value: anyone who reads the shop's
database (a backup, a support dump, the admin's JSON) gets the erased person's birthday back in a fraction of a second.
The erased row stays in the table after the erasure (``member_status`` "erased"), and its successful outcome
(``ErasePlan.run``: ``Outcome.synced(email="", ..., members_left=[])``) clears the address, the tags and the members
left, but not ``fields_written`` (nor does any later step): personal data of an erased person outlives its erasure in
the shop.

Steps: a contact with a birthday (the audience has the default BIRTHDAY field, mapped by default) is sent; its row notes
the digests; the contact is deleted (the shop's erasure); the erasure runs and finishes.

Control: on the same set-up the erasure clears what else named the person on the row (its address, the members it left):
``test_control_the_erasure_clears_the_address`` passes. The defect's probe fails because ``fields_written`` still holds
the BIRTHDAY digest, and the birthday is recovered from it by trying the 366 days of a year."""
import datetime

import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.sync.kinds.contact import field_digest
from tests.helpers import new_person, row_of, send_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


def _erased(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=True, first_name="Erin", last_name="Privateperson",
                        birth_date=datetime.date(1984, 7, 23), email="erin.birthday.aud57@fastmail.com")
    send_due(rounds=2)
    member = emulator.get_member(api_key, list_id, person.email)
    assert member["merge_fields"].get("BIRTHDAY") == "07/23", "setup: the birthday was sent"
    assert "BIRTHDAY" in (row_of(person).fields_written or {}), "setup: its digest was noted"
    PersonContact.objects.get(pk=person.pk).delete()
    send_due(rounds=3)
    row = row_of(person)
    assert row.member_status == "erased", "setup: the erasure finished"
    assert emulator.get_member(api_key, list_id, person.email) is None, "setup: the member was deleted"
    return row


def test_control_the_erasure_clears_the_address(configuration, mailchimp_account):
    row = _erased(configuration, mailchimp_account)
    assert (row.email, row.shop_email, row.members_left) == ("", "", [])


def test_the_erased_persons_birthday_is_recoverable_from_the_row(configuration, mailchimp_account):
    row = _erased(configuration, mailchimp_account)
    digests = (row.fields_written or {}).get("BIRTHDAY") or []
    days = (datetime.date(2000, 1, 1) + datetime.timedelta(days=n) for n in range(366))
    recovered = [day.strftime("%m/%d") for day in days if field_digest(day.strftime("%m/%d")) in digests]
    assert row.fields_written is None and not recovered, (
        "the erased row still holds digests of the erased person's data %r; the birthday is recovered from them: %r"
        % (row.fields_written, recovered))
