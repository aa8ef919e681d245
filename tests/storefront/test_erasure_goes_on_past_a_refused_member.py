"""Found by independent review aud48 (issue 19) of 3a589c5, F2 (GDPR; fixed: the other members and the customer are
deleted, the row closes failed; the same root cause as F1, in the worker's own erasure): ``ErasePlan.run`` runs
``erase_members`` (the member at the contact's address, then the noted address, then the members it left) and only then
deletes the customer, all in one generator. A permanent refusal of the FIRST step (Mailchimp refuses the member at the
current address, a 400) ends the plan: the row closes FAILED (no retry: the contact is gone, nothing queues it again),
and neither the member the contact left under an earlier address (its own, with its names, nobody else's) nor the
store's customer (its names, its orders' totals) is ever deleted."""
import pytest
from shuup.core.models import get_person_contact

from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync.kinds.contact import customer_id_for
from tests.helpers import refused_for_good, row_of, send_due
from tests.storefront.helpers import bea_at_a_third_address

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("refused", [False, True], ids=["control-nothing-refused", "current-member-refused"])
def test_a_refusal_at_the_current_address_leaves_the_member_left_and_the_customer(
        configuration, mailchimp_account, django_user_model, refused):
    """Harm (GDPR): Bea's account is deleted; the member she left at her first address keeps "Bea Private" and her
    store customer stays, for good, because Mailchimp refused the delete of her member at ANOTHER address.

    Steps: Cal is added; Bea registers at bea@ ("Bea Private": her own member). Bea types Cal's address (her member
    at bea@ is left: members_left), then a fresh address bea2@ (her own member there). Mailchimp refuses for good
    (400) every write of the member at bea2@ ("current-member-refused"). Bea's account is deleted; the worker sends
    the erasure (several rounds).

    Control ("control-nothing-refused"): the same without the refusal: the member at bea@ and Bea's customer are
    deleted. Expected in both: they are deleted (their steps do not depend on bea2@'s)."""
    emulator, api_key, list_id = mailchimp_account
    bea_user, bea, bea_addr, bea2_addr = bea_at_a_third_address(
        configuration.shop, mailchimp_account, django_user_model, "bea48f2%d" % refused,
        "%d.aud48f2@fastmail.com" % refused)
    customer_id = customer_id_for(bea.pk)
    assert emulator.get_customer(api_key, configuration.store_id, customer_id) is not None, "setup: her customer"
    if refused:
        refused_for_good(emulator, bea2_addr)
    get_person_contact(bea_user).delete()  # erasure
    send_due(rounds=4)
    row = row_of(bea)
    member = emulator.get_member(api_key, list_id, bea_addr)
    customer = emulator.get_customer(api_key, configuration.store_id, customer_id)
    assert member is None and customer is None, (
        "Bea was erased; the member she left at %s keeps her data: %r; her customer stays: %r; her erasure row is "
        "%s: %s" % (bea_addr, member and (member["status"], member["merge_fields"]), customer and (
            customer.get("first_name"), customer.get("last_name")), row.status, row.last_error))
    assert row.status == SyncStatus.SYNCED or refused
