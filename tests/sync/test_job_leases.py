"""The jobs of one shop run one at a time (``sync.jobs``), however long a job runs: a running job renews its lease
while its worker lives, and a job whose worker died frees its shop when its lease ends (review of issue 19: a job
that ran longer than its 10 minutes' lease let a second job of its shop start)."""
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from shoop_mailchimp.models import JobKind, JobStatus, MailchimpJob
from shoop_mailchimp.sync import jobs
from shoop_mailchimp.sync.jobs import request_job, run_due_jobs

pytestmark = pytest.mark.django_db(transaction=True)  # the lease is renewed from a thread of its own

#: A lease whose renewals (every third of it) come within a test's time (10 minutes in production).
LEASE = 0.6


class MovedClock:
    """``sync.jobs``' clock (its ``timezone``), which a test moves forward: a Mailchimp slower than a job's lease, or
    a lease running out, without waiting for it."""

    def __init__(self):
        self.offset = timedelta(0)

    def now(self):
        return timezone.now() + self.offset

    def move(self, seconds):
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    clock = MovedClock()
    monkeypatch.setattr(jobs, "timezone", clock)
    return clock


def test_a_job_running_longer_than_its_lease_still_holds_its_shop(monkeypatch, configuration, clock):
    """The account check waits for Mailchimp longer than its lease; meanwhile another drainer's round finds the
    preview the admin asked for: it leaves it queued (the check renewed its lease), and runs it once the check
    ended."""
    monkeypatch.setattr(jobs, "JOB_LEASE_SECONDS", LEASE)
    original_ping, original_renew = jobs.resources.ping, jobs.LeaseKeeper.renew
    pings, inner, renewed = [], [], []
    renewal = threading.Event()  # a renewal that read the moved clock

    def renew_and_tell(keeper):
        moved = bool(clock.offset)  # read before the renewal reads the clock
        still_ours = original_renew(keeper)
        if moved:
            renewal.set()
        return still_ours

    def slow_ping(session):
        answer = original_ping(session)
        pings.append(session)
        if len(pings) == 1:
            clock.move(3 * LEASE)  # Mailchimp took three leases to answer, its keeper renewing it meanwhile
            assert renewal.wait(30), "the running job's lease was never renewed"
            request_job(configuration.shop_id, JobKind.PREVIEW_INITIALIZE)
            inner.append(run_due_jobs(configuration.shop_id))  # another drainer
            renewed.append(MailchimpJob.objects.get(kind=JobKind.CHECK_ACCOUNT).lease_until > clock.now())
        return answer

    monkeypatch.setattr(jobs.resources, "ping", slow_ping)
    monkeypatch.setattr(jobs.LeaseKeeper, "renew", renew_and_tell)
    request_job(configuration.shop_id, JobKind.CHECK_ACCOUNT)
    ran = run_due_jobs(configuration.shop_id)
    assert inner == [0], "a second job of the shop ran while the first one ran past its lease"
    assert len(pings) == 1, "the running check was taken over"
    assert renewed == [True] and ran == 2
    check, preview = (MailchimpJob.objects.get(kind=kind) for kind in (JobKind.CHECK_ACCOUNT,
                                                                          JobKind.PREVIEW_INITIALIZE))
    assert check.status == JobStatus.DONE and preview.status == JobStatus.DONE, (check.message, preview.message)
    assert preview.started_on >= check.finished_on
    assert check.lease_until is None and preview.lease_until is None
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("shoop-mailchimp-job-")]


def test_a_job_whose_worker_died_is_taken_over_when_its_lease_ends(configuration, clock):
    """A worker claimed the account check and died (nothing renews its lease): the check holds the shop until its
    lease ends, then another drainer runs it, and the preview after it."""
    check = request_job(configuration.shop_id, JobKind.CHECK_ACCOUNT)
    request_job(configuration.shop_id, JobKind.PREVIEW_INITIALIZE)
    claimed = jobs._claim(configuration.shop_id)  # the worker that dies before it runs it
    assert claimed.pk == check.pk and claimed.status == JobStatus.RUNNING
    assert run_due_jobs(configuration.shop_id) == 0, "the shop is held while the lease lasts"
    clock.move(jobs.JOB_LEASE_SECONDS - 1)
    assert run_due_jobs(configuration.shop_id) == 0, "the shop is held until the lease's last second"
    clock.move(2)
    assert run_due_jobs(configuration.shop_id) == 2
    assert set(MailchimpJob.objects.values_list("status", flat=True)) == {JobStatus.DONE}
