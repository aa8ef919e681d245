"""Found by independent review aud40 (issue 19), F1 (consent; fixed: the follow decides the address left again), of
2cff9ca: ``_follow_lost_move`` points ``previous_email`` at the lost move's address, but the plan's ``previous_shared``
/ ``left_to_others`` / ``consent_left`` were decided in ``ContactPlan.__init__`` for the row's address (the one the lost
move left). When another contact of the shop has that old address now, the followed member (the contact's own, at the
lost move's address) is treated as the old address's shared member: left where it is, and the contact gets a new
member."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncStatus
from tests.helpers import move_answer_lost, row_of, send_due

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "move-answer-lost"])
def test_a_followed_member_at_a_mistyped_address_does_not_stay_subscribed_there(
        shop, configuration, mailchimp_account, settings, lost):
    """Ed (consenting) is subscribed at his family mailbox. He changes it in the shop to a mistyped address (a
    stranger's mailbox): the send PATCHes his member there; the PATCH lands, its answer is lost (a timeout). Before
    the retry his partner Pat (consenting) registers with the family mailbox, and Ed corrects his address to his own
    new one. The retry follows the lost move (member at the typo, Ed's unique_email_id) and sets previous_email to the
    typo, but its plan still believes the address left is the family one "another contact of the shop still has":
    it writes Ed a fresh member at his new address and leaves his old member, subscribed by his consent, at the typo.
    The stranger who owns the typo mailbox gets the newsletter without ever consenting, for good (no contact of the
    shop has that address). Control: the same with the move answered: Ed's member moves from the typo to his new
    address."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    family, typo, own = ("%s.%d@fastmail.com" % (which, lost) for which in ("fam.aud40", "fma.aud40", "ed.aud40"))
    ed = PersonContact.objects.create(first_name="Ed", email=family, marketing_permission=True)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, family)["status"] == "subscribed"
    ed.email = typo
    ed.save()
    move_answer_lost(mailchimp_account, typo, lost)
    if lost:
        assert row_of(ed).status == SyncStatus.PENDING and row_of(ed).email == family
        assert row_of(ed).move_sent_to == typo
    else:
        assert row_of(ed).email == typo
    assert emulator.get_member(api_key, list_id, family) is None
    PersonContact.objects.create(first_name="Pat", email=family, marketing_permission=True)
    ed = PersonContact.objects.get(pk=ed.pk)
    ed.email = own
    ed.save()
    send_due(rounds=4)
    assert row_of(ed).status == SyncStatus.SYNCED
    at_own = emulator.get_member(api_key, list_id, own)
    assert at_own is not None and at_own["status"] == "subscribed"
    at_typo = emulator.get_member(api_key, list_id, typo)
    assert at_typo is None or at_typo["status"] not in ("subscribed", "pending"), (
        "Ed's old member stays %s at the mistyped address %s (a stranger's mailbox)" % (at_typo["status"], typo))
