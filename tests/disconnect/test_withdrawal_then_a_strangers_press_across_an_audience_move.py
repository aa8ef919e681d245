"""Found by independent review aud29 (issue 19), F2 (consent): a consent withdrawn by the staff while disconnected,
then a stranger's newsletter-block press for the same address, then the shop moved to another audience."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.storefront import subscriptions
from tests.disconnect.helpers import disconnect_and_delete_the_store, initialize_with
from tests.helpers import new_person, row_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("press", [False, True], ids=["control-no-press", "a-strangers-block-press"])
def test_a_withdrawal_followed_by_a_strangers_press_reaches_the_new_audience(
        admin_client, connected, mailchimp_account, press):
    """Ann is subscribed. The shop disconnects (deleting the store) to move to another audience. At Ann's request the
    staff untick her consent. Then someone types Ann's address into the newsletter block (anyone can: the block asks
    its owner to confirm, ``CONFIRM``). The marketer imports the old audience's subscribers into the new one, and the
    shop reconnects there. Expected (as without the press, the control: ``forget_audience`` turns a withdrawal not
    yet sent into an unsubscribe request): Ann is unsubscribed in the new audience. Found: ``forget_audience``
    (sync/kinds/contact.py) leaves rows carrying ``CONFIRM`` out of the withdrawn ones, so the withdrawal is forgotten
    with the old audience's facts; the first send's CONFIRM finds the member subscribed and leaves it subscribed.
    A stranger's press thus cancels Ann's withdrawal: she keeps getting the newsletter she asked to stop."""
    emulator, api_key, list_id = mailchimp_account
    ann = new_person(email="ann.withdrew@fastmail.com")
    assert emulator.get_member(api_key, list_id, ann.email)["status"] == "subscribed", "setup"
    disconnect_and_delete_the_store(admin_client, connected, emulator)
    ann = PersonContact.objects.get(pk=ann.pk)
    ann.marketing_permission = False
    ann.save()
    if press:
        subscriptions.subscribe_address(connected.shop, ann.email)
        assert row_of(ann).consent_request == "confirm", "setup: the stranger's press asks Ann to confirm"

    other_list = emulator.add_list(api_key, name="New audience")
    emulator.add_members(api_key, other_list, [ann.email], status="subscribed")  # the marketer's import
    initialize_with(admin_client, connected, other_list)
    assert PersonContact.objects.get(pk=ann.pk).marketing_permission is False
    status = emulator.get_member(api_key, other_list, ann.email)["status"]
    assert status == "unsubscribed", "Ann withdrew her consent and is %s in the new audience (row: %r)" % (
        status, (row_of(ann).member_status, row_of(ann).consent_request))
