"""Found by independent review aud54 (issue 19) of 61e8bef, F2 (fixed, as aud53 F3: the row keeps a digest of each merge
field its sends wrote, ``SyncState.fields_written``; data loss): ``ErasePlan._erase_shared_own_member`` leaves a member
its owner re-created at the erased contact's shared address alone only while it is subscribed or pending; one that is
not (its owner unsubscribed since) goes to ``_keep_member``, which clears every mapped merge field on it (and writes it
unsubscribed again). That member is not the one the erased contact's sends wrote (another ``unique_email_id``, no signup
stamp of the row: ``created_again``) and none of the erased person's data is on it: the names its owner typed on
Mailchimp's form are wiped. The unshared path (``_delete_own_member``: ``replaced``) leaves such a member as it is."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import row_of, send_due
from tests.webhooks.helpers import owner_signs_up_again_after_a_delete

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("carl", [False, True], ids=["control-address-not-shared", "carl-shares-the-address"])
def test_erasure_of_a_shared_address_keeps_the_names_on_its_owners_recreated_unsubscribed_member(
        configuration, mailchimp_account, settings, carl):
    """Harm (data loss): the owner of family@ signed up again on Mailchimp's form as "Fam Owner", then unsubscribed;
    the shop's erasure of another person (Vera) blanks the names they typed on their own member. Neither they nor the
    shop asked, and none of it was Vera's.

    Steps: Vera (consents) is sent: her member at family@, subscribed, her names. ("carl-...") Carl (no consent) has
    family@ too and is sent. A marketer deletes the member for good in Mailchimp; the address's owner signs up again on
    Mailchimp's form as "Fam Owner" (a new member, a new unique_email_id), then unsubscribes on Mailchimp's page (the
    webhooks do not reach the shop). Vera's account is deleted; the worker sends the erasure: shared (Carl), the member
    at family@ has another id and is unsubscribed, so ``_keep_member`` clears FNAME/LNAME.

    Control ("control-address-not-shared"): the same without Carl: ``_delete_own_member`` sees the member was created
    again since and leaves it as it is. Expected in both: the owner's member still reads "Fam Owner"."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    family = "family.%d.aud54f2@fastmail.com" % carl
    vera, new = owner_signs_up_again_after_a_delete(mailchimp_account, family, carl)
    member, _ = emulator.fire_event(api_key, list_id, "unsubscribe", family)
    assert member["status"] == "unsubscribed", "setup"
    PersonContact.objects.get(pk=vera.pk).delete()
    send_due(rounds=3)
    assert row_of(vera).member_status == "erased", "setup: the erasure was sent"
    member = emulator.get_member(api_key, list_id, family)
    assert member is not None and (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == (
        "Fam", "Owner"), "the owner's own names on their re-created member after Vera's erasure: %r" % (
            member and (member["status"], member["merge_fields"]),)
