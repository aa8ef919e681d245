"""Keeps a Shuup shop's contacts, groups and orders in sync with Mailchimp."""
import shuup.apps

__version__ = "0.1.0"


class AppConfig(shuup.apps.AppConfig):
    name = "shoop_mailchimp"
    verbose_name = "Mailchimp"
    label = "shoop_mailchimp"
    provides = {
        "front_urls": ["shoop_mailchimp.urls:urlpatterns"],
        "admin_module": ["shoop_mailchimp.admin_module:MailchimpModule"],
        "admin_shop_form_part": ["shoop_mailchimp.admin_module.form_parts:MailchimpFormPart"],
        "admin_shop_edit_toolbar_button": ["shoop_mailchimp.admin_module.toolbar:InitializeMailchimpButton"],
        "admin_contact_toolbar_action_item": ["shoop_mailchimp.admin_module.toolbar:SyncContactAction"],
        "admin_contact_section": ["shoop_mailchimp.admin_module.sections:MailchimpContactSection"],
    }

    def ready(self):
        from shoop_mailchimp import checks, log_filters, receivers  # noqa: F401  (registers checks)

        receivers.connect_receivers()
        log_filters.install()


default_app_config = "shoop_mailchimp.AppConfig"
