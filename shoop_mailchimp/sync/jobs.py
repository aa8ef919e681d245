"""Work an admin asks for that talks to Mailchimp (initialize, check the account, sync existing contacts).

The admin's request only queues a :class:`~shoop_mailchimp.models.MailchimpJob`; the drainer runs
it, and the status page shows how it went.
"""
import logging
import threading
from datetime import timedelta

from django.db import DatabaseError, connections
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import ugettext as _
from django.utils.translation import ungettext

from shoop_mailchimp import disconnection, sites
from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.connected_site import follow_domain
from shoop_mailchimp.initialization import InitializationError, initialize
from shoop_mailchimp.initialize_preview import preview
from shoop_mailchimp.journal import Journal
from shoop_mailchimp.mailchimp import resources
from shoop_mailchimp.mailchimp.errors import InvalidAPIKey, MailchimpError, is_auth_problem, is_not_found, is_transient
from shoop_mailchimp.mailchimp.limits import throttle_shop
from shoop_mailchimp.mailchimp.transport import open_session
from shoop_mailchimp.merge_field_setup import create_merge_fields, read_merge_fields
from shoop_mailchimp.models import JobKind, JobStatus, MailchimpConfiguration, MailchimpJob
from shoop_mailchimp.reconciliation import reconcile, summary
from shoop_mailchimp.sync import bulk, kinds
from shoop_mailchimp.sync.backoff import retry_delay
from shoop_mailchimp.sync.outcome import Result, classify
from shoop_mailchimp.webhook_registration import move_webhook

logger = logging.getLogger(__name__)

#: A running job whose drainer died is taken up again after this many seconds: a job that runs renews its lease
#: while its worker lives (:class:`LeaseKeeper`), however long it runs.
JOB_LEASE_SECONDS = 600
#: A running job's lease is renewed each time this share of JOB_LEASE_SECONDS passed (as the drainer renews its
#: rows' leases, ``drainer.RENEW_LEASE_AFTER``): well before it could end.
RENEW_JOB_LEASE_AFTER = 1 / 3
#: Days an ended reconciliation is kept for the admin.
RECONCILE_KEEP_DAYS = 30


def request_job(shop_id, kind, user=None, **params):
    """Queue a job (in the caller's transaction); an identical job still waiting is reused."""
    job = MailchimpJob.objects.filter(shop_id=shop_id, kind=kind, status=JobStatus.QUEUED, params=params).first()
    if job is None:
        job = MailchimpJob.objects.create(shop_id=shop_id, kind=kind, params=params, requested_by=user)
    return job


def cancel_queued(shop_id, kinds, message):
    """End jobs of these kinds still waiting for the drainer, with ``message`` as their outcome (a disconnect
    supersedes an Initialize queued before it); returns how many."""
    return MailchimpJob.objects.filter(shop_id=shop_id, kind__in=kinds, status=JobStatus.QUEUED).update(
        status=JobStatus.FAILED, message=message, finished_on=timezone.now())


def open_jobs(shop_id):
    return MailchimpJob.objects.filter(shop_id=shop_id, status__in=JobStatus.OPEN)


def run_due_jobs(shop_id=None):
    """Run every queued job (and any whose drainer died); returns how many ran."""
    ran = 0
    while True:
        job = _claim(shop_id)
        if job is None:
            return ran
        ran += 1
        _run(job)


def run_job_now(job):
    """Run a queued job in this process (a management command), under the rule of :func:`_claim`: not while
    another job of its shop runs (it stays queued, and a drainer runs it after), nor when a drainer took it first.
    Returns the job as it ended, or None when it was not run here."""
    if job.status != JobStatus.QUEUED or not _shop_free(job.shop_id, timezone.now()) or not _take(
            job, timezone.now()):
        return None
    job.refresh_from_db()
    _run(job)
    job.refresh_from_db()
    return job


