"""Found by independent review aud43 (issue 19) of 5ee5dc9, F3 (consent; fixed: ``state.release`` forgets what a send
given back untried noted): ``consent_unanswered`` noted for a send that never went out (Mailchimp answered 429, and the
round gave its rows back) stays on the row; a later lost attempt that carried no consent is then taken for one that did,
and its retry unsubscribes a member whose subscription is someone else's (Mailchimp's own form).

The drainer notes the plan before its requests (``ShopDelivery._note``); a throttle (``_close`` → ``ShopStopped`` →
``_stop`` → ``state.release``) gives the row back without clearing the note (``release`` clears only the token;
``_notes_learnt`` runs only in closes), and nothing but a close clears it afterwards: the next attempt's
``note_before_sending`` of a plan carrying no consent leaves ``consent_unanswered`` True. When that attempt's answer is
lost, ``lost_consent(row)`` is True, and ``ContactPlan.__init__`` re-sends a withdrawal (``row.opt_in or
lost_consent(row)``) for a consent that never reached Mailchimp (the same stands for a row given back by a shop that
stopped sending, or the queued sends a concurrent drain cancels)."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, row_of, send_due, wait_for
from tests.webhooks.helpers import sharing_a_form_subscription

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("throttled", [False, True], ids=["control-no-round-meanwhile", "consent-send-throttled"])
def test_a_throttled_consent_send_is_not_taken_for_a_lost_one(shop, configuration, mailchimp_account, settings,
                                                             throttled):
    """Paul and Queenie (a family address, neither consents in the shop) share one member, which Paul's send created;
    Queenie subscribes on Mailchimp's own form (the shop hears the webhook). Paul ticks the newsletter box: the round
    notes the consent on his row, and Mailchimp answers his member PUT with 429 (too many requests): nothing was
    written, the row is given back. Paul unticks the box and corrects his name; that send (no consent in it) lands and
    its answer is lost. Expected: no consent of Paul's ever reached Mailchimp, Queenie's form subscription stays (the
    control: Paul ticked and unticked between two rounds). Found: the stale ``consent_unanswered`` makes the lost
    rename's retry send Paul's withdrawal: the family member is unsubscribed, and Queenie no longer gets the newsletter
    she subscribed to herself."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    email = "family.aud43t.%d@fastmail.com" % throttled
    paul, queenie = sharing_a_form_subscription(configuration, mailchimp_account, email)
    paul.marketing_permission = True
    paul.save()
    if throttled:
        emulator.faults.fail("*/members/*", status=429, method="PUT", times=1)
        make_all_due()
        drain()
        emulator.faults.clear()
        row = row_of(paul)
        assert not row.claimed_by and not row.opt_in, "setup: the throttled send given back"
    paul = PersonContact.objects.get(pk=paul.pk)
    paul.marketing_permission = False
    paul.first_name = "Paulus"
    paul.save()
    emulator.faults.hang(60, path_pattern="*/members/*", times=1, method="PUT")
    make_all_due()
    drain()
    emulator.release_hangs()
    wait_for(emulator, lambda: emulator.get_member(api_key, list_id, email)["merge_fields"].get("FNAME")
             == "Paulus", "the rename reaching Mailchimp")
    emulator.faults.clear()
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", "setup"
    send_due(rounds=3)
    assert not PersonContact.objects.get(pk=queenie.pk).marketing_permission
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == "subscribed", (
        "Queenie's own subscription (Mailchimp's form) at %s is %s: Paul's consent never reached Mailchimp (the send "
        "carrying it was throttled), yet his lost rename's retry withdrew it" % (email, member["status"]))
