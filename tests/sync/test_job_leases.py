"""The jobs of one shop run one at a time (``sync.jobs``), however long a job runs: a running job renews its lease
while its worker lives, and a job whose worker died frees its shop when its lease ends (review of issue 19: a job
that ran longer than its 10 minutes' lease let a second job of its shop start)."""
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from shoop_mailchimp.models import JobKind, JobStatus, MailchimpJob
from shoop_mailchimp.sync import jobs
from shoop_mailchimp.sync.jobs import request_job, run_due_jobs

pytestmark = pytest.mark.django_db(transaction=True)  # the lease is renewed from a thread of its own

#: A lease short enough to lapse in a test (10 minutes in production).
LEASE = 0.6


def wait_until(moment, timeout=30):
    """Wait (in this thread) until the clock passes ``moment``: a Mailchimp slower than the job's lease."""
    deadline = time.monotonic() + timeout
    while timezone.now() <= moment:
        assert time.monotonic() < deadline, "the clock never passed %s" % moment
        time.sleep(0.05)


def test_a_job_running_longer_than_its_lease_still_holds_its_shop(monkeypatch, configuration):
    """The account check waits for Mailchimp longer than its lease; meanwhile another drainer's round finds the
    preview the admin asked for: it leaves it queued (the check renewed its lease), and runs it once the check
    ended."""
    monkeypatch.setattr(jobs, "JOB_LEASE_SECONDS", LEASE)
    original = jobs.resources.ping
    pings, inner, renewed = [], [], []

    def slow_ping(session):
        answer = original(session)
        pings.append(session)
        if len(pings) == 1:
            claimed = MailchimpJob.objects.get(kind=JobKind.CHECK_ACCOUNT)
            wait_until(claimed.started_on + timedelta(seconds=3 * LEASE))
            request_job(configuration.shop_id, JobKind.PREVIEW_INITIALIZE)
            inner.append(run_due_jobs(configuration.shop_id))  # another drainer
            renewed.append(MailchimpJob.objects.get(kind=JobKind.CHECK_ACCOUNT).lease_until > timezone.now())
        return answer

    monkeypatch.setattr(jobs.resources, "ping", slow_ping)
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


def test_a_job_whose_worker_died_is_taken_over_when_its_lease_ends(monkeypatch, configuration):
    """A worker claimed the account check and died (nothing renews its lease): the check holds the shop until its
    lease ends, then another drainer runs it, and the preview after it."""
    monkeypatch.setattr(jobs, "JOB_LEASE_SECONDS", LEASE)
    check = request_job(configuration.shop_id, JobKind.CHECK_ACCOUNT)
    request_job(configuration.shop_id, JobKind.PREVIEW_INITIALIZE)
    claimed = jobs._claim(configuration.shop_id)  # the worker that dies before it runs it
    assert claimed.pk == check.pk and claimed.status == JobStatus.RUNNING
    assert run_due_jobs(configuration.shop_id) == 0, "the shop is held while the lease lasts"
    wait_until(claimed.lease_until)
    assert run_due_jobs(configuration.shop_id) == 2
    assert set(MailchimpJob.objects.values_list("status", flat=True)) == {JobStatus.DONE}
