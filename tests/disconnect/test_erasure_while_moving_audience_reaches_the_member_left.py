"""Found by independent review aud28 (issue 19), F3 (data, GDPR): an erasure recorded while the shop was disconnected,
then moved to another audience, is carried out in the old audience at the Initialize that moves the shop
(``initialization._erase_in_old_audience``), for the erased row's *current* member only (``row.email``). The members the
contact left under old addresses in that audience (``SyncState.members_left``: its own, with its names) are never
reached there: ``state.forget_audience`` keeps ``members_left``, and the worker's ``ErasePlan`` then reads them in the
*new* audience, where the member (another ``unique_email_id``, or none) is left alone. The erased person's names stay in
the old audience for good, on a member nobody else has."""
import pytest
from shuup.core.models import get_person_contact

from tests.disconnect.helpers import disconnect_and_delete_the_store, initialize_with
from tests.helpers import send_due
from tests.storefront.helpers import bea_leaves_her_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("moved", [False, True], ids=["control-erased-while-connected", "erased-then-audience-moved"])
def test_an_erasure_recorded_before_an_audience_move_deletes_the_member_the_contact_left(
        admin_client, connected, mailchimp_account, django_user_model, moved):
    """The staff add Cal; Bea registers as "Bea Private" (her own member at bea@ in the audience); Bea types Cal's
    address into her account: her member stays at bea@ with her names (remembered: members_left). The shop is
    disconnected (its store deleted) and Bea has her account deleted (GDPR erasure, recorded). The shop is moved to
    a new audience (Initialize). Expected (the control: Bea erased while connected): the member Bea left at bea@ is
    permanently deleted, nobody else has that address. Found: it stays in the old audience with "Bea Private"."""
    emulator, api_key, list_id = mailchimp_account
    bea_addr, cal_addr = "bea.f3.aud28.%d@fastmail.com" % moved, "cal.f3.aud28.%d@fastmail.com" % moved
    bea_user, bea = bea_leaves_her_member(connected.shop, django_user_model, "bea28f3%d" % moved, bea_addr, cal_addr,
                                          last_name="Private")
    member = emulator.get_member(api_key, list_id, bea_addr)
    assert (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == ("Bea", "Private"), "setup"
    if moved:
        disconnect_and_delete_the_store(admin_client, connected, emulator)
    get_person_contact(bea_user).delete()
    if moved:
        initialize_with(admin_client, connected, emulator.add_list(api_key, name="New audience"))
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, bea_addr)
    assert member is None, (
        "the member Bea left at %s keeps her data in the audience the shop had sent her to, after her erasure: %r"
        % (bea_addr, member and (member["status"], member["merge_fields"])))
