"""Keeps a Shuup shop's contacts, groups and orders in sync with Mailchimp."""
import shuup.apps

__version__ = "0.1.0"

BACKGROUND_DRAINER_UID = "shoop_mailchimp.background_drainer"


class AppConfig(shuup.apps.AppConfig):
    name = "shoop_mailchimp"
    verbose_name = "Mailchimp"
    label = "shoop_mailchimp"
    provides = {
        "front_urls": ["shoop_mailchimp.urls:urlpatterns", "shoop_mailchimp.storefront.urls:urlpatterns"],
        "xtheme_plugin": ["shoop_mailchimp.storefront.plugins:NewsletterPlugin"],
        "xtheme_resource_injection": ["shoop_mailchimp.storefront.site_script:add_site_script"],
        "front_registration_field_provider": ["shoop_mailchimp.storefront.registration:NewsletterFieldProvider"],
        "front_company_registration_form_provider": [
            "shoop_mailchimp.storefront.registration:CompanyNewsletterFormProvider"],
        "customer_dashboard_items": ["shoop_mailchimp.storefront.dashboard_items:NewsletterDashboardItem"],
        "admin_module": ["shoop_mailchimp.admin_module:MailchimpModule"],
        "admin_shop_form_part": ["shoop_mailchimp.admin_module.form_parts:MailchimpFormPart"],
        "admin_contact_form_part": ["shoop_mailchimp.admin_module.contact_form_part:ConsentShownFormPart"],
        "admin_contact_toolbar_action_item": ["shoop_mailchimp.admin_module.toolbar:SyncContactAction"],
        "admin_contact_section": ["shoop_mailchimp.admin_module.sections:MailchimpContactSection"],
    }

    def ready(self):
        from django.apps import apps
        from django.core.signals import request_started

        from shoop_mailchimp import checks, consent_shown, log_filters, receivers  # noqa: F401  (registers checks)
        from shoop_mailchimp.storefront import registration
        from shoop_mailchimp.sync.delivery import ensure_background_drainer

        receivers.connect_receivers()
        if apps.is_installed("shuup.admin"):
            from shoop_mailchimp.admin_module.product_list import use_in_product_list

            use_in_product_list()
        registration.connect_receivers()
        consent_shown.extend_storefront_forms()
        log_filters.install()
        request_started.connect(ensure_background_drainer, dispatch_uid=BACKGROUND_DRAINER_UID)


default_app_config = "shoop_mailchimp.AppConfig"
