"""Found by independent review aud48 (issue 19) of 3a589c5, F1 (GDPR; fixed: each member's steps go on past a refusal of
another's, ``ErasePlan._past_a_refusal``): Initialize's erasure in the old audience
(``initialization._erase_in_old_audience``) runs ``ErasePlan.erase_members`` as one generator: a permanent refusal of
its FIRST step (the member at the contact's current address) propagates out of it, so the later, independent steps (the
member at a noted address, the members the contact left under earlier addresses) never run. Initialize then logs
"Erasure not completed" and ``forget_audience`` forgets the row's ``members_left`` for good: the erased person's own
member at an earlier address, with her names, stays in the old audience, and nothing will ever delete it (the log tells
the owner to delete "the member", not that one)."""
import pytest
from shuup.core.models import get_person_contact

from shoop_mailchimp.models import LogKind, MailchimpLogEntry
from tests.disconnect.helpers import disconnect_and_delete_the_store, initialize_with
from tests.helpers import refused_for_good, send_due
from tests.storefront.helpers import bea_at_a_third_address

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("refused", [False, True], ids=["control-nothing-refused", "current-member-refused"])
def test_a_refusal_at_the_current_address_leaves_the_member_left_with_the_erased_persons_data(
        admin_client, connected, mailchimp_account, django_user_model, refused):
    """Harm (GDPR): Bea is erased; the member she left at her first address, nobody else's, keeps "Bea Private" in
    the old audience for good, because Mailchimp refused the delete of her member at ANOTHER address.

    Steps: Cal is added; Bea registers at bea@ ("Bea Private": her own member). Bea types Cal's address (her member
    at bea@ is left: members_left), then a fresh address bea2@ (her own member there). The shop is disconnected
    (store deleted); Bea's account is deleted (erasure recorded). Mailchimp refuses for good (400) every write of the
    member at bea2@ ("current-member-refused"). The owner moves the shop to a new audience (Initialize).

    Control ("control-nothing-refused"): the same without the refusal: the member at bea@ is permanently deleted.
    Expected in both: the member Bea left at bea@ is deleted (its step does not depend on bea2@'s)."""
    emulator, api_key, list_id = mailchimp_account
    bea_user, _bea, bea_addr, bea2_addr = bea_at_a_third_address(
        connected.shop, mailchimp_account, django_user_model, "bea48f1%d" % refused,
        "%d.aud48f1@fastmail.com" % refused)
    disconnect_and_delete_the_store(admin_client, connected, emulator)
    get_person_contact(bea_user).delete()  # erasure, recorded while disconnected
    if refused:
        refused_for_good(emulator, bea2_addr)
    initialize_with(admin_client, connected, emulator.add_list(api_key, name="New audience"))
    emulator.faults.clear()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, bea_addr)
    errors = list(MailchimpLogEntry.objects.filter(shop_id=connected.shop_id, kind=LogKind.ERROR).values_list(
        "message", flat=True))
    assert member is None, (
        "Bea was erased; the member she left at %s (nobody else's) keeps her data in the old audience for good: %r; "
        "errors logged: %r" % (bea_addr, member and (member["status"], member["merge_fields"]), errors))
