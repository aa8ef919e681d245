"""Found by independent review aud44 (issue 19) of 89842ba, F1 (consent; fixed: a skipped close keeps a lost attempt's
token and notes): a recovered row whose lost attempt subscribed the member forgets that attempt when one send of it is
skipped (the contact has, for a while, no e-mail address): the SKIPPED close clears ``consent_unanswered`` and the token
(``state._close_row``: ``_notes_learnt(row, facts, answered=True)`` and ``_close`` releasing ``claimed_by``), although
nothing was learnt of the member. Once the address is back, the contact's withdrawal is not sent: ``row.opt_in`` never
learnt the consent, the row is no longer recovered, so ``ContactPlan.__init__`` computes no status change. (A FAILED
close of the same row keeps token and note since 89842ba: an invalid address instead of an empty one keeps the
withdrawal.)"""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import consent_answer_lost, new_person, row_of, send_due

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "consent-answer-lost"])
def test_withdrawal_after_a_lost_consent_and_a_skipped_send(shop, configuration, mailchimp_account, settings, lost):
    """Paul (no consent) is a transactional member. He ticks the newsletter box: the PUT subscribes the member and its
    answer is lost (recovered row, ``consent_unanswered`` "subscribed"). Before the retry, a clerk clears his e-mail
    address by mistake (the retry is skipped: "no e-mail address"), and puts it back; Paul then unticks the box.
    Expected: the withdrawal reaches Mailchimp (control: the consent answered, the same steps unsubscribe him). Found:
    the skipped send ended the row's memory of the lost attempt; the withdrawal is sent as a plain update, and Paul
    stays subscribed on a consent he withdrew, for good."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    email = "paul.aud44skip.%d@fastmail.com" % lost
    paul = new_person(permission=False, first_name="Paul", email=email)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "transactional", "setup"
    paul = consent_answer_lost(mailchimp_account, paul, lost)
    assert emulator.get_member(api_key, list_id, email)["status"] in ("subscribed", "pending"), "setup"
    if lost:
        assert row_of(paul).consent_unanswered and row_of(paul).claimed_by, "setup: a lost attempt carrying the consent"
    paul = PersonContact.objects.get(pk=paul.pk)
    paul.email = ""
    paul.save()
    send_due(rounds=2)
    skipped = row_of(paul)
    assert skipped.status == "skipped" and "no e-mail" in skipped.last_error, "setup: the send skipped"
    paul = PersonContact.objects.get(pk=paul.pk)
    paul.email = email
    paul.save()
    paul = PersonContact.objects.get(pk=paul.pk)
    paul.marketing_permission = False
    paul.save()
    send_due(rounds=3)
    row = row_of(paul)
    status = emulator.get_member(api_key, list_id, email)["status"]
    assert status not in ("subscribed", "pending"), (
        "Paul withdrew his consent, and his member stays %s (row: status %s, opt_in %s, consent_unanswered %r, "
        "claimed_by %r, last_error %r; after the skip: consent_unanswered %r, claimed_by %r)" % (
            status, row.status, row.opt_in, row.consent_unanswered, row.claimed_by, row.last_error,
            skipped.consent_unanswered, skipped.claimed_by))
