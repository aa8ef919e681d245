"""Found by independent review aud29 (issue 19), F1 (consent): an unsubscribe made in Mailchimp while the shop was
disconnected (its webhook deleted), and the shop then moved to another audience."""
import pytest
from shuup.core.models import PersonContact

from tests.disconnect.helpers import disconnect_and_delete_the_store, initialize_with
from tests.helpers import new_person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("audience", ["control-same-audience", "another-audience"])
def test_an_unsubscribe_made_in_mailchimp_while_disconnected_is_not_undone_by_a_move_to_another_audience(
        admin_client, connected, mailchimp_account, audience):
    """Ann consented and is subscribed in the shop's audience. The owner disconnects (deleting the store: the
    webhook is deleted too). The audience stays and campaigns still go to it (docs/disconnect.rst); Ann clicks the
    unsubscribe link of one while the shop is disconnected: no webhook tells the shop. The owner then chooses a new
    audience and initializes. The reconnect's reconciliation reads the *new* audience only
    (``initialization.initialize``: ``forget_audience`` wipes the old audience's facts; nothing reads the old
    audience's unsubscribes first), so the shop still holds Ann's consent and her first send to the new audience
    subscribes her: she unsubscribed from the shop's newsletter and is subscribed again without consent.
    Control: reconnecting to the same audience reads her unsubscribe back and she stays unsubscribed."""
    emulator, api_key, list_id = mailchimp_account
    ann = new_person(email="ann.leaves@fastmail.com")
    assert emulator.get_member(api_key, list_id, ann.email)["status"] == "subscribed", "setup"
    disconnect_and_delete_the_store(admin_client, connected, emulator)

    # Ann's click on a campaign's unsubscribe link while the shop is disconnected (no webhook registered).
    emulator.set_member_status(api_key, list_id, ann.email, "unsubscribed")

    target = emulator.add_list(api_key, name="New audience") if audience == "another-audience" else list_id
    initialize_with(admin_client, connected, target)

    member = emulator.get_member(api_key, target, ann.email)
    permission = PersonContact.objects.get(pk=ann.pk).marketing_permission
    assert member is None or member["status"] != "subscribed", (
        "Ann unsubscribed while the shop was disconnected and is subscribed again in %s (shop consent: %s)"
        % (audience, permission))
