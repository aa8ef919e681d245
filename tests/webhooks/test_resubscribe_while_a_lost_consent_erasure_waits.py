"""Found by independent review aud56 (issue 19) of 243957f, F2 (fixed: the owner's unsubscribe ends on a waiting
erasure's row the consent a lost attempt begun before it carried too; consent / data loss): the aud55 fix makes the
``unsubscribe`` webhook end the consent a waiting erasure last sent (``member_events._erasures_learn``: ``opt_in=False,
consent_made=False``), but not the consent a lost attempt of the row may have carried (``SyncState.consent_unanswered``,
counted by ``lost_consent(row)`` while the row is recovered). So when the erased contact's last consent write was lost,
the owner's unsubscribe is not learnt as ending it: ``ErasePlan._delete_own_member`` (``self.row.opt_in or
lost_consent(self.row)``) and ``plan``'s ``consent_left_with(..., carried=lost_consent(row))`` still take a form signup
the owner made after unsubscribing for the erased contact's consent, and delete it for good (own member) or unsubscribe
it (shared member)."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import consent_answer_lost, new_person, row_of, send_due
from tests.webhooks.helpers import owner_resubscribes_on_the_form

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]



@pytest.mark.parametrize("lost", [False, True], ids=["control-consent-answered", "consent-answer-lost"])
def test_owners_form_resubscription_survives_the_erasure_of_a_lost_consent(
        configuration, mailchimp_account, settings, lost):
    """Harm (consent, data loss): the owner of the address unsubscribed and then signed up again on Mailchimp's own
    form; Vera's waiting erasure deletes that member permanently (the API can never write the address again).

    Steps: Vera (no consent) is sent: her own transactional member at vera@. She ticks the newsletter box: the member
    PUT lands subscribed; with ``lost`` its answer is lost (TIMEOUT=2: the row is a lost attempt's, consent_unanswered
    noted). Vera's account is deleted (erasure recorded, DELIVERY=worker: not sent). The owner unsubscribes in
    Mailchimp (webhook), then signs up again on Mailchimp's form (webhook). The worker sends the erasure.

    Control ("control-consent-answered", passes on 243957f): Vera's consent answered; the unsubscribe webhook ends it
    on the erasure row (aud55 F2 fix) and the erasure keeps the owner's signup. Expected in both: the member stays
    subscribed."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    email = "vera.%d.aud56f2@fastmail.com" % lost
    vera = new_person(permission=False, email=email, first_name="Vera", last_name="Secretname")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "transactional", "setup"
    vera = consent_answer_lost(mailchimp_account, vera, lost)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", "setup"
    assert not row_of(vera).foreign_member, "setup: Vera's own member"
    assert bool(row_of(vera).consent_unanswered) == lost, "setup"
    PersonContact.objects.get(pk=vera.pk).delete()  # erasure recorded
    owner_resubscribes_on_the_form(configuration, mailchimp_account, email)
    row = row_of(vera)
    assert row.erase and not row.opt_in and not row.consent_unanswered, "the unsubscribe ended both consents"
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and member["status"] == "subscribed", (
        "the owner of %s signed up again on Mailchimp's form after unsubscribing; Vera's erasure ended that signup: "
        "%r" % (email, member and member["status"]))


@pytest.mark.parametrize("lost", [False, True], ids=["control-consent-answered", "consent-answer-lost"])
def test_owners_form_resubscription_survives_a_shared_erasure_of_a_lost_consent(
        configuration, mailchimp_account, settings, lost):
    """Harm (consent): the same at an address Carl (no consent) shares: the erasure unsubscribes the owner's fresh
    form signup (``plan``: ``consent_left_with(..., carried=lost_consent(row))`` -> ``ErasePlan._keep_member``).

    Steps: Vera (no consent) is sent: her own member at family@. Carl (no consent) is added with family@. Vera ticks
    the box: the PUT (pending/subscribed) lands, its answer lost with ``lost``. Vera's account is deleted (erasure
    waits). The owner unsubscribes, then signs up again on the form (webhooks). The worker sends.

    Control ("control-consent-answered", passes on 243957f): the signup stays subscribed."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    family = "family.%d.aud56f2s@fastmail.com" % lost
    vera = new_person(permission=False, email=family, first_name="Vera", last_name="Secretname")
    send_due(rounds=2)
    new_person(permission=False, email=family, first_name="Carl", last_name="Other")
    send_due(rounds=2)
    vera = consent_answer_lost(mailchimp_account, vera, lost, writes_before=1)
    assert not row_of(vera).foreign_member, "setup: Vera's own member"
    assert bool(row_of(vera).consent_unanswered) == lost, "setup"
    PersonContact.objects.get(pk=vera.pk).delete()  # erasure recorded
    owner_resubscribes_on_the_form(configuration, mailchimp_account, family)
    row = row_of(vera)
    assert row.erase and not row.opt_in and not row.consent_unanswered, "the unsubscribe ended both consents"
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, family)
    assert member is not None and member["status"] == "subscribed", (
        "the owner of %s signed up again on Mailchimp's form after unsubscribing; Vera's erasure ended that signup: "
        "%r" % (family, member and member["status"]))
