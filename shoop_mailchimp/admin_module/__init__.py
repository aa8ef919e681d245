"""The "Mailchimp" admin module: status, log, failed contacts and the actions that repair the sync."""
from django.utils.translation import ugettext_lazy as _
from shuup.admin.base import AdminModule, MenuEntry
from shuup.admin.menu import SETTINGS_MENU_CATEGORY
from shuup.admin.utils.urls import admin_url

from shoop_mailchimp.admin_module.permissions import MANAGE_PERMISSION, VIEW_PERMISSION

VIEWS = "shoop_mailchimp.admin_module.views."


class MailchimpModule(AdminModule):
    name = _("Mailchimp")
    breadcrumbs_menu_entry = MenuEntry(name, url="shuup_admin:shoop_mailchimp.status")

    def get_urls(self):
        view, manage = (VIEW_PERMISSION,), (MANAGE_PERMISSION,)
        return [
            admin_url(r"^mailchimp/$", VIEWS + "StatusView", name="shoop_mailchimp.status", permissions=view),
            admin_url(r"^mailchimp/log/$", VIEWS + "LogListView", name="shoop_mailchimp.log", permissions=view),
            admin_url(r"^mailchimp/log/(?P<pk>\d+)/$", VIEWS + "LogDetailView", name="shoop_mailchimp.log.detail",
                      permissions=view),
            admin_url(r"^mailchimp/failed/$", VIEWS + "FailedItemsView", name="shoop_mailchimp.failed",
                      permissions=view),
            admin_url(r"^mailchimp/failed/resend/$", VIEWS + "ResendView", name="shoop_mailchimp.resend",
                      permissions=manage),
            admin_url(r"^mailchimp/sync-existing/$", VIEWS + "SyncExistingContactsView",
                      name="shoop_mailchimp.sync_existing", permissions=manage),
            admin_url(r"^mailchimp/send-pending/$", VIEWS + "SendPendingView", name="shoop_mailchimp.send_pending",
                      permissions=manage),
            admin_url(r"^mailchimp/webhook/rotate/$", VIEWS + "RotateWebhookSecretView",
                      name="shoop_mailchimp.rotate_webhook_secret", permissions=manage),
            admin_url(r"^mailchimp/initialize/(?P<pk>\d+)/$", VIEWS + "InitializeView",
                      name="shoop_mailchimp.initialize", permissions=manage),
            admin_url(r"^mailchimp/contact/(?P<pk>\d+)/sync/$", VIEWS + "SyncContactView",
                      name="shoop_mailchimp.sync_contact", permissions=manage),
        ]

    def get_menu_entries(self, request):
        return [
            MenuEntry(
                text=_("Mailchimp"),
                icon="fa fa-envelope",
                url="shuup_admin:shoop_mailchimp.status",
                category=SETTINGS_MENU_CATEGORY,
                ordering=20,
            )
        ]
