from django.core.management.base import BaseCommand, CommandError

from shoop_mailchimp.initialization import InitializationError, initialize
from shoop_mailchimp.models import MailchimpConfiguration


class Command(BaseCommand):
    help = "Create the shop's Mailchimp eCommerce store and contact-group interests (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--shop", type=int, required=True, help="Shop id")

    def handle(self, *args, shop, **options):
        configuration = MailchimpConfiguration.objects.filter(shop_id=shop).first()
        if configuration is None:
            raise CommandError("Shop %s has no Mailchimp configuration: set it on the shop's edit page." % shop)
        try:
            initialize(configuration)
        except InitializationError as error:
            raise CommandError(str(error))
        self.stdout.write(self.style.SUCCESS(
            "Shop %s initialized: store %s on audience %s" % (shop, configuration.store_id, configuration.list_id)
        ))