class LeaseKeeper:
    """Renews a running job's lease from a thread of its own while the job runs, every RENEW_JOB_LEASE_AFTER of
    JOB_LEASE_SECONDS: the jobs of its shop stay held however long one step of the job takes (a slow Mailchimp
    answer, a wait for a lock), and a job whose worker died (its process, and so this thread, gone) frees its shop
    when its lease ends. The thread touches the database only when a job runs that long (most end in a second).

    A thread rather than renewals between the job's steps, as the drainer renews its rows' leases between sends:
    a job's steps are spread over modules that know no job (Initialize, a reconciliation, a Disconnect), and one
    step may take longer than a lease. It renews only its own claim (the job still running, ``started_on`` as
    claimed): a job taken over by another drainer after a lapse is not held for that one."""

    def __init__(self, job):
        self.job_id, self.started_on = job.pk, job.started_on
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._keep, name="shoop-mailchimp-job-%s" % job.pk, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stopped.set()
        self._thread.join()

    def renew(self):
        """Extend the lease by JOB_LEASE_SECONDS from now; returns whether the job was still this claim's."""
        return bool(MailchimpJob.objects.filter(
            pk=self.job_id, status=JobStatus.RUNNING, started_on=self.started_on).update(
            lease_until=timezone.now() + timedelta(seconds=JOB_LEASE_SECONDS)))

    def _keep(self):
        try:
            while not self._stopped.wait(JOB_LEASE_SECONDS * RENEW_JOB_LEASE_AFTER):
                try:
                    if not self.renew():
                        return
                except DatabaseError:
                    logger.exception("The lease of Mailchimp job %s could not be renewed", self.job_id)
        finally:
            connections.close_all()  # this thread's own connections


def _run(job):
    try:
        refusal = site_refusal(job)
        if refusal:
            status, message = JobStatus.FAILED, refusal
        else:
            with LeaseKeeper(job):
                status, message = RUNNERS[job.kind](job)
    except Exception as error:
        logger.exception("Mailchimp job %s failed", job.pk)
        status, message = JobStatus.FAILED, _("An unexpected error stopped it: %(error)s") % {
            "error": "%s: %s" % (error.__class__.__name__, error)}
    MailchimpJob.objects.filter(pk=job.pk).update(status=status, message=message[:4000],
                                                  finished_on=timezone.now(), lease_until=None)


def _claim(shop_id):
    """The oldest job that may run now. The jobs of one shop run one at a time: none is claimed while another of its
    shop runs under a live lease (a Disconnect deleting the store must not interleave with an Initialize creating
    it); a running job renews its lease while its worker lives (:class:`LeaseKeeper`), and a dead drainer's job
    frees its shop when its lease ends."""
    now = timezone.now()
    busy = MailchimpJob.objects.filter(status=JobStatus.RUNNING, lease_until__gte=now).values("shop_id")
    candidates = MailchimpJob.objects.filter(
        Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, lease_until__lt=now)).exclude(shop_id__in=busy)
    if shop_id is not None:
        candidates = candidates.filter(shop_id=shop_id)
    for job in candidates.order_by("created_on", "id")[:5]:
        if _take(job, now):
            job.refresh_from_db()
            return job
    return None


def _shop_free(shop_id, now, but=None):
    """Whether no job of the shop (other than ``but``) runs under a live lease."""
    return not MailchimpJob.objects.filter(shop_id=shop_id, status=JobStatus.RUNNING, lease_until__gte=now).exclude(
        pk=but).exists()


def _take(job, now):
    """Claim ``job`` (queued, or running under a lapsed lease, as read) for this worker, unless another job of its
    shop runs; returns whether it did. One UPDATE decides who runs it, in any number of drainers; then two workers
    may have claimed two jobs of one shop at once (each read the shop free): one that finds another job of its shop
    running gives its own back. At least one of two such claims sees the other, so they never both run (both may
    give back, and the next round tries again)."""
    taken = MailchimpJob.objects.filter(pk=job.pk, status=job.status, lease_until=job.lease_until).update(
        status=JobStatus.RUNNING, started_on=now, lease_until=now + timedelta(seconds=JOB_LEASE_SECONDS))
    if not taken:
        return False
    if not _shop_free(job.shop_id, now, but=job.pk):
        MailchimpJob.objects.filter(pk=job.pk).update(
            status=job.status, started_on=job.started_on, lease_until=job.lease_until)
        return False
    return True


