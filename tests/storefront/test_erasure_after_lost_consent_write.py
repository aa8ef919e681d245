"""Found by independent review aud42 (issue 19) of 76d35b0 (F2; fixed: what a lost attempt carried is noted before it
sends, ``SyncState.consent_unanswered``, and an erasure counts it) (consent): since
76d35b0 an erasure's plan never counts a consent a lost attempt carried (``plan``: ``ErasePlan(withdraw=...
consent_left_with(shop_id, row))`` without ``carried``, and ``consent_left_with`` no longer computes it itself), so
a subscription a lost attempt made on the erased contact's consent stays with the other contact of the shop who
shares the address and never consented (aud40 F2's harm, back through an erasure)."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import consent_answer_lost, new_person, send_due

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "consent-answer-lost"])
def test_erasing_a_contact_whose_lost_write_subscribed_a_member_later_shared_withdraws_it(
        shop, configuration, mailchimp_account, settings, lost):
    """Paul (no consent) is a transactional member. He ticks the newsletter box: the send PUTs his member subscribed
    (it lands), its answer is lost (a timeout): his row is a lost attempt's (recovered, ``opt_in`` still False).
    Queenie (no consent) then registers with the same family address. Paul's account is deleted (an erasure): the
    erasure's plan asks ``consent_left_with`` with no ``carried``: nothing leaves, the member stays subscribed and
    Queenie, who never consented, gets the newsletter on the consent of a contact who no longer exists. Control: the
    consent answered: the erasure unsubscribes the member."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    email = "family.aud42s.%d@fastmail.com" % lost
    paul = new_person(permission=False, first_name="Paul", email=email)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "transactional", "setup"
    paul = consent_answer_lost(mailchimp_account, paul, lost)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    queenie = new_person(permission=False, first_name="Queenie", email=email)
    PersonContact.objects.get(pk=paul.pk).delete()
    send_due(rounds=3)
    assert not PersonContact.objects.get(pk=queenie.pk).marketing_permission
    member = emulator.get_member(api_key, list_id, email)
    assert member is None or member["status"] not in ("subscribed", "pending"), (
        "the member at %s stays %s after Paul (whose consent subscribed it) was erased; Queenie, who shares the "
        "address, never consented" % (email, member["status"]))


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "consent-answer-lost"])
def test_erasing_a_contact_whose_lost_write_subscribed_a_shared_member_withdraws_it(
        shop, configuration, mailchimp_account, settings, lost):
    """Paul and Queenie (a family address, both contacts of the shop, neither consents) share one member,
    transactional. Paul ticks the newsletter box: the send PUTs the member subscribed (pending: its
    owner is asked to confirm; it lands), its answer is lost
    (a timeout), so Paul's row is a lost attempt's (recovered, ``opt_in`` still False). Paul's account is then deleted
    (an erasure). The erasure's plan asks ``consent_left_with`` with no ``carried``: the row's last answered consent
    was none, so nothing leaves, and the member stays subscribed: Queenie, who never consented, gets the newsletter on
    the consent of a contact who no longer exists. Control: the same with the consent answered: the erasure
    unsubscribes the member (the consent left with Paul)."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    email = "family.aud42.%d@fastmail.com" % lost
    paul = new_person(permission=False, first_name="Paul", email=email)
    send_due(rounds=2)
    queenie = new_person(permission=False, first_name="Queenie", email=email)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "transactional", "setup"
    # The send's first member PUT (no status: it reads the member's) is answered; the second (pending) is lost.
    paul = consent_answer_lost(mailchimp_account, paul, lost, writes_before=1)
    assert emulator.get_member(api_key, list_id, email)["status"] in ("subscribed", "pending")
    PersonContact.objects.get(pk=paul.pk).delete()
    send_due(rounds=3)
    assert not PersonContact.objects.get(pk=queenie.pk).marketing_permission
    member = emulator.get_member(api_key, list_id, email)
    assert member is None or member["status"] not in ("subscribed", "pending"), (
        "the member at %s stays %s after Paul (whose consent subscribed it) was erased; Queenie, who shares the "
        "address, never consented" % (email, member["status"]))
