import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections
from shuup.core.models import Shop

from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.rounds import run_due_work, seconds_to_next_round


class Command(BaseCommand):
    #: Seconds between rounds with --loop when nothing is open (``--interval``).
    DEFAULT_INTERVAL = 5.0

    help = (
        "Deliver recorded changes to Mailchimp and run queued admin jobs: once, or continuously with --loop "
        "(the drainer of DELIVERY='worker'). --existing sends the contacts (and with --orders the orders) the "
        "sync has never seen through Mailchimp batches, and finishes batches a previous run left open."
    )

    def add_arguments(self, parser):
        parser.add_argument("--shop", type=int, help="Only this shop's queue")
        parser.add_argument("--loop", action="store_true", help="Keep draining until interrupted")
        parser.add_argument("--interval", type=float, default=self.DEFAULT_INTERVAL,
                            help="Seconds between rounds with --loop (at most BATCH_POLL_INTERVAL while batches "
                                 "are open)")
        parser.add_argument("--existing", action="store_true",
                            help="Bulk sync the never-synced contacts of --shop through Mailchimp batches")
        parser.add_argument("--orders", action="store_true", help="With --existing: the shop's orders too")
        parser.add_argument("--poll-interval", type=float, default=None,
                            help="With --existing: seconds between looks at submitted batches")

    def handle(self, *args, shop=None, loop=False, interval=DEFAULT_INTERVAL, existing=False, orders=False,
               poll_interval=None, **options):
        if existing:
            return self._sync_existing(shop, orders, poll_interval)
        if orders:
            raise CommandError("--orders only goes with --existing")
        while True:
            try:
                report = run_due_work(shop_id=shop)
            except Exception as error:
                if not loop:
                    raise
                # A database or Redis outage: the claimed rows keep their lease and are sent again once
                # it expires; the worker keeps going.
                kind = "Database" if isinstance(error, DatabaseError) else "Unexpected"
                self.stderr.write("%s error in a delivery round (%s: %s); trying again." % (
                    kind, error.__class__.__name__, error))
                report = None
            if report or not loop:
                self.stdout.write(self._describe(report))
            if not loop:
                return
            close_old_connections()
            try:
                time.sleep(self.next_round_in(interval, shop))
            except KeyboardInterrupt:
                return

    @staticmethod
    def next_round_in(interval=DEFAULT_INTERVAL, shop_id=None):
        """Seconds until the next round of ``--loop``: ``interval``, or less while the shop's batches are open,
        as the background drainer wakes (:func:`rounds.seconds_to_next_round`)."""
        try:
            return seconds_to_next_round(interval, shop_id)
        except DatabaseError:  # the database is down: the next round says so
            return interval

    def _sync_existing(self, shop_id, orders, poll_interval):
        if shop_id is None:
            raise CommandError("--existing needs --shop ID")
        if not Shop.objects.filter(pk=shop_id).exists():
            raise CommandError("No shop with id %s" % shop_id)

        def progress(event, batch):
            if event == "recorded":
                self.stdout.write("Recorded %d %ss for a batch" % (batch.rows, batch.kind))
            elif event == "submitted":
                self.stdout.write("Submitted batch %s: %d operations" % (batch.batch_id or "-", batch.operations))
            elif event == "done":
                self.stdout.write("Batch %s finished: %d operations, %d errored" % (
                    batch.batch_id, batch.operations, batch.errored_operations))

        try:
            report = bulk.sync_existing(shop_id, include_orders=orders, poll_interval=poll_interval,
                                        progress=progress)
        except bulk.BulkSyncError as error:
            raise CommandError(str(error))
        self.stdout.write(self._describe(report))

    @staticmethod
    def _describe(report):
        if not report:
            return "Nothing to deliver."
        return ", ".join("%s: %d" % (outcome, count) for outcome, count in sorted(report.items()))
