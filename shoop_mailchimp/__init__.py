"""Keeps a Shuup shop's contacts, groups and orders in sync with Mailchimp."""
import shuup.apps

__version__ = "0.1.0"


class AppConfig(shuup.apps.AppConfig):
    name = "shoop_mailchimp"
    verbose_name = "Mailchimp"
    label = "shoop_mailchimp"
    provides = {}

    def ready(self):
        from shoop_mailchimp import checks, receivers  # noqa: F401  (registers checks)

        receivers.connect_receivers()


default_app_config = "shoop_mailchimp.AppConfig"
