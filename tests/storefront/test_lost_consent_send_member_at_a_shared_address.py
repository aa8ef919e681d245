"""Found by independent review aud54 (issue 19) of 61e8bef, F1 (open, a strict expected failure: a member a PUT of the
row created carries no signup stamp of the row, so it looks like its owner's signup; GDPR; consent):
``ErasePlan._erase_shared_own_member`` leaves a subscribed member at the erased contact's shared address alone when its
``unique_email_id`` is not the row's and its ``timestamp_signup`` is not the row's first claim
(``created_by_an_earlier_attempt``): "its owner signed up again". But a consent send of the contact whose answer was
lost (PUTs at the address, after the contact's member moved away in Mailchimp) creates such a member: pending by the
erased contact's consent (a confirmation link mailed), carrying her names, no signup stamp (a PUT, not a create). The
erasure deletes the moved member only; the pending subscription and the erased person's names stay at family@ for good
(the row closes ERASED)."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, new_person, row_of, send_due, wait_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("lost", [False, pytest.param(True, marks=pytest.mark.xfail(strict=True, reason=(
    "open (aud54 F1): a member a PUT of the row created at a shared address (no signup stamp) is taken for its "
    "owner's signup")))], ids=["control-consent-answer-heard", "consent-answer-lost"])
def test_erasure_clears_the_member_her_lost_consent_send_created_at_a_shared_address(
        configuration, mailchimp_account, settings, lost):
    """Harm (GDPR, consent): Vera is erased in the shop; the member at family@ (an address Carl, another contact, has)
    stays pending (a confirmation link out), by Vera's consent only (Carl never consented), with her names "Vera
    Secretname", for good.

    Steps: Vera (no consent) is sent: her member at family@, transactional, her names. Carl (no consent) has family@ too
    and is sent. On Mailchimp's profile page the member's address is changed to home@ (the upemail does not reach the
    shop). Vera ticks her consent; the worker sends it: a PUT at family@ creates a new member there with her names, then
    a PUT asks it to confirm (pending); that answer is lost (a timeout: the row keeps the old member's id). Vera's
    account is deleted; the worker sends the erasure: shared (Carl), the member at family@ has another id and is
    pending, not stamped with the row's first claim, so it is taken for an owner's own signup and left alone; only home@
    is erased.

    Control ("control-consent-answer-heard"): the same with the consent send's answer heard: the row records the new
    member's id and the erasure keeps it for Carl (``_keep_member``): her names cleared, unsubscribed (no one else
    consents). Expected in both: the member at family@ carries no "Secretname" and is neither subscribed nor pending."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=(1, 0.3))
    family, home = "family.%d.aud54f1@fastmail.com" % lost, "home.%d.aud54f1@fastmail.com" % lost
    vera = new_person(permission=False, email=family, first_name="Vera", last_name="Secretname")
    send_due(rounds=2)
    new_person(permission=False, email=family, first_name="Carl", last_name="Other")
    send_due(rounds=2)
    old_id = emulator.get_member(api_key, list_id, family)["unique_email_id"]
    assert row_of(vera).unique_email_id == old_id, "setup"
    emulator.fire_event(api_key, list_id, "upemail", family, new_email=home)  # its delivery does not reach the shop
    vera = PersonContact.objects.get(pk=vera.pk)
    vera.marketing_permission = True
    vera.save()
    if lost:
        emulator.faults.hang(0, path_pattern="*/members/*", times=1, method="PUT")
        emulator.faults.hang(60, path_pattern="*/members/*", times=1, method="PUT")
        make_all_due()
        drain()
        emulator.release_hangs()
        wait_for(emulator, lambda: (emulator.get_member(api_key, list_id, family) or {}).get("status") in (
            "subscribed", "pending"), "the consent reaching Mailchimp")
        emulator.faults.clear()
    else:
        send_due(rounds=2)
    created = emulator.get_member(api_key, list_id, family)
    assert created and created["unique_email_id"] != old_id and created["status"] in ("subscribed", "pending"), (
        "setup: a new subscribed/pending member at family@: %r" % (created,))
    assert created["merge_fields"].get("LNAME") == "Secretname", "setup: her names on it"
    if lost:
        assert row_of(vera).unique_email_id == old_id, "setup: the new member's id never reached the row"
    else:
        assert row_of(vera).unique_email_id == created["unique_email_id"], "setup"
    PersonContact.objects.get(pk=vera.pk).delete()
    send_due(rounds=3)
    assert (row_of(vera).member_status, row_of(vera).status) == ("erased", "synced"), (
        "the erasure closed: nothing retries")
    member = emulator.get_member(api_key, list_id, family)
    fields = member and member["merge_fields"]
    assert not member or not any("Secretname" in str(value) for value in fields.values()), (
        "Vera was erased; her data stays on the member at family@: %r (%s)" % (fields, member["status"]))
    assert not member or member["status"] not in ("subscribed", "pending"), (
        "Vera was erased and Carl never consented; family@ stays subscribed by her consent")
