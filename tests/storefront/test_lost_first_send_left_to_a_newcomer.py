"""Found by independent review aud45 (issue 19) of fe40bd4, F3 and F4 (consent, data); fixed: the follow of a lost first
send unsubscribes the member it created where another contact now has the address and none consents, and an erasure
keeps it without the erased person's data: a retried first send whose contact corrected its address follows the first
send's noted address as a lost move (``ContactPlan.lost_move_to``, ``_follow_lost_move``). When the member there is the
one the lost attempt created (its signup time) and another contact of the shop has that address now,
``_follow_lost_move`` simply returns (``if not others.exists() and self.created_by_an_earlier_attempt(held) ...:
archive; return``): the subscription the contact's consent made there stays, although none of the address's contacts
consents. A move off a shared address whose answer arrived withdraws it (``consent_left``: ``unsubscribe_kept_member``),
and so does the branch of ``_follow_lost_move`` for a member found by its ``unique_email_id``."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import first_send_answer_lost, new_person, row_of, send_due

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control-answer-arrived", "first-send-answer-lost"])
def test_a_subscription_left_at_a_corrected_address_ends_with_the_contact(
        shop, configuration, mailchimp_account, settings, lost):
    """Harm (consent): Carl's address is subscribed to the newsletter on the consent of Ann, who typed it by mistake and
    corrected it; Carl, a contact of the shop there, never consented, and is mailed (with Ann's names on the member).

    Steps (single opt-in): Ann consents, her address typed wrong (Carl's address). Her first send creates the member
    there, subscribed, and its answer is lost (control: it arrives). Carl registers with his address (no consent), and
    Ann corrects hers. Expected: the subscription Ann's consent made at Carl's address ends (control: Ann's move off the
    address Carl now has unsubscribes it, ``consent_left``). Found: Ann's retry reads the member at the noted address,
    sees it is her lost attempt's creation, sees Carl has the address, and leaves it subscribed."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    configuration.double_opt_in = False
    configuration.save()
    carls = "carl.aud45n%d@fastmail.com" % lost
    anns = "ann.aud45n%d@fastmail.com" % lost
    ann = new_person(permission=True, first_name="Ann", last_name="Typo", email=carls)
    if lost:
        first_send_answer_lost(emulator, api_key, list_id, carls)
        assert not row_of(ann).email and row_of(ann).move_sent_to == carls, "setup: a lost first send"
    else:
        send_due(rounds=2)
        assert row_of(ann).email == carls, "setup"
    assert emulator.get_member(api_key, list_id, carls)["status"] == "subscribed", "setup"
    carl = new_person(permission=False, first_name="Carl", email=carls)
    ann = PersonContact.objects.get(pk=ann.pk)
    ann.email = anns
    ann.save()
    send_due(rounds=3)
    assert row_of(ann).email == anns and row_of(carl).email == carls, "setup: both sent"
    member = emulator.get_member(api_key, list_id, carls)
    assert member["status"] != "subscribed", (
        "Nobody of %s consents (Ann left it), and its member stays subscribed on Ann's consent: %s" % (
            carls, {key: member.get(key) for key in ("status", "merge_fields")}))


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control-answer-arrived", "first-send-answer-lost"])
def test_erasure_after_a_lost_first_send_clears_the_member_another_contact_has_since(
        shop, configuration, mailchimp_account, settings, lost):
    """Harm (GDPR data + consent): Ann is erased, and the member her first send created keeps her names, subscribed on
    her consent, at an address Carl (who never consented) registered with since.

    Steps (single opt-in): Ann consents; her first send creates the member, subscribed, and its answer is lost (control:
    it arrives). Carl registers with the same address (no consent). Ann deletes her account (erasure). Expected: the
    member stays (Carl has the address), without Ann's names and unsubscribed, as ``ErasePlan._keep_member`` does for a
    shared address (the control). Found: ``_delete_member_at_noted_address`` sees another contact has the address, logs
    "member.kept" and returns: neither her data nor her consent's subscription leave the member."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    configuration.double_opt_in = False
    configuration.save()
    email = "shared.aud45x%d@fastmail.com" % lost
    ann = new_person(permission=True, first_name="Ann", last_name="Erasedname", email=email)
    if lost:
        first_send_answer_lost(emulator, api_key, list_id, email)
        assert not row_of(ann).email and row_of(ann).move_sent_to == email, "setup: a lost first send"
    else:
        send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", "setup"
    new_person(permission=False, first_name="Carl", last_name="Other", email=email)
    PersonContact.objects.get(pk=ann.pk).delete()  # erasure
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and member["merge_fields"].get("LNAME") != "Erasedname" and (
        member["status"] != "subscribed"), (
        "Ann was erased; the member at %s (Carl's address, Carl never consented) is %s with %s" % (
            email, member and member["status"], member and member["merge_fields"]))
