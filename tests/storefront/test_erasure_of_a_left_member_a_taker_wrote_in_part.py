"""Found by independent review aud22 (issue 19), F1 (data, GDPR): ``ErasePlan._delete_member_left`` keeps a member the
erased contact left under an old address *as it is* when another contact's row at the address "took" it
(``members_left_held``: a row with ``foreign_member`` False), on the premise that the taker's send wrote its data
over the erased person's. It did not: a member write leaves out every merge field the contact has no value for
(``merge_fields.merge_values``: a missing value is never sent empty, except SHOP_OWNED), so the erased person's last
name, phone, birthday, address stay on the member the taker took, and the erasure never clears them."""
import pytest
from shuup.core.models import PersonContact, get_person_contact

from tests.helpers import row_of, send_due
from tests.storefront.helpers import logged_in_account, registered_account

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
def test_an_erasure_clears_the_erased_persons_names_a_taker_never_overwrote(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block):
    """Bea registers as "Bea Private": her own member at bea@ carries her last name. The staff add Cal; Bea
    changes her address to Cal's: her member stays at bea@ (members_left). Xena, the real owner of bea@, registers
    with it and proves it (activation link); she gives only her first name. Her send takes the member at bea@ as
    hers and writes FNAME "Xena" -- and no LNAME (she has none): "Private" stays. Bea has her account deleted (GDPR
    erasure). Expected: the audience keeps none of Bea's names. It keeps LNAME "Private" on the member at bea@ for
    good: the erasure skipped that member entirely ("another contact of the shop took it as its own")."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    bea_addr, cal_addr = "bea.f1.aud22@fastmail.com", "cal.f1.aud22@fastmail.com"
    PersonContact.objects.create(email=cal_addr, first_name="Cal").add_to_shop(shop)
    send_due(rounds=2)
    bea_user, bea = registered_account(shop, django_user_model, "bea22f1", bea_addr, first_name="Bea",
                                       last_name="Private")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, bea_addr)["merge_fields"]["LNAME"] == "Private"
    bea = PersonContact.objects.get(pk=bea.pk)
    bea.email = cal_addr
    bea.save()
    send_due(rounds=3)
    assert [m["email"] for m in row_of(bea).members_left] == [bea_addr]
    xena, _ = logged_in_account(shop, django_user_model, "xena22f1", bea_addr, proven=True)
    xena = PersonContact.objects.get(pk=xena.pk)
    xena.first_name = "Xena"
    xena.save()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, bea_addr)
    assert member["merge_fields"]["FNAME"] == "Xena" and row_of(xena).foreign_member is False
    get_person_contact(bea_user).delete()
    send_due(rounds=4)
    member = emulator.get_member(api_key, list_id, bea_addr)
    assert member is not None and member["merge_fields"]["FNAME"] == "Xena"
    assert member["merge_fields"].get("LNAME") != "Private", (
        "Bea was erased, and her last name stays in the audience on the member Xena took at %s: %r" % (
            bea_addr, member["merge_fields"]))
