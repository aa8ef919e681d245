"""A write whose answer never came may have changed Mailchimp: its row's retry is recovered, as a dead worker's. A
request that never went out (Mailchimp down: connection refused) changed nothing, and its row is an ordinary retry."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.outcome import Outcome, Result
from tests.helpers import make_all_due, row_of

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("fault", ["read-timeout", "connection-refused", "read-timeout-on-a-read"])
def test_only_a_write_that_went_out_unanswered_leaves_its_row_recovered(
        shop, configuration, mailchimp_account, settings, fault):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    email = "una.%s@fastmail.com" % fault
    una = PersonContact.objects.create(first_name="Una", email=email, marketing_permission=True)
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    una.last_name = "Renamed"
    una.save()
    if fault == "read-timeout":
        emulator.faults.hang(60, path_pattern="*/members/*", times=1, method="PUT")
    elif fault == "read-timeout-on-a-read":
        una.email = "una.moved@fastmail.com"  # a move reads the member first: that GET is held
        una.save()
        emulator.faults.hang(60, path_pattern="*/members/*", times=1, method="GET")
    else:
        emulator.faults.down()
    make_all_due()
    drain()
    emulator.release_hangs()
    if fault == "connection-refused":
        emulator.faults.up()
    emulator.faults.clear()
    row = row_of(una)
    assert row.status == SyncStatus.PENDING and row.last_error
    make_all_due()
    claimed = {claimed_row.object_id: claimed_row for claimed_row in state.claim()}
    assert claimed[una.pk].recovered is (fault == "read-timeout"), row.last_error


def claimed_with_a_consent_noted(person):
    """The person's row as a worker claims it and notes, before sending, the consent its send asks."""
    make_all_due()
    [row] = [row for row in state.claim() if row.object_id == person.pk]
    state.note_before_sending(row, {"consent_unanswered": "subscribed"})
    return row


def test_a_row_given_back_untried_forgets_its_notes_a_recovered_one_keeps_them(configuration):
    """``state.release``: a send given back untried (a 429, a stop) wrote nothing, and its note would make a later
    lost attempt look like one that carried a consent (review aud43 F3); a lost attempt's row keeps what it noted."""
    una = PersonContact.objects.create(first_name="Una", email="una.release@fastmail.com", marketing_permission=True)
    state.release([claimed_with_a_consent_noted(una)])
    assert (row_of(una).consent_unanswered, row_of(una).claimed_by) == ("", "")
    claimed_with_a_consent_noted(una)  # ... and its worker dies
    make_all_due()
    [recovered] = [row for row in state.claim() if row.object_id == una.pk]
    assert recovered.recovered
    state.release([recovered])
    assert row_of(una).consent_unanswered == "subscribed" and row_of(una).claimed_by


def test_a_lost_attempts_row_that_gives_up_stays_recovered_through_the_admins_resend(configuration):
    """A recovered row closed failed without learning its member keeps a token and its note (review aud43 F4): the
    admin's resend sends it as the lost attempt's retry, which re-sends the withdrawal that attempt may have needed.
    An ordinary row's failure drops both."""
    una = PersonContact.objects.create(first_name="Una", email="una.givesup@fastmail.com", marketing_permission=True)
    claimed_with_a_consent_noted(una)  # its worker dies
    make_all_due()
    [recovered] = [row for row in state.claim() if row.object_id == una.pk]
    assert state.close(recovered, Outcome(Result.FAILED, "refused")) == SyncStatus.FAILED
    row = row_of(una)
    assert row.status == SyncStatus.FAILED and row.claimed_by and row.consent_unanswered == "subscribed"
    state.resend_failed(row.shop_id)
    [retried] = [row for row in state.claim() if row.object_id == una.pk]
    assert retried.recovered
    assert state.close(retried, Outcome(Result.FAILED, "refused again", facts={"member_status": "subscribed"}))
    row = row_of(una)
    assert (row.status, row.claimed_by, row.consent_unanswered) == (SyncStatus.FAILED, "", "")
