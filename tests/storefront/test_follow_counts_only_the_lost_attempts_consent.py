"""A followed lost move counts the consent its lost attempt carried, not the one the retry carries (found while fixing
aud42 F5: ``state.note_before_sending`` writes the retry's own ``consent_unanswered`` on the row before its requests go
out, and the follow, which runs after, read it as the lost attempt's)."""
import pytest
from django.test import Client
from shuup.core.models import PersonContact

from shoop_mailchimp.sync.drainer import drain
from tests.helpers import move_answer_lost, new_person, row_of, send_due
from tests.webhooks.helpers import post_event

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "move-answer-lost"])
def test_a_consent_given_after_a_lost_move_does_not_end_a_form_subscription_there(
        shop, configuration, mailchimp_account, settings, lost):
    """Harm (consent): Queenie's own subscription (Mailchimp's signup form) ends because Paul, who moved through her
    address without consent, consents later.

    Steps: Paul (no consent) is a transactional member at his old address. He changes it to the family address: the
    move's PATCH lands, its answer is lost (a timeout). Queenie (no consent in the shop) registers with the family
    address (the member there, Paul's moved one, is not hers) and subscribes on Mailchimp's own form (the shop hears
    the webhook). Paul then ticks the newsletter box and changes his address to his own, in one save. The retry
    follows the lost move (the member at the family address has Paul's ``unique_email_id``); Queenie has the address
    now, so the member stays hers, and its subscription would leave with Paul only if Paul's consent made it: his
    lost move carried none. Control: the move answered; the same saves."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    old, family, own = ("%s.lostfollow.%d@fastmail.com" % (name, lost) for name in ("paul.old", "family", "paul"))
    paul = new_person(permission=False, first_name="Paul", email=old)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, old)["status"] == "transactional", "setup"
    paul = PersonContact.objects.get(pk=paul.pk)
    paul.email = family
    paul.save()
    move_answer_lost(mailchimp_account, family, lost=lost)
    if lost:
        assert row_of(paul).move_sent_to == family, "setup: the move's answer was lost"
    queenie = new_person(permission=False, first_name="Queenie", email=family)
    drain()  # Queenie's first send; Paul's retry waits its backoff
    emulator.fire_event(api_key, list_id, "subscribe", family)
    assert post_event(Client(), configuration, "subscribe", email=family).status_code == 200
    assert emulator.get_member(api_key, list_id, family)["status"] == "subscribed", "setup: her form subscription"
    if lost:
        assert row_of(paul).move_sent_to == family, "setup: Paul's retry has not run yet"
    paul = PersonContact.objects.get(pk=paul.pk)
    paul.marketing_permission = True
    paul.email = own
    paul.save()
    send_due(rounds=4)
    assert not PersonContact.objects.get(pk=queenie.pk).marketing_permission
    member = emulator.get_member(api_key, list_id, family)
    assert member is not None and member["status"] == "subscribed", (
        "Queenie's own subscription at %s is %s after Paul, whose lost move carried no consent, consented and moved "
        "away" % (family, member and member["status"]))
    assert emulator.get_member(api_key, list_id, own)["status"] == "subscribed"
