import json

from django.core.management.base import BaseCommand, CommandError

from shoop_mailchimp.initialization import InitializationError, initialize
from shoop_mailchimp.initialize_preview import preview
from shoop_mailchimp.mailchimp.errors import MailchimpError
from shoop_mailchimp.mailchimp.transport import open_session
from shoop_mailchimp.models import MailchimpConfiguration


class Command(BaseCommand):
    help = ("Create the shop's Mailchimp eCommerce store and contact-group interests (safe to run again). "
            "--preview only prints what it (and the first sync of existing contacts) would do to the audience.")

    def add_arguments(self, parser):
        parser.add_argument("--shop", type=int, required=True, help="Shop id")
        parser.add_argument("--preview", action="store_true", help="Count what it would do; change nothing")

    def handle(self, *args, shop, preview=False, **options):
        configuration = MailchimpConfiguration.objects.filter(shop_id=shop).first()
        if configuration is None:
            raise CommandError("Shop %s has no Mailchimp configuration: set it on the shop's edit page." % shop)
        if preview:
            return self._preview(configuration)
        try:
            initialize(configuration)
        except InitializationError as error:
            raise CommandError(str(error))
        self.stdout.write(self.style.SUCCESS(
            "Shop %s initialized: store %s on audience %s" % (shop, configuration.store_id, configuration.list_id)
        ))

    def _preview(self, configuration):
        try:
            with open_session(configuration) as session:
                figures = preview(configuration, session)
        except MailchimpError as error:
            raise CommandError(str(error))
        self.stdout.write(json.dumps(figures, indent=2, sort_keys=True))
