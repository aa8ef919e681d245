import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from shoop_mailchimp.sync.worker import drain


class Command(BaseCommand):
    help = "Deliver recorded changes to Mailchimp: once, or continuously with --loop (a worker)."

    def add_arguments(self, parser):
        parser.add_argument("--shop", type=int, help="Only this shop's queue")
        parser.add_argument("--loop", action="store_true", help="Keep draining until interrupted")
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between rounds with --loop")

    def handle(self, *args, shop=None, loop=False, interval=5.0, **options):
        while True:
            report = drain(shop_id=shop)
            if report or not loop:
                self.stdout.write(self._describe(report))
            if not loop:
                return
            close_old_connections()
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                return

    @staticmethod
    def _describe(report):
        if not report:
            return "Nothing to deliver."
        return ", ".join("%s: %d" % (outcome, count) for outcome, count in sorted(report.items()))
