"""Found by independent review aud48 (issue 19) of 3a589c5, F5 (consent; fixed: a lost attempt's consent counts there
too): an erasure whose member moved in Mailchimp (found by its ``unique_email_id`` at an address another contact of the
shop has: ``ErasePlan._delete_own_member``) keeps it for that contact and decides the unsubscribe by ``withdraw =
bool(self.row.opt_in) and not consenting_in_shop(...)``: a consent a lost attempt of the erased row carried
(``consent_unanswered``, the row recovered: :func:`contact.lost_consent`) is not counted, unlike the row's own address
(``plan``: ``consent_left_with(..., carried=lost_consent(row))``) and the noted address
(``_delete_member_at_noted_address``: ``opt_in or consent_unanswered``). The member stays subscribed, by the erased
person's consent, for another contact who never consented."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import consent_answer_lost, new_person, row_of, send_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("lost", [False, True], ids=["control-consent-answered", "consent-answer-lost"])
def test_an_erasure_withdraws_a_lost_consent_from_its_member_moved_onto_another_contacts_address(
        configuration, mailchimp_account, settings, lost):
    """Harm (consent): Queenie, who never consented, stays subscribed on the consent of Paul, erased since.

    Steps: Paul (no consent) is sent: his own transactional member at paul@. He ticks the newsletter box: the PUT
    subscribing the member lands, its answer is lost (a timeout: his row is a lost attempt's, opt_in still False).
    A marketer changes the member's address to queenie@ in Mailchimp's pages (no webhook). Queenie (no consent) is
    added with queenie@; Paul's account is deleted (erasure); the worker sends.

    Control ("control-consent-answered"): the same with the consent's answer received: the erasure finds the member
    by its id at queenie@, keeps it for Queenie and unsubscribes it (Paul's consent left with him)."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    email, moved = "paul.aud48f5.%d@fastmail.com" % lost, "queenie.aud48f5.%d@fastmail.com" % lost
    paul = new_person(permission=False, first_name="Paul", last_name="Gone", email=email)
    send_due(rounds=2)
    paul = consent_answer_lost(mailchimp_account, paul, lost)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", "setup"
    assert bool(row_of(paul).claimed_by) == lost and row_of(paul).unique_email_id, "setup"
    emulator.edit_member_by_hand(api_key, list_id, email, new_email=moved)
    queenie = new_person(permission=False, first_name="Queenie", email=moved)
    PersonContact.objects.get(pk=paul.pk).delete()  # erasure
    send_due(rounds=3)
    assert not PersonContact.objects.get(pk=queenie.pk).marketing_permission
    assert emulator.get_member(api_key, list_id, email) is None, "setup: no member at Paul's old address"
    member = emulator.get_member(api_key, list_id, moved)
    assert member is not None and member["status"] not in ("subscribed", "pending"), (
        "Paul (whose consent subscribed it) was erased; his member, moved to %s, stays %s; Queenie, who has that "
        "address, never consented" % (moved, member and member["status"]))
