"""Found by independent review aud39 (issue 19) of commit 96f8510, F4 (consent; fixed: the lost move's address is read,
whatever the row's address holds): ``may_have_moved`` reads the member at the row's address by its status only: any
member there ends the follow, though it is not the contact's (another ``unique_email_id``)."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncStatus
from tests.helpers import move_answer_lost, row_of, send_due

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "move-answer-lost"])
def test_a_member_moved_to_a_mistyped_address_does_not_stay_subscribed_there(
        shop, configuration, mailchimp_account, settings, lost):
    """Ed (consenting) is subscribed at his address. He mistypes it in the shop (a stranger's mailbox): the send PATCHes
    his member there; the PATCH lands, its answer is lost (a timeout). Ed, no longer getting the newsletter, signs up
    again with his address on Mailchimp's own form (a new member there), and corrects his address in the shop. The
    retry (recovered, ``may_have_moved``) finds a member at Ed's address and stops there, never asking whether it is
    the member the row knows: Ed's old member stays subscribed at the mistyped address, and the stranger who owns
    that mailbox gets the newsletter without ever consenting, for good (no contact of the shop has that address
    any more). Control: the same with the move answered: the correction moves Ed's member off the stranger's address
    (or ends its subscription)."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5)
    eds, typo = ("%s.%d@fastmail.com" % (which, lost) for which in ("ed.aud39t", "eb.aud39t"))
    ed = PersonContact.objects.create(first_name="Ed", email=eds, marketing_permission=True)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, eds)["status"] == "subscribed"
    ed.email = typo
    ed.save()
    move_answer_lost(mailchimp_account, typo, lost)
    if lost:
        assert row_of(ed).status == SyncStatus.PENDING and row_of(ed).email == eds
    assert emulator.get_member(api_key, list_id, eds) is None
    emulator.fire_event(api_key, list_id, "subscribe", eds)  # its webhook is late
    ed = PersonContact.objects.get(pk=ed.pk)
    ed.email = eds
    ed.save()
    send_due(rounds=4)
    assert row_of(ed).status == SyncStatus.SYNCED
    at_typo = emulator.get_member(api_key, list_id, typo)
    assert at_typo is None or at_typo["status"] not in ("subscribed", "pending"), (
        "Ed's old member stays %s at the mistyped address %s (a stranger's mailbox)" % (at_typo["status"], typo))
