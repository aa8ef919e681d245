"""A batch's rows are counted and logged by the drainer's rule (``drainer.report_close``)."""
import pytest

from shoop_mailchimp.models import LogKind, MailchimpLogEntry, SyncState, SyncStatus
from shoop_mailchimp.sync import bulk

pytestmark = [pytest.mark.django_db]


@pytest.mark.parametrize("max_attempts, status, word, kind", [
    (8, SyncStatus.PENDING, "retried", LogKind.WARNING),
    (1, SyncStatus.FAILED, "failed", LogKind.ERROR),
])
def test_a_batch_row_whose_retry_gave_up_counts_as_failed(settings, configuration, mailchimp_account, make_existing,
                                                          max_attempts, status, word, kind):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, MAX_ATTEMPTS=max_attempts)
    emulator, _api_key, _list_id = mailchimp_account
    people = make_existing(2)
    emulator.faults.fail_email(people[0].email, status=503, title="Service Unavailable")
    report = bulk.sync_existing(configuration.shop_id, poll_interval=0.05, timeout=30)
    assert SyncState.objects.get(kind="contact", object_id=people[0].pk).status == status
    assert report["contact %s" % word] == 1 and report["contact synced"] == 1
    assert "contact retry" not in report
    [entry] = MailchimpLogEntry.objects.filter(action="contact.sync", contact_id=people[0].pk)
    assert entry.kind == kind
    assert entry.message.endswith("(tried again by itself)") == (word == "retried")
