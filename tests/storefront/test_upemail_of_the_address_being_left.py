"""Found by independent review aud34 (issue 19), F3 (data, GDPR; open: a strict expected failure): an upemail of the
very address a move is leaving, while that move's send is out: the close keeps the upemail's address as the row's
(the guard) and remembers the left member at its old address. A fix that completed the close from the row alone
(e268169) could not tell this upemail from one of the new address or a forgotten audience (aud35 F2, F3)."""
import pytest
from shuup.core.models import PersonContact, get_person_contact

from tests.helpers import another_worker_held, make_all_due, row_of, send_due
from tests.storefront.helpers import registered_account
from tests.webhooks.helpers import corrected_in_mailchimp


@pytest.mark.django_db(transaction=True)  # a thread of its own (the worker) reads the test's data
@pytest.mark.parametrize("overlap", [False, pytest.param(True, marks=pytest.mark.xfail(strict=True, reason=(
    "open (aud34 F3): which address an upemail moved is not recorded; completing the close from the row "
    "(e268169) wrote over other upemails and a forgotten audience (aud35 F2, F3) and was withdrawn")))],
    ids=["control-upemail-after-the-close", "upemail-while-out"])
def test_an_erasure_reaches_the_member_left_by_a_move_whose_address_changed_while_that_move_was_out(
        shop, configuration, mailchimp_account, settings, django_user_model, overlap):
    """Harm (data, GDPR): Bea's erasure leaves the member she left, with her names ("Bea Private"), in the audience
    for good.

    Steps: the staff add Cal. Bea registers as "Bea Private" (her own member at bea@), then types Cal's address into
    her account: the send leaves her member at bea@ (``members_left`` = [bea@], written by its close). While that
    send is out (its customer PUT held), a marketer corrects the address of the member at bea@ to bea.old@ in
    Mailchimp; the ``upemail`` reaches the shop. ``state.follow_members_left`` finds no entry
    of bea@ (the row's list is still the claim-time one, empty); ``handle_upemail`` finds the row by its address
    last sent (bea@, the send is out) and sets its ``email`` to bea.old@. The close then finds ``members_left`` as
    claimed (empty) and writes its own, [bea@] (``_members_left_moved`` only follows moves of entries that were in the
    list at claim time), while ``email`` (guarded) stays bea.old@ and ``shop_email`` becomes cal@. So the row now
    takes bea.old@ for an upemail of its current address (``address_from_mailchimp``): its next send writes there as
    arriving at a member not hers (log "contact.sent bea.old@..."). Bea has her account deleted: the erasure reads
    bea@ (``members_left``), finds nothing, and keeps the member at bea.old@ as "not this contact's (Mailchimp held it
    when the contact arrived at the address)": her left member keeps "Bea Private" for good. Control: the upemail
    after the close (``follow_members_left`` moves the entry)."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    tag = "aud34m%d" % overlap
    bea_addr, cal_addr = "bea.%s@fastmail.com" % tag, "cal.%s@fastmail.com" % tag
    corrected = "bea.old.%s@fastmail.com" % tag
    PersonContact.objects.create(email=cal_addr, first_name="Cal").add_to_shop(shop)
    send_due(rounds=2)
    bea_user, bea = registered_account(shop, django_user_model, "bea%s" % tag, bea_addr, first_name="Bea",
                                       last_name="Private")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, bea_addr)["merge_fields"]["LNAME"] == "Private", "setup"
    bea = PersonContact.objects.get(pk=bea.pk)
    bea.email = cal_addr
    bea.save()
    make_all_due()

    def upemail():
        corrected_in_mailchimp(configuration, mailchimp_account, bea_addr, corrected)
        assert emulator.get_member(api_key, list_id, corrected)["merge_fields"]["LNAME"] == "Private", "setup"

    with another_worker_held(emulator, "*/customers/%d" % bea.pk, "Bea's move's customer PUT"):
        assert emulator.get_member(api_key, list_id, bea_addr)["merge_fields"]["LNAME"] == "Private", (
            "setup: the move left her member at bea@")
        if overlap:
            upemail()
    if not overlap:
        assert [entry["email"] for entry in row_of(bea).members_left] == [bea_addr], "setup"
        upemail()
    send_due(rounds=3)
    left = [entry["email"] for entry in row_of(bea).members_left]
    row = row_of(bea)
    where = (row.email, row.shop_email)
    get_person_contact(bea_user).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, corrected)
    assert member is None, (
        "Bea's erasure left the member she left (now at %s) with her data: %r (members_left before the erasure: %r; "
        "row email, shop_email: %r)" % (corrected, member and (member["status"], member["merge_fields"]), left, where))
