"""Found by independent review aud28 (issue 19), F5 (data, GDPR): a member the contact left under an old address
(``SyncState.members_left``) is remembered by that address only. When its address is changed in Mailchimp afterwards (a
marketer corrects it; the ``upemail`` webhook), ``member_events.handle_upemail`` follows it for the rows whose address
last sent it (``SyncState.email``), never for an entry of ``members_left``: the erasure
(``ErasePlan._delete_member_left``) reads the old address, finds no member, and leaves the erased person's own member,
names and all, at its new address for good -- though it carries the same ``unique_email_id`` the entry remembers."""
import pytest
from django.test import Client
from shuup.core.models import get_person_contact

from shoop_mailchimp.mailchimp.members import subscriber_hash
from tests.helpers import send_due
from tests.storefront.helpers import bea_leaves_her_member
from tests.webhooks.helpers import post_event

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("moved_in_mailchimp", [False, True], ids=["control-address-kept", "address-changed"])
def test_an_erasure_reaches_the_member_left_whose_address_was_changed_in_mailchimp(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, moved_in_mailchimp):
    """The staff add Cal; Bea registers as "Bea Private" (her member at bea@); Bea types Cal's address into her
    account: her member stays at bea@ with her names (members_left). A marketer corrects that member's address in
    Mailchimp to bea.old@ (the upemail webhook reaches the shop). Bea has her account deleted. Expected (as in the
    control, where the address stayed): the member Bea left, nobody else's, is permanently deleted. Found: it stays
    at bea.old@ with "Bea Private"."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    bea_addr, cal_addr = "bea.f5.aud28.%d@fastmail.com" % moved_in_mailchimp, "cal.f5.aud28.%d@fastmail.com" % (
        moved_in_mailchimp)
    corrected = "bea.old.f5.aud28.%d@fastmail.com" % moved_in_mailchimp
    bea_user, _bea = bea_leaves_her_member(shop, django_user_model, "bea28f5%d" % moved_in_mailchimp, bea_addr,
                                           cal_addr, last_name="Private")
    uid = emulator.get_member(api_key, list_id, bea_addr)["unique_email_id"]
    where = bea_addr
    if moved_in_mailchimp:
        emulator.fire_event(api_key, list_id, "upemail", bea_addr, source="admin", new_email=corrected)
        where = corrected
        member = emulator.get_member(api_key, list_id, corrected)
        assert member["unique_email_id"] == uid and member["merge_fields"]["LNAME"] == "Private", "setup"
        # Its webhook (none is registered here: no WEBHOOK_BASE_URL) reaches the shop.
        assert post_event(Client(), configuration, "upemail", old_email=bea_addr, new_email=corrected,
                          new_id=subscriber_hash(corrected)).status_code == 200
        send_due(rounds=2)
    get_person_contact(bea_user).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, where)
    assert member is None, "Bea's erasure left the member she left (now at %s) with her data: %r" % (
        where, member and (member["status"], member["merge_fields"]))