def _configuration(job):
    return MailchimpConfiguration.objects.filter(shop_id=job.shop_id).first()


def site_refusal(job):
    """Why a job may not run on this copy of the database (see :mod:`shoop_mailchimp.sites`), or "".

    Two run anyway: a disconnect (it stops sending here and asks Mailchimp for nothing) and an Initialize
    an admin requested on this very site (``params["site"]``), which makes this site the configuration's.
    """
    configuration = _configuration(job)
    mismatch = configuration.site_mismatch if configuration is not None else None
    if mismatch is None or job.kind == JobKind.DISCONNECT:
        return ""
    params = job.params or {}
    if job.kind == JobKind.INITIALIZE and not mismatch.unknown and sites.same_site(
            params.get("site"), mismatch.here) and (
            not mismatch.setting_missing or params.get("site_from_setting") is False):
        return ""  # (an Initialize queued where the setting named the site, copied here, is not of this site)
    return str(mismatch)


def _has_key_and_audience(configuration):
    return configuration is not None and configuration.has_api_key and bool(configuration.list_id)


def run_initialize(job):
    configuration = _configuration(job)
    if configuration is None:
        return JobStatus.FAILED, _("Save the Mailchimp API key and audience first.")
    reconnecting = configuration.disconnected_on is not None
    try:
        initialize(configuration, user=job.requested_by)
    except InitializationError as error:
        return JobStatus.FAILED, str(error)
    if reconnecting:
        # Unsubscribes made in Mailchimp while no webhook called the shop: read before anything is sent.
        request_job(job.shop_id, JobKind.RECONCILE, full=False)
        return JobStatus.DONE, _("Mailchimp is connected again: the store, the group interests and the webhook "
                                 "are set up, and what changed meanwhile is being sent.")
    return JobStatus.DONE, _("Mailchimp is initialized: the store, the group interests and the webhook are set up.")


def run_check_account(job):
    """The account check behind the shop form: is the key accepted, which audiences are there, is the
    chosen one among them, which merge fields it has. A working key and audience clear a pause they caused;
    a Mailchimp that could not answer (a timeout, a 5xx, a 429) says nothing about the account and pauses
    nothing."""
    configuration = _configuration(job)
    if configuration is None or not configuration.has_api_key:
        return JobStatus.DONE, _("No API key is stored.")
    audiences, problem, unanswered = None, "", False
    try:
        with open_session(configuration) as session:
            resources.ping(session)
            audiences = resources.list_audiences(session)
            if configuration.list_id and configuration.list_id not in {list_id for list_id, _name in audiences}:
                try:
                    resources.get_list(session, configuration.list_id)
                except MailchimpError as error:
                    if not is_not_found(error):
                        raise
                    problem = _("The audience %(list)s does not exist in this Mailchimp account.") % {
                        "list": configuration.list_id}
            if configuration.list_id and not problem:
                read_merge_fields(configuration, session)
    except MailchimpError as error:
        if is_auth_problem(error):
            problem = _key_problem(error)
        else:
            problem = _("Could not check the key with Mailchimp: %(error)s") % {"error": error}
            unanswered = is_transient(error)
            _honour_throttle(configuration, error)
    changes = dict(account_checked_on=timezone.now(), account_problem=problem)
    if audiences is not None:
        changes["audiences"] = [list(pair) for pair in audiences]
    if problem and not unanswered and configuration.enabled and configuration.is_initialized:
        # The same finding the drainer would make on its next send: say it now.
        changes["paused_reason"] = problem
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(**changes)
    if problem:
        return JobStatus.FAILED, problem
    return JobStatus.DONE, _("The API key works; the audience is there.")


