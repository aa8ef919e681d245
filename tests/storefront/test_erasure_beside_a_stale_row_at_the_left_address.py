"""Found by independent review aud22 (issue 19), F3 (data, GDPR): ``members_left_held`` counts as the "taker" of a
member the erased contact left any other row of the shop whose ``SyncState.email`` is that address with
``foreign_member`` False -- whatever its contact's address is now and however long ago that row was last sent. A row
whose contact moved away in the shop and was never sent again (its move skipped: no consent, and the shop sends only
people who consented) stays at the old address for good. Such a stale row, of a contact that merely had the address
before the erased person took the member there, makes ``ErasePlan._delete_member_left`` keep the erased person's
member with all their data, untouched, for as long as that row stays unsent."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncState
from tests.helpers import row_of, send_due
from tests.storefront.helpers import choose, logged_in_account, registered_account

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("tom", [False, True], ids=["control-no-tom", "tom-had-the-address"])
def test_an_erasure_never_keeps_the_erased_persons_data_for_a_row_its_contact_left(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, tom):
    """The shop sends only people who consented. Tom registers with x@ and subscribes (his member at x@), later
    unsubscribes, and later still changes his address to another one: that move is never sent (no consent), so Tom's
    row still says x@, the member's owner. Sam, the real owner of x@ now, registers with it, proves it (activation
    link) and subscribes: his send takes the member at x@ and writes his names ("Sam Private"). Sam then types Ann's
    address (Ann proved it): his member at x@ is archived and remembered as left. Sam has his account deleted (GDPR
    erasure). Expected: Sam's names leave the audience (the control, without Tom: his left member is deleted). They
    stay on the member at x@, for good: Tom's stale row counts as a contact that "took it as its own since"."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    configuration.send_unconsented = False
    configuration.save()
    x_addr = "x.f3.%d.aud22@fastmail.com" % tom
    ann_addr = "ann.f3.%d.aud22@fastmail.com" % tom
    logged_in_account(shop, django_user_model, "ann22f3%d" % tom, ann_addr, proven=True)
    send_due(rounds=3)
    if tom:
        tom_user, tom_contact = registered_account(shop, django_user_model, "tom22f3", x_addr, first_name="Tom")
        tom_browser = _browser(tom_user)
        choose(tom_browser, subscribe=True)
        send_due(rounds=3)
        assert emulator.get_member(api_key, list_id, x_addr)["merge_fields"]["FNAME"] == "Tom"
        choose(tom_browser, subscribe=False)
        send_due(rounds=3)
        tom_contact = PersonContact.objects.get(pk=tom_contact.pk)
        tom_contact.email = "tom.elsewhere.f3.aud22@fastmail.com"
        tom_contact.save()
        send_due(rounds=3)
        tom_row = row_of(tom_contact)
        assert tom_row.email == x_addr and tom_row.foreign_member is False  # the move was never sent
    sam_contact, sam_browser = logged_in_account(shop, django_user_model, "sam22f3%d" % tom, x_addr, proven=True)
    sam_contact = PersonContact.objects.get(pk=sam_contact.pk)
    sam_contact.first_name, sam_contact.last_name = "Sam", "Private"
    sam_contact.save()
    choose(sam_browser, subscribe=True)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, x_addr)
    assert (member["merge_fields"]["FNAME"], member["merge_fields"]["LNAME"]) == ("Sam", "Private")
    sam_contact = PersonContact.objects.get(pk=sam_contact.pk)
    sam_contact.email = ann_addr
    sam_contact.save()
    send_due(rounds=3)
    assert [m["email"] for m in row_of(sam_contact).members_left] == [x_addr]
    assert emulator.get_member(api_key, list_id, x_addr)["status"] == "archived"
    sam_row_id = row_of(sam_contact).pk
    sam_contact.delete()
    send_due(rounds=3)
    assert SyncState.objects.get(pk=sam_row_id).member_status == "erased"
    member = emulator.get_member(api_key, list_id, x_addr)
    names = member and (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME"))
    assert not member or "Private" not in names, (
        "Sam was erased, and his names stay in the audience at %s (%r), kept for Tom, whose contact left that "
        "address long ago (its move never sent)" % (x_addr, names))


def _browser(user):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    return browser
