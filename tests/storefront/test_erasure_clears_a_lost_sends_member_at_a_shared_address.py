"""Found by independent review aud53 (issue 19) of 801711b, F4 (fixed: the member at the shared address is cleared too
unless its owner signed up there since; GDPR): for an erasure whose row's address another contact has, 801711b's moved
path (``ErasePlan._erase_member_at_address`` -> ``_own_member_moved_away`` -> ``_delete_own_member(moved=True)``) erases
only the contact's member where it moved, and no longer touches the member at the row's address (before 801711b,
``_keep_member`` cleared the erased contact's mapped fields there first). A send of the contact after the move whose
answer was lost (a timeout) created a member at the row's address with the contact's data, and its id never reached the
row: the erasure takes the contact's member for moved, deletes the one at home@, and leaves the new member at family@
with the erased person's names for good (the row is ERASED: nothing retries)."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import send_due
from tests.storefront.helpers import vera_renamed_after_her_shared_member_moved

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("lost", [False, True], ids=["control-answer-heard", "answer-lost"])
def test_erasure_clears_her_data_from_the_member_a_lost_send_wrote_at_her_shared_address(
        configuration, mailchimp_account, settings, lost):
    """Harm (GDPR): Vera is erased in the shop; her corrected names ("Vera Secretname-Smith") stay for good on the
    member at family@ (an address Carl, another contact of the shop, has).

    Steps: Vera (consents) is sent: her member at family@, subscribed. Carl (no consent) has family@ too. On Mailchimp's
    profile page the member's address is changed to home@ (the upemail has not reached the shop). Vera's last name is
    corrected in the shop; the worker sends it: no member at family@, so the PUT creates one there with her names
    ("answer-lost": the answer is lost, a timeout: her row still records her old member's id). Vera's account is
    deleted; the worker sends the erasure: the member at family@ has another id, her old one is at home@: moved, so
    only home@ is erased.

    Control ("control-answer-heard"): the same with the answer heard: the row records the new member's id, and the
    erasure clears her names at family@ (``_keep_member``). Expected in both: the member at family@ carries no
    "Secretname" (home@, in the control, is F2's)."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=(1, 0.3))
    family, home = "family.%d.aud53f4@fastmail.com" % lost, "home.%d.aud53f4@fastmail.com" % lost
    vera = vera_renamed_after_her_shared_member_moved(mailchimp_account, family, home, lost)
    PersonContact.objects.get(pk=vera.pk).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, family)
    fields = member and member["merge_fields"]
    assert not member or not any("Secretname" in str(value) for value in fields.values()), (
        "Vera was erased; her data stays on the member at family@: %r (%s)" % (fields, member["status"]))
