"""Found by independent review aud43 (issue 19) of 5ee5dc9, F2 (consent; fixed: a batch keeps its rows' recovered mark
to their close, and a row left recovered keeps a token no batch holds): a recovered row whose withdrawal a burst's batch
carries, and whose member write in that batch fails for a passing reason (a 500 of the operation), is closed as an
ordinary retry: its token and ``consent_unanswered`` are dropped, and the next attempt, no longer recovered, sends no
withdrawal.

``bulk.apply_results`` closes the rows it loads afresh (``state.held_by(batch.token)``) without their ``recovered`` mark
(kept in ``batch.sent``, read only by ``_mark_recovered`` for the first phase); ``state._close_row`` then takes the
RETRY as not recovered and not in doubt, so it clears the token and, since 5ee5dc9, ``consent_unanswered``
(``_notes_learnt(..., answered=True)``) though the row learnt nothing of the member. ``lost_consent(row)`` is False from
then on, and the subscription the dead worker's write made stays."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync import bulk, bursts
from tests.helpers import claimed_by_a_dying_worker, make_all_due, new_person, row_of, send_due, synced_people

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("fails", [False, True], ids=["control", "member-write-in-the-batch-fails-once"])
def test_a_recovered_withdrawal_whose_batched_write_failed_is_sent_again(shop, configuration, mailchimp_account,
                                                                        settings, fails):
    """Paul (no consent) is a transactional member. He ticks the newsletter box; the worker sending it plans the send
    (``consent_unanswered`` noted), its PUT subscribes the member, and the worker dies (a deploy) before it hears back.
    Paul unticks the box. A group change makes a burst: Paul's recovered row carries the withdrawal again
    (``lost_consent``) in the burst's batch, and that one operation fails with a 500 (Mailchimp answered: it did not
    write it). Expected: the row's retry still sends the withdrawal (the control: the batch's write goes through,
    unsubscribed). Found: the retry is no longer recovered and ``consent_unanswered`` was cleared: Paul stays subscribed
    although he withdrew his consent."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BURST_THRESHOLD=4, BATCH_SIZE=10,
                                    BATCH_POLL_INTERVAL=0)
    email = "paul.aud43burst.%d@fastmail.com" % fails
    paul = new_person(permission=False, first_name="Paul", email=email)
    others = synced_people(3)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "transactional", "setup"
    paul = PersonContact.objects.get(pk=paul.pk)
    paul.marketing_permission = True
    paul.save()
    row = claimed_by_a_dying_worker(paul)
    assert row.consent_unanswered, "setup: the dying worker's send noted the consent it carries"
    emulator.set_member_status(api_key, list_id, email, "subscribed")  # its write landed
    paul = PersonContact.objects.get(pk=paul.pk)
    paul.marketing_permission = False
    paul.save()
    for person in others:  # a burst: the others are due too
        person = PersonContact.objects.get(pk=person.pk)
        person.last_name = "Renamed"
        person.save()
    make_all_due()
    if fails:
        emulator.faults.fail("*/members/%s" % subscriber_hash(email), status=500, method="PUT", times=1)
    made = bursts.send_bursts(shop.pk)
    assert made, "setup: a burst"
    for _look in range(50):
        if row_of(paul).status != SyncStatus.SENDING:
            break
        bulk.check_batches(shop.pk)
    emulator.faults.clear()
    send_due(rounds=3)
    row = row_of(paul)
    status = emulator.get_member(api_key, list_id, email)["status"]
    assert status not in ("subscribed", "pending"), (
        "Paul withdrew his consent and his member stays %s (row: status %s, opt_in %s, consent_unanswered %s, "
        "claimed_by %r)" % (status, row.status, row.opt_in, row.consent_unanswered, row.claimed_by))
