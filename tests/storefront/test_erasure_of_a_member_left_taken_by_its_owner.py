"""Found by independent review aud19 (issue 19): ``ErasePlan._delete_member_left`` (contact.py) permanently deletes
a member the erased contact left under an old address (``SyncState.members_left``, migration 0038) unless its
``unique_email_id`` changed, or it is subscribed/pending while the erased contact's *current* row has no consent.
A member left behind may since have become someone else's, the same member (same ``unique_email_id``): the person
who registered with that address and proved it (activation link) takes it as her own and writes her data there.
The erased contact's erasure then deletes her member for good -- her data, and her subscription where the erased
contact consents at its own new address."""
import pytest
from shuup.core.models import PersonContact, get_person_contact

from shoop_mailchimp.models import MailchimpLogEntry
from tests.helpers import row_of, send_due
from tests.storefront.helpers import bea_leaves_her_member, choose, logged_in_account, registered_account

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("case", ["control-nobody-took-it", "xena-customer", "xena-subscribed-bea-consents"])
def test_an_erasure_leaves_a_member_left_behind_that_its_address_owner_took_since(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, case):
    """Bea registers (no consent): her member at bea@, her names. The staff add Cal; Bea changes her address to
    Cal's: her member stays at bea@ (remembered as hers to erase). Xena, the real owner of bea@, registers with it,
    activates her account (proves it) and saves her names (or also subscribes on her account page, and Bea ticks
    her own marketing box at her new address): her send takes the member at bea@ as hers and writes her names
    there. Bea then has her account deleted (GDPR erasure): the erasure permanently deletes the member at bea@ --
    Xena's member, with her data and her subscription. Control: nobody took it; Bea's own left member is deleted."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    tag = case[:6]
    bea_addr, cal_addr = "bea.%s.aud19@fastmail.com" % tag, "cal.%s.aud19@fastmail.com" % tag
    cal = PersonContact.objects.create(email=cal_addr, first_name="Cal")
    cal.add_to_shop(shop)
    send_due(rounds=2)
    bea_user, bea = registered_account(shop, django_user_model, "bea19e%s" % tag, bea_addr, first_name="Bea")
    send_due(rounds=2)
    bea = PersonContact.objects.get(pk=bea.pk)
    bea.email = cal_addr
    bea.save()
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, bea_addr)["merge_fields"]["FNAME"] == "Bea"
    assert [m["email"] for m in row_of(bea).members_left] == [bea_addr]
    if case != "control-nobody-took-it":
        xena, xena_browser = logged_in_account(shop, django_user_model, "xena19%s" % tag, bea_addr, proven=True)
        xena = PersonContact.objects.get(pk=xena.pk)
        xena.first_name, xena.last_name = "Xena", "Owner"
        xena.save()
        if case == "xena-subscribed-bea-consents":
            choose(xena_browser, subscribe=True)
        send_due(rounds=3)
        member = emulator.get_member(api_key, list_id, bea_addr)
        assert member["merge_fields"]["FNAME"] == "Xena" and row_of(xena).foreign_member is False
        if case == "xena-subscribed-bea-consents":
            assert member["status"] == "subscribed"
            bea = PersonContact.objects.get(pk=bea.pk)
            bea.marketing_permission = True
            bea.save()
            send_due(rounds=3)
            assert row_of(bea).opt_in is True
    get_person_contact(bea_user).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, bea_addr)
    if case == "control-nobody-took-it":
        assert member is None
    else:
        assert member is not None and member["merge_fields"]["FNAME"] == "Xena", (
            "Bea's erasure permanently deleted the member at bea@ that Xena (who proved the address) took as hers: "
            "her data%s are gone" % (" and her subscription" if case == "xena-subscribed-bea-consents" else ""))


@pytest.mark.usefixtures("commits")
def test_an_erasure_never_deletes_a_left_member_its_taker_is_moving_away_from(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block):
    """Found by review aud21 (F5, data, consent). Bea registers (her member at bea@); the staff add Cal; Bea changes
    her address to Cal's:
    her member stays at bea@ (members_left). Xena, the real owner of bea@, registers, proves it and subscribes on
    her account page: her send takes the member at bea@ as hers (her names, her subscription). Bea ticks her own
    marketing box at Cal's address. Then Bea has her account deleted and, a moment later (before the worker runs),
    Xena changes her address to a new one. Expected: Xena's member (hers since her proof) is never deleted by Bea's
    erasure: it moves with Xena. It was: ``members_left_held`` looks for contacts having bea@ *now* (Xena's contact
    says her new address, not yet sent), finds none, and ``_delete_member_left`` permanently deletes the member
    (same unique_email_id as Bea's, subscribed, Bea's row has opt_in): Xena's member, her subscription record and
    data are gone for good, bea@ is forgotten by Mailchimp (the API can never write it again), and her move finds
    nothing to move (it creates a new member at her new address). Xena's row (``SyncState.email`` bea@,
    ``foreign_member`` False) still says the member is hers: only contact addresses are looked at."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    bea_addr, cal_addr, xena_new = ("bea.race.aud21@fastmail.com", "cal.race.aud21@fastmail.com",
                                    "xena.new.race.aud21@fastmail.com")
    bea_user, bea = bea_leaves_her_member(shop, django_user_model, "bea21race", bea_addr, cal_addr)
    xena, xena_browser = logged_in_account(shop, django_user_model, "xena21race", bea_addr, proven=True)
    xena = PersonContact.objects.get(pk=xena.pk)
    xena.first_name, xena.last_name = "Xena", "Owner"
    xena.save()
    choose(xena_browser, subscribe=True)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, bea_addr)
    assert member["merge_fields"]["FNAME"] == "Xena" and member["status"] == "subscribed"
    xena_uid = member["unique_email_id"]
    bea = PersonContact.objects.get(pk=bea.pk)
    bea.marketing_permission = True
    bea.save()
    send_due(rounds=3)
    assert row_of(bea).opt_in is True
    get_person_contact(bea_user).delete()
    xena = PersonContact.objects.get(pk=xena.pk)
    xena.email = xena_new
    xena.save()
    send_due(rounds=4)
    found = [m for m in (emulator.get_member(api_key, list_id, bea_addr), emulator.get_member(api_key, list_id,
                                                                                            xena_new)) if m]
    deletes = list(MailchimpLogEntry.objects.filter(action="member.delete_permanent").values_list("message", flat=True))
    assert any(m["unique_email_id"] == xena_uid for m in found), (
        "Bea's erasure permanently deleted Xena's member (taken by her proof, subscribed): found only %r; log: %r" % (
            [(m["email_address"], m["status"], m["merge_fields"].get("FNAME")) for m in found], deletes))
