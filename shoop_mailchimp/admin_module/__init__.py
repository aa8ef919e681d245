"""The "Mailchimp" admin module: status, log, failed contacts and the actions that repair the sync."""
from weakref import WeakKeyDictionary

from django.urls import reverse
from django.utils.translation import ugettext_lazy as _
from shuup.admin.base import AdminModule, MenuEntry, Notification
from shuup.admin.dashboard import DashboardContentBlock
from shuup.admin.menu import SETTINGS_MENU_CATEGORY
from shuup.admin.shop_provider import get_shop
from shuup.admin.utils.urls import admin_url

from shoop_mailchimp.admin_module.form_parts import get_configuration
from shoop_mailchimp.admin_module.permissions import MANAGE_PERMISSION, VIEW_PERMISSION, can_view
from shoop_mailchimp.admin_module.status import health_now

VIEWS = "shoop_mailchimp.admin_module.views."
DRIFT = "shoop_mailchimp.admin_module.drift."
#: The shop's health per admin request, read once (the dashboard asks for its blocks and its notifications).
_HEALTH_OF_REQUEST = WeakKeyDictionary()


class MailchimpModule(AdminModule):
    name = _("Mailchimp")
    breadcrumbs_menu_entry = MenuEntry(name, url="shuup_admin:shoop_mailchimp.status")

    def get_urls(self):
        view, manage = (VIEW_PERMISSION,), (MANAGE_PERMISSION,)
        return [
            admin_url(r"^mailchimp/$", VIEWS + "StatusView", name="shoop_mailchimp.status", permissions=view),
            admin_url(r"^mailchimp/status.json$", VIEWS + "StatusDataView", name="shoop_mailchimp.status_data",
                      permissions=view),
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
            admin_url(r"^mailchimp/disconnect/$", VIEWS + "DisconnectView", name="shoop_mailchimp.disconnect",
                      permissions=manage),
            admin_url(r"^mailchimp/site/confirm/$", VIEWS + "ConfirmSiteView", name="shoop_mailchimp.confirm_site",
                      permissions=manage),
            admin_url(r"^mailchimp/initialize/(?P<pk>\d+)/$", VIEWS + "InitializeView",
                      name="shoop_mailchimp.initialize", permissions=manage),
            admin_url(r"^mailchimp/contact/(?P<pk>\d+)/sync/$", VIEWS + "SyncContactView",
                      name="shoop_mailchimp.sync_contact", permissions=manage),
            admin_url(r"^mailchimp/reconcile/$", DRIFT + "ReconcileView", name="shoop_mailchimp.reconcile",
                      permissions=manage),
            admin_url(r"^mailchimp/reconcile/unknown-members.csv$", DRIFT + "UnknownMembersExportView",
                      name="shoop_mailchimp.unknown_members", permissions=manage),
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

    def _health(self, request):
        """The shop's health, or None where the user may not see it or the shop does not use Mailchimp; read
        once per request (the dashboard asks for its blocks and for its notifications)."""
        if request not in _HEALTH_OF_REQUEST:
            shop = get_shop(request)
            configuration = get_configuration(shop) if shop is not None and can_view(request.user) else None
            _HEALTH_OF_REQUEST[request] = (health_now(shop, configuration)
                                           if configuration is not None and configuration.pk else None)
        return _HEALTH_OF_REQUEST[request]

    def get_dashboard_blocks(self, request):
        health = self._health(request)
        if health is None:
            return []
        block = DashboardContentBlock.by_rendering_template(
            "mailchimp", request, "shoop_mailchimp/admin/dashboard_block.jinja", {"health": health})
        block.size = "small"
        return [block]

    def get_notifications(self, request):
        health = self._health(request)
        if health is None or health.level != "danger":
            return []
        return [Notification(text="%s: %s" % (health.headline, health.detail), title=_("Mailchimp"),
                             url=reverse("shuup_admin:shoop_mailchimp.status"), kind="danger")]
