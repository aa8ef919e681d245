"""A write whose answer never came may have changed Mailchimp: its row's retry is recovered, as a dead worker's. A
request that never went out (Mailchimp down: connection refused) changed nothing, and its row is an ordinary retry."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.drainer import drain
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