def run_sync_existing(job):
    include_orders = bool((job.params or {}).get("orders"))
    try:
        rows, batches = bulk.start(job.shop_id, include_orders=include_orders)
    except bulk.BulkSyncError as error:
        return JobStatus.FAILED, str(error)
    promo_count = bulk.start_apart(job.shop_id)
    promos = (" " + ungettext("%(count)d coupon campaign queued as a promo code.",
                              "%(count)d coupon campaigns queued as promo codes.", promo_count) % {
        "count": promo_count}) if promo_count else ""
    if not rows:
        return JobStatus.DONE, (_("Every contact, product and order had already been sent.") if include_orders
                                else _("Every contact and product had already been sent.")) + promos
    return JobStatus.DONE, "%s %s" % (
        ungettext("%(count)d item queued for Mailchimp", "%(count)d items queued for Mailchimp", rows) % {
            "count": rows},
        ungettext("in %(batches)d batch.", "in %(batches)d batches.", batches) % {"batches": batches}) + promos


def run_move_webhook(job):
    configuration = _configuration(job)
    if configuration is None or not configuration.is_initialized or configuration.disconnected_on:
        return JobStatus.DONE, _("Mailchimp is not connected: the new webhook URL is registered by Initialize.")
    journal = Journal(job.shop_id, user=job.requested_by)
    try:
        webhook_id = move_webhook(configuration, (job.params or {}).get("old_webhook_id", ""), journal)
    except InvalidAPIKey as error:  # malformed, or unreadable with the configured ENCRYPTION_KEYS
        journal.error("webhook.register", error)
        webhook_id = None
    finally:
        journal.flush()
    if webhook_id is None:
        return JobStatus.FAILED, _("Mailchimp was not told the new webhook URL: see the log, or enter the URL "
                                   "shown on this page in Mailchimp.")
    return JobStatus.DONE, _("Mailchimp calls the webhook's new URL.")


def run_disconnect(job):
    """Delete the webhook (and, when confirmed, the store) in Mailchimp; sending stopped when it was asked."""
    configuration = _configuration(job)
    if configuration is None or configuration.disconnected_on is None:
        return JobStatus.DONE, _("The shop was connected again meanwhile: nothing was deleted in Mailchimp.")
    succeeded, message = disconnection.run(configuration, bool((job.params or {}).get("delete_store")),
                                           user=job.requested_by)
    return (JobStatus.DONE if succeeded else JobStatus.FAILED), message


def run_create_merge_fields(job):
    """Create the merge fields the admin asked for (``params["fields"]``: shop fields) and map them."""
    configuration = _configuration(job)
    if not _has_key_and_audience(configuration):
        return JobStatus.FAILED, _("Save the Mailchimp API key and audience first.")
    if configuration.disconnected_on:
        # A disconnected shop writes nothing to Mailchimp (a job queued before the disconnect included).
        return JobStatus.FAILED, _("The shop is disconnected from Mailchimp: no merge field was created. Create "
                                   "them once Initialize has connected the shop again.")
    try:
        with open_session(configuration) as session:
            created, refusals = create_merge_fields(configuration, session, (job.params or {}).get("fields") or [])
    except MailchimpError as error:
        return JobStatus.FAILED, _audience_read_failure(configuration, error)
    if refusals:
        return JobStatus.FAILED, _("Mailchimp refused some merge fields: %(refusals)s") % {
            "refusals": "; ".join(refusals)}
    if not created:
        return JobStatus.DONE, _("The audience already had these merge fields: they are mapped.")
    return JobStatus.DONE, _("Created the merge fields %(tags)s in the audience; members are sent again with "
                             "them.") % {"tags": ", ".join(created)}


def run_follow_domain(job):
    """The shop's domain changed: the store's domain and the connected site follow it (see
    :func:`shoop_mailchimp.connected_site.follow_domain`)."""
    configuration = _configuration(job)
    if configuration is None or not configuration.is_initialized or configuration.disconnected_on:
        return JobStatus.DONE, _("Mailchimp is not connected: Initialize links the store and its site to the "
                                 "shop's domain.")
    journal = Journal(job.shop_id, user=job.requested_by)
    try:
        with open_session(configuration) as session:
            url = follow_domain(session, configuration, journal)
    except MailchimpError as error:
        journal.error("site.link", error)
        _honour_throttle(configuration, error)
        return JobStatus.FAILED, _("Mailchimp was not told the shop's new domain (tried again by itself after a "
                                 "while): %(error)s") % {
            "error": error}
    finally:
        journal.flush()
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(site_script_url=url)
    # What Mailchimp holds with the shop's address in it is sent again, as each kind declares.
    kinds.follow_domain(configuration.shop_id)
    return JobStatus.DONE, _("The store and its connected site follow the shop's domain.")


