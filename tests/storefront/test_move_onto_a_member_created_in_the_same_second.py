"""Found by independent review aud19 (issue 19): a move's read of the member at the new address
(``ContactPlan._arriving_at_held_member``, contact.py) calls ``created_by_an_earlier_attempt(member, self.row,
False)`` -- always ``stamp_shared=False``. Rows claimed in one drain share their first claim's second (state.py:
``first_claimed_at=Coalesce(..., now)``), and a member a send creates carries that second as ``timestamp_signup``.
So a contact moving onto an address whose member another contact's send created in the same second takes that
member for one its own earlier attempt created: its names overwrite the other's, and the member becomes its own."""
from datetime import timedelta

import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncState
from tests.helpers import row_of, send_due
from tests.storefront.helpers import registered_account

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("same_second", [False, True], ids=["control", "claimed-together"])
def test_a_move_onto_a_member_another_contact_created_in_the_same_second_leaves_it_theirs(
        shop, configuration, mailchimp_account, django_user_model, same_second):
    """Bea and Ann register (no consent). Their first sends go in one drain (or, control, in two drains a second
    apart): each creates a member of its own, Bea's at bea@ carrying Bea's name, both stamped with their first
    claim's second. Bea changes her address to one a contact the staff added (Cal) has: her member stays under
    bea@, with her name (remembered as hers to erase). Ann then changes her address to bea@ (Shuup verifies
    nothing). Her send reads the member at bea@, finds it signed up in Ann's own first claim's second, and takes it
    for a member an earlier attempt of Ann's created: Ann's name is written over Bea's, and the member counts as
    Ann's (foreign_member False: Ann's later consent and Unsubscribe decide its status, her erasure deletes it).
    Expected: the member is left to its owner (as in the control), Bea's name stays."""
    emulator, api_key, list_id = mailchimp_account
    n = int(same_second)
    bea_addr = "bea.%d.aud19@fastmail.com" % n
    ann_addr = "ann.%d.aud19@fastmail.com" % n
    cal_addr = "cal.%d.aud19@fastmail.com" % n
    cal = PersonContact.objects.create(email=cal_addr, first_name="Cal")
    cal.add_to_shop(shop)
    send_due(rounds=2)
    _, bea = registered_account(shop, django_user_model, "bea19%d" % n, bea_addr, first_name="Bea")
    _, ann = registered_account(shop, django_user_model, "ann19%d" % n, ann_addr, first_name="Ann")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, bea_addr)["merge_fields"]["FNAME"] == "Bea"
    assert row_of(bea).foreign_member is False and row_of(ann).foreign_member is False
    # One drain took both rows in one second (the claim's), or (control) Ann was first claimed seconds later.
    SyncState.objects.filter(pk=row_of(ann).pk).update(
        first_claimed_at=row_of(bea).first_claimed_at + timedelta(seconds=0 if same_second else 5))
    bea = PersonContact.objects.get(pk=bea.pk)
    bea.email = cal_addr
    bea.save()
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, bea_addr)["merge_fields"]["FNAME"] == "Bea"
    assert emulator.get_member(api_key, list_id, cal_addr)["merge_fields"]["FNAME"] == "Cal"
    ann = PersonContact.objects.get(pk=ann.pk)
    ann.email = bea_addr
    ann.save()
    send_due(rounds=2)
    member = emulator.get_member(api_key, list_id, bea_addr)
    assert member["merge_fields"]["FNAME"] == "Bea" and row_of(ann).foreign_member is True, (
        "Ann moved onto the member Bea's send created in the same second (left at bea@ when Bea moved on) and took "
        "it for her own: FNAME %r, Ann's row foreign_member %r" % (member["merge_fields"]["FNAME"],
                                                                    row_of(ann).foreign_member))
