"""Found by independent review aud53 (issue 19) of 801711b, F2 (fixed: a send whose write answers with another member
than the row's looks its own up by id, and remembers it as a member left; GDPR, consent):
``ErasePlan._own_member_moved_away`` finds the contact's member moved away in Mailchimp only by the row's
``unique_email_id``. When the contact was sent once more after the move (its upemail not heard yet; a name corrected),
the send found no member at the row's address and CREATED a new one there (``ContactPlan``: no follow by id on an
ordinary send), and the row now records the NEW member's id. The moved member (the erased person's names, subscribed by
her consent) is recorded nowhere (not in ``members_left``): the erasure never reaches it, and nothing retries (the row
is ERASED)."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import send_due
from tests.webhooks.helpers import vera_shares_her_member_with_carl

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("resent", [False, True], ids=["control-not-resent", "resent-after-the-move"])
def test_erasure_reaches_her_moved_member_after_a_resend(configuration, mailchimp_account, settings, resent):
    """Harm (GDPR + consent): Vera is erased in the shop; her own member in Mailchimp (moved by her to home@ on
    Mailchimp's profile page) keeps her names and stays subscribed by her erased consent, for good.

    Steps: Vera (consents) is sent: her member at family@, subscribed, "Vera Secretname". Carl (no consent) has family@
    too. On Mailchimp's profile page the member's address is changed to home@ (the upemail delivery has not reached
    the shop). ("resent-...") Vera's last name is corrected in the shop and sent: no member at family@, so the send
    creates a new one there, and Vera's row records its id. Vera's account is deleted; the worker sends the erasure.

    Control ("control-not-resent"): no resend: ``_own_member_moved_away`` finds her member at home@ by its id and
    deletes it (801711b). Expected in both: no member of the audience carries "Secretname" after the erasure."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    family, home = "family.%d.aud53f2@fastmail.com" % resent, "home.%d.aud53f2@fastmail.com" % resent
    vera, _carl = vera_shares_her_member_with_carl(mailchimp_account, family)
    emulator.fire_event(api_key, list_id, "upemail", family, new_email=home)  # its delivery does not reach the shop
    if resent:
        vera = PersonContact.objects.get(pk=vera.pk)
        vera.last_name = "Secretname-Smith"
        vera.save()
        send_due(rounds=3)
    PersonContact.objects.get(pk=vera.pk).delete()
    send_due(rounds=3)
    left = {m["email_address"]: (m["status"], m["merge_fields"]) for m in emulator.members(api_key, list_id)
            if any("Secretname" in str(value) for value in (m.get("merge_fields") or {}).values())}
    assert not left, "Vera was erased; her data stays on %r" % left
