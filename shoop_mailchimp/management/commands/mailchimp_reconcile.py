from django.core.management.base import BaseCommand, CommandError

from shoop_mailchimp.models import JobKind, JobStatus, MailchimpConfiguration, MailchimpJob
from shoop_mailchimp.sync.jobs import request_job, run_job_now


class Command(BaseCommand):
    help = (
        "Reconcile each active shop with its Mailchimp audience now: read the members Mailchimp changed since "
        "the last reconciliation (--full: every member) and apply the unsubscribes, bounces and e-mail changes "
        "the shop missed. Nothing is ever subscribed. The drainer also does this every RECONCILE_INTERVAL."
    )

    def add_arguments(self, parser):
        parser.add_argument("--shop", type=int, help="Only this shop")
        parser.add_argument("--full", action="store_true",
                            help="Read the whole audience; also finds members gone from it and re-sends them")

    def handle(self, *args, shop=None, full=False, **options):
        configurations = MailchimpConfiguration.objects.active()
        if shop is not None:
            configurations = configurations.filter(shop_id=shop)
            if not configurations.exists():
                raise CommandError("Shop %s has no active Mailchimp configuration (enabled, initialized, not "
                                   "paused)." % shop)
        failed = 0
        shop_ids = list(configurations.values_list("shop_id", flat=True))
        if not shop_ids:
            self.stderr.write("No shop has an active Mailchimp configuration (enabled, initialized, not paused): "
                              "nothing was reconciled.")
        for shop_id in shop_ids:
            queued = request_job(shop_id, JobKind.RECONCILE, full=full)
            job = run_job_now(queued)
            if job is None:
                if MailchimpJob.objects.filter(pk=queued.pk, status=JobStatus.QUEUED).exists():
                    self.stdout.write("Shop %s: another Mailchimp job of this shop is running; the drainer runs "
                                      "this reconciliation after it." % shop_id)
                else:
                    self.stdout.write("Shop %s: a drainer is already running this reconciliation." % shop_id)
                continue
            failed += job.status == JobStatus.FAILED
            self.stdout.write("Shop %s: %s" % (shop_id, job.message))
        if failed:
            raise CommandError("%d reconciliation(s) failed; see the messages above." % failed)
