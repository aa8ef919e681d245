"""Found by independent review aud47 (issue 19) of 8312248, F2 (the shop cannot be reconnected; GDPR; fixed): the
Initialize that moves a disconnected shop to another audience runs the erasure's own member steps in the old audience
(``initialization._erase_in_old_audience``). For an erased contact whose member another contact of the shop has, that
is ``_keep_member``'s PATCH, which switches off every interest of the shop's contact groups. An interest deleted in the
old audience made Mailchimp refuse it (400 "Invalid interest ID"), unhandled: Initialize failed before it saved
anything, every time it was pressed. Fixed: the write names only the interests the member still has
(``contact.write_kept_member``), and any refusal no press of Initialize changes is logged as an error while the move
goes on (the ``refused`` case)."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import LogKind, MailchimpConfiguration, MailchimpLogEntry
from tests.admin.conftest import post_shop_form
from tests.disconnect.helpers import disconnect_and_delete_the_store, work_rounds
from tests.helpers import (
    group_chosen_as_an_interest,
    interest_categories_deleted_in_mailchimp,
    send_due,
    sharing_a_member_with_a_duplicate,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("change", ["none", "interest-deleted", "refused"])
def test_initialize_moves_the_shop_though_an_erasure_in_the_old_audience_is_refused(
        admin_client, connected, mailchimp_account, settings, change):
    """Harm: the shop owner cannot reconnect the shop to its new audience: every Initialize fails, and the shop stays
    disconnected; the erased person's last name stays on the member in the old audience.

    Steps: a contact group is chosen as a Mailchimp interest. Ann ("Ann Secretname", consenting) and a second contact
    with her address (consenting) are sent: one member, Ann's names on it. The shop is disconnected (store deleted).
    Ann's account is deleted (erasure recorded). A marketer deletes the group category in the old audience
    ("interest-deleted"), or Mailchimp refuses every write of that member ("refused", a 400). The owner chooses a
    new audience and presses Initialize.

    Expected (control "none"): the shop is connected to the new audience; Ann's last name is cleared in the old one
    (also past the deleted interest); a refusal is an error in the log naming the audience, and the move goes on."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    group_chosen_as_an_interest(connected)
    email = "ann.aud47f2.%s@fastmail.com" % change
    ann = sharing_a_member_with_a_duplicate(emulator, api_key, list_id, email)
    disconnect_and_delete_the_store(admin_client, connected, emulator)
    PersonContact.objects.get(pk=ann.pk).delete()  # erasure
    if change == "interest-deleted":
        interest_categories_deleted_in_mailchimp(emulator, api_key, list_id)
    elif change == "refused":
        emulator.faults.fail("*/members/*", status=400, method="PATCH", detail="The member cannot be edited.")
    new_list_id = emulator.add_list(api_key, name="New audience")
    assert post_shop_form(admin_client, connected.shop, list_id=new_list_id, initialize="1").status_code == 302
    work_rounds()
    emulator.faults.clear()
    send_due(rounds=3)
    configuration = MailchimpConfiguration.objects.get(pk=connected.pk)
    errors = list(MailchimpLogEntry.objects.filter(shop_id=connected.shop_id, kind=LogKind.ERROR).values_list(
        "message", flat=True))
    assert configuration.is_active and configuration.members_list_id == new_list_id, (
        "Initialize left the shop disconnected from Mailchimp: active=%s, rows describe %s; errors: %r"
        % (configuration.is_active, configuration.members_list_id, errors[-2:]))
    lname = emulator.get_member(api_key, list_id, email)["merge_fields"].get("LNAME")
    if change == "refused":
        assert lname == "Secretname"
        assert any("refused a step of the erasure" in message and list_id in message for message in errors), errors
    else:
        assert lname != "Secretname"