def _honour_throttle(configuration, error):
    """A 429 throttles the shop, as it does in the drainer (the same classification): the next rounds leave
    Mailchimp alone meanwhile."""
    outcome = classify(error)
    if outcome.result == Result.THROTTLED:
        throttle_shop(configuration.shop_id, outcome.delay)


def _key_problem(error):
    """What an auth problem (:func:`~shoop_mailchimp.mailchimp.errors.is_auth_problem`) says to the shop owner: the
    key Mailchimp refused, or a stored key that cannot be one (or that no ENCRYPTION_KEYS reads: nothing was sent)."""
    if error.status:
        return _("Mailchimp refused the API key: %(error)s") % {"error": error.detail}
    return _("The stored API key cannot be used (nothing was sent to Mailchimp): %(error)s") % {"error": error.detail}


def _audience_read_failure(configuration, error):
    """Why reading the audience failed, in the shop owner's words."""
    _honour_throttle(configuration, error)
    if is_not_found(error):
        return _("The audience %(list)s does not exist in this Mailchimp account.") % {"list": configuration.list_id}
    if is_auth_problem(error):
        return _key_problem(error)
    return _("Could not read the audience from Mailchimp (try again later): %(error)s") % {"error": error}


def run_reconcile(job):
    """Read members Mailchimp changed (``full``: all of them) and apply what the shop missed, then the audience's
    merge fields again (once they were read); the report goes to ``job.result`` page by page, so the status page
    shows progress."""
    configuration = _configuration(job)
    if configuration is None or not configuration.is_active:
        return JobStatus.DONE, _("Sending to Mailchimp is not active for this shop: nothing to reconcile.")
    # Coupon campaigns that ended since they were sent go out disabled (no save happens when one ends).
    kinds.record_ended(job.shop_id)

    def progress(report):
        MailchimpJob.objects.filter(pk=job.pk).update(result=report)

    try:
        with open_session(configuration) as session:
            report = reconcile(configuration, session, full=bool((job.params or {}).get("full")), progress=progress)
            if configuration.audience_merge_fields is not None:
                # The audience's merge fields as they are now (one request; after the members, whose contacts it
                # may queue again): a mapped field a marketer renamed is followed by its merge id, one deleted and
                # made again (its values gone) has its members written again.
                read_merge_fields(configuration, session)
    except MailchimpError as error:
        return JobStatus.FAILED, _audience_read_failure(configuration, error)
    MailchimpJob.objects.filter(pk=job.pk).update(result=report)
    return JobStatus.DONE, summary(report)


def run_preview_initialize(job):
    """Count what Initialize and the first sync would do to the audience (see initialize_preview)."""
    configuration = _configuration(job)
    if not _has_key_and_audience(configuration):
        return JobStatus.FAILED, _("Save the Mailchimp API key and audience first.")
    try:
        with open_session(configuration) as session:
            figures = preview(configuration, session)
    except MailchimpError as error:
        return JobStatus.FAILED, _audience_read_failure(configuration, error)
    MailchimpJob.objects.filter(pk=job.pk).update(result=figures)
    return JobStatus.DONE, _("Counted what Initialize will do to the audience %(name)s: confirm it on the shop's "
                             "Mailchimp settings.") % {"name": figures["audience_name"] or configuration.list_id}


