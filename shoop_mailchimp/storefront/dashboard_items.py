"""The "Newsletter" entry in the customer account menu."""
from django.utils.translation import ugettext_lazy as _
from shuup.front.utils.dashboard import DashboardItem

from shoop_mailchimp.storefront.views import ACCOUNT_VIEW_NAME


class NewsletterDashboardItem(DashboardItem):
    title = _("Newsletter")
    icon = "fa fa-envelope"
    ordering = 5
    _url = ACCOUNT_VIEW_NAME

    def show_on_dashboard(self):
        return False  # the menu entry is enough; the page itself shows the subscription
