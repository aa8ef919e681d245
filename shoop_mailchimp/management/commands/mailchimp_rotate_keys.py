from django.core.management.base import BaseCommand, CommandError

from shoop_mailchimp import encryption
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.models.configuration import APIKeyUndecryptable


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored Mailchimp API key with the first of SHOOP_MAILCHIMP['ENCRYPTION_KEYS'], "
        "so that the older entries can be removed."
    )

    def handle(self, *args, **options):
        rotated, unreadable = 0, []
        stored = MailchimpConfiguration.objects.exclude(encrypted_api_key="").values_list("pk", "shop_id",
                                                                                         "encrypted_api_key")
        for pk, shop_id, token in stored:
            try:
                new_token = encryption.reencrypt(token)
            except encryption.UndecryptableValue:
                unreadable.append(shop_id)
                continue
            # Only if nobody saved another key meanwhile.
            rotated += MailchimpConfiguration.objects.filter(pk=pk, encrypted_api_key=token).update(
                encrypted_api_key=new_token
            )
        self.stdout.write("%d stored API key(s) re-encrypted with the first ENCRYPTION_KEYS entry." % rotated)
        if unreadable:
            raise CommandError("Shop(s) %s: %s" % (", ".join(map(str, sorted(unreadable))), APIKeyUndecryptable()))
