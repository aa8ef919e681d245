"""The Mailchimp section on a contact's admin page."""
from django.utils.translation import ugettext_lazy as _
from shuup.admin.base import Section
from shuup.admin.shop_provider import get_shop

from shoop_mailchimp.admin_module.explanations import explain, technical_detail
from shoop_mailchimp.admin_module.permissions import can_manage, can_view
from shoop_mailchimp.models import MailchimpConfiguration, MailchimpLogEntry, SyncKind, SyncState

LATEST_ENTRIES = 10


class MailchimpContactSection(Section):
    identifier = "shoop_mailchimp"
    name = _("Mailchimp")
    icon = "fa-envelope"
    template = "shoop_mailchimp/admin/contact_section.jinja"
    order = 20

    @classmethod
    def visible_for_object(cls, contact, request=None):
        return bool(request and contact.pk and can_view(request.user))

    @classmethod
    def get_context_data(cls, contact, request=None):
        shop = get_shop(request)
        state = SyncState.objects.filter(shop=shop, kind=SyncKind.CONTACT, object_id=contact.pk).first()
        return {
            "configuration": MailchimpConfiguration.objects.filter(shop=shop).first(),
            "state": state,
            "explanation": explain(state, button=_("Sync now")) if state else "",
            "technical_detail": technical_detail(state) if state else [],
            "entries": list(MailchimpLogEntry.objects.filter(shop=shop, contact_id=contact.pk)[:LATEST_ENTRIES]),
            "can_manage": can_manage(request.user),
        }
