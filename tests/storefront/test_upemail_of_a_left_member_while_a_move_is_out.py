"""Found by independent review aud31 (issue 19), F3 (data, GDPR):
``state.follow_members_left`` (an ``upemail`` of a member a contact left) against a send out."""
import pytest
from shuup.core.models import PersonContact, get_person_contact

from tests.helpers import another_worker_held, make_all_due, row_of, send_due
from tests.storefront.helpers import bea_leaves_her_member
from tests.webhooks.helpers import corrected_in_mailchimp


@pytest.mark.django_db(transaction=True)  # a thread of its own (the worker) reads the test's data
@pytest.mark.parametrize("overlap", [False, True], ids=["control-upemail-after-the-close", "upemail-while-out"])
def test_an_erasure_reaches_a_left_member_whose_address_changed_while_another_move_was_out(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, overlap):
    """The staff add Cal and Dan. Bea registers as "Bea Private" (her own member at bea@), types Cal's address into
    her account (her member stays at bea@ with her names: ``members_left``), then a new address of hers, bea2@ (her
    own member there), then Dan's address. While that last send is out (it leaves bea2@ behind too, and its close
    writes ``members_left`` as it read them at claim time), a marketer corrects the address of the member at bea@ in
    Mailchimp to bea.old@: the ``upemail`` webhook reaches the shop and ``state.follow_members_left`` moves the entry
    to bea.old@ (only where ``version`` is unchanged, but it does not bump ``version`` and ``members_left`` is no
    guarded field). The send's close then writes its own ``members_left`` back, with bea@. Bea has her account
    deleted: the erasure reads bea@, finds nothing, and the member she left keeps "Bea Private" at bea.old@ for good
    (GDPR). Control: the upemail after the close; the erasure deletes it."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    tag = "aud31f3%d" % overlap
    bea_addr, cal_addr = "bea.%s@fastmail.com" % tag, "cal.%s@fastmail.com" % tag
    bea2_addr, dan_addr = "bea2.%s@fastmail.com" % tag, "dan.%s@fastmail.com" % tag
    corrected = "bea.old.%s@fastmail.com" % tag
    PersonContact.objects.create(email=dan_addr, first_name="Dan").add_to_shop(shop)
    bea_user, bea = bea_leaves_her_member(shop, django_user_model, "bea%s" % tag, bea_addr, cal_addr,
                                          last_name="Private")
    bea = PersonContact.objects.get(pk=bea.pk)
    bea.email = bea2_addr
    bea.save()
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, bea2_addr)["merge_fields"]["LNAME"] == "Private", "setup"
    assert [entry["email"] for entry in row_of(bea).members_left] == [bea_addr], "setup"
    bea = PersonContact.objects.get(pk=bea.pk)
    bea.email = dan_addr
    bea.save()
    make_all_due()

    def upemail():
        corrected_in_mailchimp(configuration, mailchimp_account, bea_addr, corrected)
        assert emulator.get_member(api_key, list_id, corrected)["merge_fields"]["LNAME"] == "Private", "setup"
        assert bea_addr not in [entry["email"] for entry in row_of(bea).members_left], "setup: followed"

    with another_worker_held(emulator, "*/customers/%d" % bea.pk, "Bea's move's customer PUT"):
        if overlap:
            upemail()
    if not overlap:
        upemail()
    send_due(rounds=2)
    left = [entry["email"] for entry in row_of(bea).members_left]
    get_person_contact(bea_user).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, corrected)
    assert member is None, (
        "Bea's erasure left the member she left (now at %s) with her data: %r (members_left before the erasure: %r)"
        % (corrected, member and (member["status"], member["merge_fields"]), left))
