"""Found by independent review aud43 (issue 19) of 5ee5dc9, F1 (consent; fixed: a lost attempt's consent counts also for
a member the shop knew archived): a recovered row whose member the shop knew archived never re-sends the withdrawal,
though its lost attempt (noted ``consent_unanswered``) was the consent's own status change, which brought the archived
member back subscribed.

``ContactPlan.__init__`` (contact.py, the ``lost_consent_unknown`` branch: ``row.member_status not in (ERASED, ARCHIVED)
and (row.opt_in or lost_consent(row))``) leaves ``row.member_status`` ARCHIVED out. The retry of the recovered row then
writes the member with no status, learns it ``subscribed`` and closes synced with ``opt_in`` False
(``_notes_learnt(sent=True)`` clears ``consent_unanswered``): the shop takes the subscription for someone else's, and
the member stays subscribed on a consent the person withdrew. (Removing ARCHIVED from that exclusion makes the probe
pass.) ``consent_left_with`` has the same exclusion (``row.member_status in (ERASED, ARCHIVED)`` → False, whatever
``carried``): an erasure (second probe) or a move leaves the subscription behind."""
import pytest
from django.test import Client
from shuup.core.models import PersonContact

from tests.helpers import consent_answer_lost, new_person, row_of, send_due
from tests.webhooks.helpers import post_event

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "consent-answer-lost"])
def test_withdrawal_after_a_lost_consent_to_an_archived_member(shop, configuration, mailchimp_account, settings,
                                                              lost):
    """Paul (no consent) is a transactional member; a marketer archives it in Mailchimp (the shop hears the
    ``unsubscribe``/``delete`` webhook: his row knows it archived). Paul ticks the newsletter box: the send PUTs the
    member subscribed/pending (it lands: the member is back), its answer is lost (recovered row, ``opt_in`` False,
    ``consent_unanswered`` True, ``member_status`` still archived). Paul then unticks the box before the retry.
    Expected: the withdrawal reaches Mailchimp (control: the consent answered, the untick unsubscribes). Found: the
    retry's plan has no status change (ARCHIVED is excluded from the re-sent withdrawal); its write learns the member
    subscribed, the row closes synced (``opt_in`` False, ``consent_unanswered`` cleared): Paul stays subscribed on a
    consent he withdrew, and no later send changes it."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    email = "paul.aud43arch.%d@fastmail.com" % lost
    paul = new_person(permission=False, first_name="Paul", email=email)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "transactional", "setup"
    emulator.set_member_status(api_key, list_id, email, "archived")
    assert post_event(Client(), configuration, "unsubscribe", email=email, action="delete").status_code == 200
    assert row_of(paul).member_status == "archived", "setup: the row knows the member archived"
    paul = consent_answer_lost(mailchimp_account, paul, lost)
    assert emulator.get_member(api_key, list_id, email)["status"] in ("subscribed", "pending"), "setup"
    if lost:
        assert row_of(paul).consent_unanswered and row_of(paul).claimed_by, "setup: a lost attempt carrying the consent"
    paul = PersonContact.objects.get(pk=paul.pk)
    paul.marketing_permission = False
    paul.save()
    send_due(rounds=3)
    row = row_of(paul)
    status = emulator.get_member(api_key, list_id, email)["status"]
    assert status not in ("subscribed", "pending"), (
        "Paul withdrew his consent, and his member stays %s (row: status %s, member_status %s, consent_unanswered %s, "
        "last_error %r)" % (status, row.status, row.member_status, row.consent_unanswered, row.last_error))


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "consent-answer-lost"])
def test_erasure_after_a_lost_consent_to_an_archived_shared_member(shop, configuration, mailchimp_account, settings,
                                                                  lost):
    """The same through an erasure (``consent_left_with`` also returns False for a row whose member_status is ARCHIVED,
    whatever ``carried``). Paul and Queenie (a family address, neither consents) share Paul's member; a marketer
    archives it (the webhook: both rows know it archived). Paul ticks the box: the PUT brings the member back
    subscribed/pending, its answer is lost. Paul's account is deleted (an erasure; Queenie keeps the address). Expected:
    the consent leaves with Paul, the member is unsubscribed (control: the consent answered). Found: it stays pending
    (subscribed under single opt-in): the erasure's ``consent_left_with(..., carried=True)`` returns False for the row's
    stale ``member_status`` ARCHIVED, and Queenie, who never consented, is left with it."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    email = "family.aud43arch.%d@fastmail.com" % lost
    paul = new_person(permission=False, first_name="Paul", email=email)
    send_due(rounds=2)
    queenie = new_person(permission=False, first_name="Queenie", email=email)
    send_due(rounds=2)
    emulator.set_member_status(api_key, list_id, email, "archived")
    assert post_event(Client(), configuration, "unsubscribe", email=email, action="delete").status_code == 200
    assert row_of(paul).member_status == "archived", "setup: the row knows the member archived"
    paul = consent_answer_lost(mailchimp_account, paul, lost, writes_before=1)
    assert emulator.get_member(api_key, list_id, email)["status"] in ("subscribed", "pending"), "setup"
    PersonContact.objects.get(pk=paul.pk).delete()
    send_due(rounds=3)
    assert not PersonContact.objects.get(pk=queenie.pk).marketing_permission
    status = emulator.get_member(api_key, list_id, email)["status"]
    assert status not in ("subscribed", "pending"), (
        "the member at %s stays %s after Paul (whose consent brought it back) was erased; Queenie never consented"
        % (email, status))
