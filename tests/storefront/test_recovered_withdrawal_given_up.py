"""Found by independent review aud43 (issue 19) of 5ee5dc9, F4 (consent; fixed: a row that gives up with a lost
attempt's write unknown keeps a token and its notes): a recovered row's withdrawal that Mailchimp keeps refusing for a
passing reason (5xx) until the row gives up is lost for good: the close that gives up clears ``consent_unanswered`` and
the token, and no later send of the row (a rename, the admin's resend) carries the withdrawal again.

``state._close_row`` closes the given-up RETRY as FAILED with ``ended`` (``_notes_learnt(..., answered=True)``):
``consent_unanswered`` cleared and the token dropped, although no answer told what became of the member (the lost
attempt's subscription stands). ``lost_consent(row)`` is False from then on, and ``row.opt_in`` never learnt the
consent, so ``ContactPlan.__init__`` computes no status change. An ordinary withdrawal (the consent answered, ``opt_in``
True) that gives up the same way is still sent by the row's next send (``consent.status_change``): the control."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.models import SyncStatus
from tests.helpers import consent_answer_lost, new_person, row_of, send_due

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "consent-answer-lost"])
def test_a_recovered_withdrawal_that_gave_up_is_sent_with_the_next_send(shop, configuration, mailchimp_account,
                                                                       settings, lost):
    """Paul (no consent) is a transactional member. He ticks the newsletter box: the PUT subscribes the member and its
    answer is lost (recovered row, ``consent_unanswered``). Paul unticks the box. Mailchimp answers the withdrawal's PUT
    with 503 until the row gives up (MAX_ATTEMPTS, 2 here; 8 over about two hours by default): the row is failed.
    Mailchimp recovers; Paul later corrects his name and the row is sent again. Expected: that send unsubscribes him
    (control: his consent answered, the same failed withdrawal is sent with the rename). Found: it is a plain rename,
    and Paul stays subscribed for good although he withdrew his consent."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2, MAX_ATTEMPTS=2)
    email = "paul.aud43gaveup.%d@fastmail.com" % lost
    paul = new_person(permission=False, first_name="Paul", email=email)
    send_due(rounds=2)
    paul = consent_answer_lost(mailchimp_account, paul, lost)
    assert emulator.get_member(api_key, list_id, email)["status"] in ("subscribed", "pending"), "setup"
    paul = PersonContact.objects.get(pk=paul.pk)
    paul.marketing_permission = False
    paul.save()
    emulator.faults.fail("*/members/%s*" % subscriber_hash(email), status=503, method="PUT")
    send_due(rounds=3)
    emulator.faults.clear()
    assert row_of(paul).status == SyncStatus.FAILED, "setup: the withdrawal gave up"
    assert emulator.get_member(api_key, list_id, email)["status"] in ("subscribed", "pending"), "setup"
    paul = PersonContact.objects.get(pk=paul.pk)
    paul.first_name = "Paulus"
    paul.save()
    send_due(rounds=3)
    row = row_of(paul)
    member = emulator.get_member(api_key, list_id, email)
    assert member["merge_fields"].get("FNAME") == "Paulus", "setup: the rename was sent"
    assert member["status"] not in ("subscribed", "pending"), (
        "Paul withdrew his consent and his member stays %s after the row's next send (row: status %s, opt_in %s, "
        "consent_unanswered %s)" % (member["status"], row.status, row.opt_in, row.consent_unanswered))
