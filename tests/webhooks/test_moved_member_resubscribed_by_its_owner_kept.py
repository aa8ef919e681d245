"""Found by independent review aud58 (issue 19) of d769789, F3 (fixed: an unsubscribe at a member a row remembers as
left ends the consent it carried there; consent, data loss): an erasure permanently deletes a member remembered as
``moved`` even after its owner unsubscribed there and signed up again on Mailchimp's own form.

Harm: ``vera_renamed_after_her_shared_member_moved`` (heard): Vera (consenting) and Carl (no consent) share family@; on
Mailchimp's profile page the member is moved to home@ (the upemail never reaches the shop); Vera's rename creates a new
member at family@ and remembers home@'s as a member left with ``moved: True`` (``ContactPlan._remember_own_member_moved_
away``). The owner of home@ then unsubscribes and signs up again on Mailchimp's own form (both webhooks reach the shop;
no row of the shop names home@, so nothing records them; the entry still says ``subscribed``). Vera's account is
deleted. ``ErasePlan._delete_member_left`` skips its "subscribed or pending: its owner's consent since" rule for any
``moved`` entry (new in d769789) and calls ``erase_member`` (delete-permanent): the owner's own signup, made after
Vera's consent was ended there, is deleted for good, and Mailchimp will not take the address through the API again. The
entry's ``moved`` rule assumes the subscription is still Vera's consent; nothing checks that it is (the
``timestamp_signup``, or an unsubscribe since).

Steps: DELIVERY=worker, short TIMEOUT; ``vera_renamed_after_her_shared_member_moved(lost=False)``; with
``resubscribed``, ``owner_resubscribes_on_the_form`` at home@; Vera deleted; the worker runs.

Control (``control-owner-did-nothing``, passes: aud57 F4's expectation): without the owner's unsubscribe and signup,
home@ (Vera's consent) is deleted. Expected with ``resubscribed``: home@ still exists, subscribed (the owner's)."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import row_of, send_due
from tests.storefront.helpers import vera_renamed_after_her_shared_member_moved
from tests.webhooks.helpers import owner_resubscribes_on_the_form

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("resubscribed", [False, True], ids=["control-owner-did-nothing", "owner-signed-up-again"])
def test_an_erasure_keeps_the_moved_members_new_signup_by_its_owner(
        configuration, mailchimp_account, settings, resubscribed):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=(1, 0.3))
    family, home = "family.%d.aud58f3@fastmail.com" % resubscribed, "home.%d.aud58f3@fastmail.com" % resubscribed
    vera = vera_renamed_after_her_shared_member_moved(mailchimp_account, family, home, lost=False)
    assert [entry.get("moved") for entry in row_of(vera).members_left] == [True], "setup: remembered as moved"
    if resubscribed:
        owner_resubscribes_on_the_form(configuration, mailchimp_account, home)
    PersonContact.objects.get(pk=vera.pk).delete()
    send_due(rounds=3)
    assert row_of(vera).member_status == "erased", "setup: the erasure finished"
    member = emulator.get_member(api_key, list_id, home)
    if not resubscribed:
        assert member is None or member["status"] not in ("subscribed", "pending"), "Vera's consent kept: %r" % member
        return
    assert member is not None and member["status"] == "subscribed", (
        "the owner of %s unsubscribed and signed up again on Mailchimp's form after the member moved there; Vera's "
        "erasure deleted that signup for good: %r" % (home, member))
