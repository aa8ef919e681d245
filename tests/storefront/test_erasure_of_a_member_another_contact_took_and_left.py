"""Found by independent review aud22 (issue 19), F5 (consent, data loss): ``members_left_held`` looks for a taker of a
member the erased contact left only among rows whose address *is* that address now (``SyncState.email``). A contact
that took the member as its own (proved the address, wrote its data there) and later left it too (its own move
archived it: it is in *its* ``members_left``, the same ``unique_email_id``) is not counted:
``ErasePlan._delete_member_left`` permanently deletes that contact's member. Mailchimp then refuses the address for
good ("Forgotten Email Not Subscribed"): the contact's own consent, for the mailbox it proved, can never reach
Mailchimp again."""
import pytest
from shuup.core.models import PersonContact, get_person_contact

from tests.helpers import row_of, send_due
from tests.storefront.helpers import bea_leaves_her_member, choose, logged_in_account

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("bea_erased", [False, True], ids=["control-bea-stays", "bea-erased"])
def test_an_erasure_never_deletes_a_left_member_another_contact_took_and_left(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, bea_erased):
    """Ann registered and proved her address. Bea registers with bea@ (her member there). The staff add Cal; Bea
    changes her address to Cal's: her member stays at bea@ (Bea's members_left). Xena, the real owner of bea@,
    registers with it, proves it and subscribes: her send takes that member (her names, her subscription). Xena
    mistypes Ann's address into her account: her member at bea@ is archived (Xena's members_left, the same
    unique_email_id). Bea has her account deleted. Xena types bea@ back and presses Subscribe on her account page.
    Expected: Xena's member at bea@ is subscribed or pending (control: Bea not erased). Bea's erasure permanently
    deleted it (no contact has bea@ "now"), and Mailchimp refuses bea@ for good: Xena can never be subscribed."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    tag = "%d" % bea_erased
    bea_addr, cal_addr = "bea.f5.%s.aud22@fastmail.com" % tag, "cal.f5.%s.aud22@fastmail.com" % tag
    ann_addr = "ann.f5.%s.aud22@fastmail.com" % tag
    logged_in_account(shop, django_user_model, "ann22f5%s" % tag, ann_addr, proven=True)
    bea_user, bea = bea_leaves_her_member(shop, django_user_model, "bea22f5%s" % tag, bea_addr, cal_addr)
    xena, xena_browser = logged_in_account(shop, django_user_model, "xena22f5%s" % tag, bea_addr, proven=True)
    xena = PersonContact.objects.get(pk=xena.pk)
    xena.first_name, xena.last_name = "Xena", "Owner"
    xena.save()
    choose(xena_browser, subscribe=True)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, bea_addr)
    assert member["merge_fields"]["FNAME"] == "Xena" and member["status"] == "subscribed"
    xena = PersonContact.objects.get(pk=xena.pk)
    xena.email = ann_addr
    xena.save()
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, bea_addr)["status"] == "archived"
    assert [m["unique_email_id"] for m in row_of(xena).members_left] == [
        m["unique_email_id"] for m in row_of(bea).members_left]
    if bea_erased:
        get_person_contact(bea_user).delete()
        send_due(rounds=3)
    xena = PersonContact.objects.get(pk=xena.pk)
    xena.email = bea_addr
    xena.save()
    send_due(rounds=3)
    choose(xena_browser, subscribe=True)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, bea_addr)
    row = row_of(xena)
    assert member is not None and member["status"] in ("subscribed", "pending"), (
        "Xena consents at bea@, the address she proved, and Mailchimp has %r there (row: status %r, last error %r): "
        "Bea's erasure deleted Xena's member for good" % (member and member["status"], row.status, row.last_error))
