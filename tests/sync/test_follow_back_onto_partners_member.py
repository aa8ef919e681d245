"""Found by independent review aud40 (issue 19), F4 (data; fixed: the follow decides the arrival again), of 2cff9ca:
``_follow_lost_move`` sets ``previous_email`` to the lost move's address when the contact is back at its row's address,
but the plan's arrival flags (``arrived_shared``: another contact of the shop has the address the contact moves to) were
decided in ``ContactPlan.__init__`` with no move in view. The followed member is then moved onto the address as an
ordinary move, though another contact's member sits there now."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncStatus
from tests.helpers import move_answer_lost, row_of, send_due

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "move-answer-lost"])
def test_a_followed_move_back_leaves_the_partners_member_data_alone(
        shop, configuration, mailchimp_account, settings, lost):
    """Ed (consenting) is subscribed at the family mailbox. He changes it in the shop to a mistyped address: the send
    PATCHes his member there; the PATCH lands, its answer is lost (a timeout). Before the retry his partner Pat
    signs up on Mailchimp's own form with the family mailbox (a member of her own there) and registers in the shop
    with it (consenting). Ed corrects his address back to the family mailbox before either send. Ed's retry follows
    the lost move and moves his member back onto the family mailbox as an ordinary move onto a held address: Pat's
    member stays, but Ed's names, language, groups (and tags) are written onto it, a member that is not his. Control:
    the same with the move answered: the move back "leaves its names, language, groups and tags as they are (not
    this contact's)"."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    family, typo = ("%s.%d@fastmail.com" % (which, lost) for which in ("fam.aud40b", "fma.aud40b"))
    ed = PersonContact.objects.create(first_name="Ed", email=family, marketing_permission=True)
    send_due(rounds=2)
    ed.email = typo
    ed.save()
    move_answer_lost(mailchimp_account, typo, lost)
    if lost:
        assert row_of(ed).status == SyncStatus.PENDING and row_of(ed).email == family
    emulator.fire_event(api_key, list_id, "subscribe", family)  # Pat on Mailchimp's own form
    PersonContact.objects.create(first_name="Pat", email=family, marketing_permission=True)
    ed = PersonContact.objects.get(pk=ed.pk)
    ed.email = family
    ed.save()
    send_due(rounds=4)
    at_family = emulator.get_member(api_key, list_id, family)
    assert row_of(ed).status == SyncStatus.SYNCED
    assert at_family is not None and at_family["status"] == "subscribed"
    assert at_family["merge_fields"].get("FNAME") != "Ed", (
        "Ed's names were written onto the member Pat signed up at %s on Mailchimp's own form (not Ed's)" % family)
