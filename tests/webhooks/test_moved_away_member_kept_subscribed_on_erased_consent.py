"""Found by independent review aud57 (issue 19) of dcc101d, F4 (fixed: a member a send found moved away is remembered as
moved, and its erasure ends its subscription; consent): the member a resend finds moved away
(``ContactPlan._remember_own_member_moved_away``, new in dcc101d) is remembered as a member *left*, and the erasure then
keeps it subscribed on the erased contact's consent.

Harm: Vera (consenting, her send created family@'s member: subscribed by her consent) shares family@ with Carl (no
consent). On Mailchimp's profile page the member is moved to home@ (the upemail never reaches the shop). Vera's rename
is sent: the PUT at family@ creates a new member there, its answer heard; ``_wrote_another_member`` ->
``_remember_own_member_moved_away`` records home@'s member in ``members_left`` with ``status: subscribed`` -- the
subscription Vera's consent made, never unsubscribed when "left". Vera's account is deleted. The erasure handles family@
(kept for Carl, unsubscribed) and then ``_delete_member_left`` finds home@ subscribed and takes it for a signup "by its
owner's consent since the contact left it": ``_clear_member_left`` keeps it *subscribed*, only its fields cleared. The
rule that a member left subscribed is its owner's holds for members the contact's own sends left (its consent
unsubscribed or archived there as it left), not for one its owner moved while it carried the contact's consent. Nobody
but the erased Vera ever consented to that subscription; home@ keeps getting the newsletter.

Steps: ``vera_renamed_after_her_shared_member_moved`` (tests/storefront/helpers.py) with ``lost`` False ("heard") or
True (the control). Vera is deleted; the worker sends the erasure.

Control (``control-rename-answer-lost``, passes): the same set-up whose rename answer was lost: the row keeps the old
member's id, the erasure finds home@ by it (``_erase_shared_own_member`` -> ``_delete_own_member(moved=True)``) and
deletes it. Expected in both: no subscribed member at home@."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import row_of, send_due
from tests.storefront.helpers import vera_renamed_after_her_shared_member_moved

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("lost", [True, False], ids=["control-rename-answer-lost", "rename-answer-heard"])
def test_the_erasure_ends_the_consent_at_a_member_its_owner_moved(configuration, mailchimp_account, settings, lost):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=(1, 0.3))
    family, home = "family.%d.aud57f4@fastmail.com" % lost, "home.%d.aud57f4@fastmail.com" % lost
    vera = vera_renamed_after_her_shared_member_moved(mailchimp_account, family, home, lost=lost)
    assert emulator.get_member(api_key, list_id, home)["status"] == "subscribed", "setup: Vera's consent moved there"
    if not lost:
        assert [entry["email"] for entry in row_of(vera).members_left] == [home], "setup: remembered as left"
    assert not PersonContact.objects.filter(email=home).exists(), "setup: no contact of the shop has home@"
    PersonContact.objects.get(pk=vera.pk).delete()
    send_due(rounds=3)
    assert row_of(vera).member_status == "erased", "setup: the erasure finished"
    moved = emulator.get_member(api_key, list_id, home)
    assert moved is None or moved["status"] not in ("subscribed", "pending"), (
        "Vera was erased; the member at %s that her consent subscribed (moved there in Mailchimp) stays %r, "
        "fields %r" % (home, moved["status"], {k: v for k, v in moved["merge_fields"].items() if v}))
