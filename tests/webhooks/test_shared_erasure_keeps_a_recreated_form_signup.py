"""Found by independent review aud53 (issue 19) of 801711b, F1 (fixed: a member its owner signed up again at a shared
address is left as it is, ``ErasePlan._erase_shared_own_member``; consent, data): the erasure of a contact whose address
another contact of the shop has (``ErasePlan._erase_member_at_address``, ``shared``) takes whatever member is at the
address for the one the contacts share (``_keep_member``), without asking whether it is still the member the erased
contact's sends wrote (``created_again``: another ``unique_email_id``). The contact's member was deleted for good in
Mailchimp and the address's owner signed up again on Mailchimp's own form (a new member, a new ``unique_email_id``, the
names they typed): ``_own_member_moved_away`` finds the row's id nowhere (so, not moved) and ``_keep_member``
unsubscribes the owner's new subscription (none of the address's other contacts consents: ``withdraw``) and blanks the
names the owner typed. The unshared path (``_delete_own_member``) keeps such a member as it is (its owner's)."""
import pytest
from django.test import Client
from shuup.core.models import PersonContact

from tests.helpers import send_due
from tests.webhooks.helpers import owner_signs_up_again_after_a_delete, post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("carl,heard", [(False, False), (True, False), (True, True)],
                         ids=["control-address-not-shared", "carl-shares-the-address", "carl-shares-webhook-heard"])
def test_erasure_of_a_shared_address_leaves_its_owners_new_form_signup_alone(
        configuration, mailchimp_account, settings, carl, heard):
    """Harm (consent; data): the owner of family@ subscribed themselves on Mailchimp's form; the shop's erasure of
    another person (Vera) ends that subscription and wipes the names they typed there. Neither they nor the shop asked.

    Steps: Vera (consents) is sent: her member at family@, subscribed, her names. ("carl-...") Carl (no consent, a
    duplicate the staff added) has family@ too and is sent (the member is not his: foreign_member). A marketer deletes
    the member for good in Mailchimp; the address's owner then signs up again on Mailchimp's form as "Fam Owner" (a new
    member, a new unique_email_id; the webhook does not reach the shop: no webhook base URL set; "...-webhook-heard": it
    does). Vera's account is deleted; the worker sends the erasure: shared (Carl), not moved (the row's id is nowhere),
    so ``_keep_member`` unsubscribes family@ (nobody else consents) and clears FNAME/LNAME.

    Control ("control-address-not-shared"): the same without Carl: ``_delete_own_member`` sees the member was created
    again since and leaves it as it is. Expected in both: the owner's new member is still subscribed with "Fam
    Owner"."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    family = "family.%d%d.aud53f1@fastmail.com" % (carl, heard)
    vera, new = owner_signs_up_again_after_a_delete(mailchimp_account, family, carl)
    if heard:
        assert post_event(Client(), configuration, "subscribe", email=family).status_code == 200
    PersonContact.objects.get(pk=vera.pk).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, family)
    assert member is not None and (member["status"], member["merge_fields"].get("FNAME"),
                                   member["merge_fields"].get("LNAME")) == ("subscribed", "Fam", "Owner"), (
        "the owner's own form signup after Vera's erasure: %r" % (
            member and (member["status"], member["merge_fields"]),))
