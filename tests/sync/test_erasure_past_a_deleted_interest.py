"""Found by independent review aud47 (issue 19) of 8312248, F1 (GDPR; fixed): an erasure that keeps a member another
contact of the shop has (``ErasePlan._keep_member``) clears the erased person's merge fields in a PATCH that also
switches off every interest of the shop's contact groups (aud37 F4). When an interest is gone in Mailchimp (a marketer
deleted the group category), Mailchimp refused the whole write (400 "Invalid interest ID"): the erasure row closed
FAILED and the erased person's names stayed on the member for good. Fixed: ``contact.write_kept_member`` reads the
interests the member still has and writes again naming only those."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncStatus
from tests.helpers import (
    group_chosen_as_an_interest,
    interest_categories_deleted_in_mailchimp,
    row_of,
    send_due,
    sharing_a_member_with_a_duplicate,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("interest_deleted", [False, True], ids=["control-interest-kept", "interest-deleted"])
def test_an_erasure_clears_the_erased_persons_names_from_a_shared_member(configuration, mailchimp_account, settings,
                                                                        interest_deleted):
    """Harm (GDPR): Ann has her account deleted (erasure); the member she shares with another contact of the shop
    keeps her last name ("Secretname") in Mailchimp for good, and her erasure row ends FAILED.

    Steps: a contact group is chosen as a Mailchimp interest. Ann ("Ann Secretname", consenting) is sent: the member
    at her address is hers. A second contact with the same address (consenting) is sent: the member is theirs too. A
    marketer deletes the group category in Mailchimp. Ann is deleted in the shop; the worker sends her erasure.

    Expected (control: the same without the category deleted): the member is kept for the other contact, without
    Ann's last name, and the erasure row is synced."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    group_chosen_as_an_interest(configuration)
    email = "ann.aud47f1.%d@fastmail.com" % interest_deleted
    ann = sharing_a_member_with_a_duplicate(emulator, api_key, list_id, email)
    if interest_deleted:
        interest_categories_deleted_in_mailchimp(emulator, api_key, list_id)
    PersonContact.objects.get(pk=ann.pk).delete()  # erasure
    send_due(rounds=5)
    row = row_of(ann)
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and member["merge_fields"].get("LNAME") != "Secretname", (
        "Ann was erased; the member she shares keeps her last name: %r; her erasure row is %s: %s" % (
            member and member["merge_fields"], row.status, row.last_error))
    assert row.status == SyncStatus.SYNCED, (row.status, row.last_error)
