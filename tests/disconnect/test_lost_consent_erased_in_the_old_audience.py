"""Found by independent review aud48 (issue 19) of 3a589c5, F3 (consent; fixed: the row a lost attempt holds is planned
as recovered): Initialize's erasure in the old audience (``initialization._erase_in_old_audience`` ->
``contact.erase_members_in``) plans the erasure from a copy of the row that no claim took, so the row is never
``recovered`` (``state.claim`` sets that attribute from the lost attempt's token) and ``plan`` asks
``consent_left_with(..., carried=lost_consent(row))`` with ``carried`` False. A subscription a lost attempt of the
erased contact made (its answer lost: ``opt_in`` still False, ``consent_unanswered`` noted) therefore never "leaves"
with the erasure: the member another contact of the shop has (who never consented) is kept SUBSCRIBED in the old
audience, where the shop never writes again (``forget_audience``). The worker's own erasure of the same row (claimed:
recovered) unsubscribes it (tests/storefront/test_erasure_after_lost_consent_write.py, aud42 F2)."""
import pytest
from shuup.core.models import PersonContact

from tests.disconnect.helpers import disconnect_and_delete_the_store, initialize_with
from tests.helpers import consent_answer_lost, new_person, row_of, send_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("lost", [False, True], ids=["control-consent-answered", "consent-answer-lost"])
def test_an_erasure_in_the_old_audience_withdraws_the_consent_a_lost_attempt_carried(
        admin_client, connected, mailchimp_account, settings, lost):
    """Harm (consent): Queenie, who never consented, stays subscribed (in the shop's old audience, which a marketer
    may still mail) on the consent of Paul, a contact erased since.

    Steps: Paul (no consent) is sent: his own transactional member at the family address. He ticks the newsletter
    box: the PUT subscribing the member lands, its answer is lost (a timeout: his row is a lost attempt's, opt_in
    still False). The shop is disconnected (store deleted). Queenie (no consent) is added with the family address.
    Paul's account is deleted (erasure). The owner moves the shop to a new audience (Initialize).

    Control ("control-consent-answered"): the same with the consent's answer received: the erasure in the old
    audience unsubscribes the member (Paul's consent left with him; Queenie does not consent)."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    email = "family.aud48f3.%d@fastmail.com" % lost
    paul = new_person(permission=False, first_name="Paul", last_name="Gone", email=email)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "transactional", "setup"
    paul = consent_answer_lost(mailchimp_account, paul, lost)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", "setup"
    assert bool(row_of(paul).claimed_by) == lost, "setup: a lost attempt's row keeps its token"
    disconnect_and_delete_the_store(admin_client, connected, emulator)
    queenie = new_person(permission=False, first_name="Queenie", email=email)
    PersonContact.objects.get(pk=paul.pk).delete()  # erasure, recorded while disconnected
    initialize_with(admin_client, connected, emulator.add_list(api_key, name="New audience"))
    send_due(rounds=3)
    assert not PersonContact.objects.get(pk=queenie.pk).marketing_permission
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and member["status"] not in ("subscribed", "pending"), (
        "Paul (whose consent subscribed it) was erased; the member at %s in the old audience stays %s; Queenie, "
        "who shares the address, never consented" % (email, member and member["status"]))