def schedule_reconciliations(shop_id=None):
    """Queue an incremental reconciliation for each active shop whose last one is RECONCILE_INTERVAL old.

    One that failed (Mailchimp down, the audience gone) is tried again an interval later, not every round.
    """
    interval = get_setting("RECONCILE_INTERVAL")
    if not interval:
        return
    cutoff = timezone.now() - timedelta(seconds=interval)
    due = MailchimpConfiguration.objects.active().filter(
        Q(reconciled_until__lt=cutoff) | Q(reconciled_until__isnull=True))
    if shop_id is not None:
        due = due.filter(shop_id=shop_id)
    due_shop_ids = set(due.values_list("shop_id", flat=True))
    if not due_shop_ids:
        return  # most rounds: one query
    recent = set(MailchimpJob.objects.filter(kind=JobKind.RECONCILE, shop_id__in=due_shop_ids).filter(
        Q(created_on__gte=cutoff) | Q(status__in=JobStatus.OPEN)).values_list("shop_id", flat=True))
    for due_shop_id in due_shop_ids - recent:
        prune_reconciliations(due_shop_id)
        request_job(due_shop_id, JobKind.RECONCILE, full=False)


def schedule_domain_retries(shop_id=None, now=None):
    """Queue again the FOLLOW_DOMAIN job of each connected shop whose last one failed (Mailchimp down, the new
    site's create refused: the store or the connected site still names the old domain, or the shop has no site),
    after the rows' retry backoff for that many failures in a row, at most MAX_ATTEMPTS times in a row. Most
    rounds: one query (no failure in the last MAX_ATTEMPTS × RETRY_MAX_DELAY)."""
    now = now or timezone.now()
    attempts = get_setting("MAX_ATTEMPTS")
    recent = MailchimpJob.objects.filter(kind=JobKind.FOLLOW_DOMAIN, status=JobStatus.FAILED, finished_on__gte=(
        now - timedelta(seconds=get_setting("RETRY_MAX_DELAY") * attempts)))
    if shop_id is not None:
        recent = recent.filter(shop_id=shop_id)
    failed_shop_ids = set(recent.values_list("shop_id", flat=True))
    if not failed_shop_ids:
        return
    connected = set(MailchimpConfiguration.objects.active().filter(
        shop_id__in=failed_shop_ids, initialized_on__isnull=False).values_list("shop_id", flat=True))
    for failed_shop_id in connected:
        jobs = list(MailchimpJob.objects.filter(shop_id=failed_shop_id, kind=JobKind.FOLLOW_DOMAIN).order_by(
            "-created_on", "-id").values_list("status", "finished_on")[:attempts])
        failures = 0
        for status, _finished_on in jobs:
            if status != JobStatus.FAILED:
                break
            failures += 1
        if not failures or failures >= attempts:
            continue  # the last one did not fail (or one is queued), or it failed too often: the admin's turn
        if jobs[0][1] + timedelta(seconds=retry_delay(failures)) <= now:
            request_job(failed_shop_id, JobKind.FOLLOW_DOMAIN)


def prune_reconciliations(shop_id):
    """Reconciliations ended RECONCILE_KEEP_DAYS ago are deleted (one an hour adds up), except the newest
    full one: the drift report counts the members the shop does not know from it. Their log entries stay."""
    ended = MailchimpJob.objects.filter(shop_id=shop_id, kind=JobKind.RECONCILE, status__in=(
        JobStatus.DONE, JobStatus.FAILED))
    newest_full = ended.filter(status=JobStatus.DONE, params={"full": True}).values_list("pk", flat=True).first()
    ended.filter(finished_on__lt=timezone.now() - timedelta(days=RECONCILE_KEEP_DAYS)).exclude(
        pk=newest_full).delete()


RUNNERS = {
    JobKind.INITIALIZE: run_initialize,
    JobKind.CHECK_ACCOUNT: run_check_account,
    JobKind.SYNC_EXISTING: run_sync_existing,
    JobKind.MOVE_WEBHOOK: run_move_webhook,
    JobKind.RECONCILE: run_reconcile,
    JobKind.PREVIEW_INITIALIZE: run_preview_initialize,
    JobKind.DISCONNECT: run_disconnect,
    JobKind.CREATE_MERGE_FIELDS: run_create_merge_fields,
    JobKind.FOLLOW_DOMAIN: run_follow_domain,
}
