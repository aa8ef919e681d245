"""Found by independent review aud54 (issue 19) of 61e8bef, F3 (fixed: the member at the address is handled before the
moved one; GDPR): in ``ErasePlan._erase_shared_own_member`` the member at the row's shared address is handled only after
the contact's own member, moved in Mailchimp, is erased where it moved (``_delete_own_member(moved=True)``). When
Mailchimp refuses that member's delete for good (a 400), the exception leaves the step before the member at the row's
address is looked at: a member a lost send of the contact created there keeps the erased person's names, on every
resend, as long as the other member is refused. ``erase_members`` (review aud48 F1, F2) promises that "a member that
cannot be deleted must not keep the others ... with the erased person's data"."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import make_all_due, refused_for_good, row_of, send_due
from tests.storefront.helpers import vera_renamed_after_her_shared_member_moved

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("refused", [False, True], ids=["control-moved-member-deleted", "moved-member-refused"])
def test_a_refused_moved_member_does_not_keep_her_data_at_the_shared_address(
        configuration, mailchimp_account, settings, refused):
    """Harm (GDPR): Vera is erased in the shop; her corrected names ("Vera Secretname-Smith") stay on the member at
    family@ (an address Carl, another contact of the shop, has), because Mailchimp refuses a write of another member
    (her old one, moved to home@). Resending the erasure does the same.

    Steps: Vera (consents) is sent: her member at family@. Carl (no consent) has family@ too. On Mailchimp's profile
    page the member's address is changed to home@ (the upemail does not reach the shop). Vera's last name is corrected;
    the worker sends it: the PUT creates a new member at family@ with her names, its answer lost (the row keeps the old
    id). Mailchimp refuses every write of home@'s member for good ("moved-member-refused"). Vera's account is deleted;
    the worker sends the erasure: the moved member's delete at home@ is refused, and the member at family@ is never
    cleared; the erasure is sent again: the same.

    Control ("control-moved-member-deleted"): the same without the refusal: home@ is deleted and family@ is cleared
    (``_keep_member``). Expected in both: the member at family@ carries no "Secretname"."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=(1, 0.3))
    family, home = "family.%d.aud54f3@fastmail.com" % refused, "home.%d.aud54f3@fastmail.com" % refused
    vera = vera_renamed_after_her_shared_member_moved(mailchimp_account, family, home)
    if refused:
        refused_for_good(emulator, home)
    PersonContact.objects.get(pk=vera.pk).delete()
    send_due(rounds=3)
    if refused:
        assert row_of(vera).status == "failed", "setup: the erasure closed as partly refused"
        from shoop_mailchimp.models import SyncState
        SyncState.objects.filter(pk=row_of(vera).pk).update(status="pending")  # sent again (as from the admin)
        make_all_due()
        send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, family)
    fields = member and member["merge_fields"]
    assert not member or not any("Secretname" in str(value) for value in fields.values()), (
        "Vera was erased; her data stays on the member at family@: %r (%s)" % (fields, member["status"]))
