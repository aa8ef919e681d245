"""Admin views for one shop's Mailchimp sync; every query is scoped to the shop being administered."""
import json

from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import ugettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, TemplateView, View
from shuup.admin.shop_provider import get_shop
from shuup.admin.toolbar import PostActionButton, Toolbar, URLActionButton
from shuup.admin.utils.picotable import ChoicesFilter, Column, DateRangeFilter, TextFilter
from shuup.admin.utils.views import PicotableListView
from shuup.core.models import Contact, Shop

from shoop_mailchimp.admin_module import messages
from shoop_mailchimp.admin_module.form_parts import get_configuration
from shoop_mailchimp.admin_module.permissions import MANAGE_PERMISSION, can_manage
from shoop_mailchimp.admin_module.status import shop_status
from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.initialization import InitializationError, initialize
from shoop_mailchimp.journal import Journal
from shoop_mailchimp.mailchimp.errors import MailchimpError
from shoop_mailchimp.models import LogKind, MailchimpLogEntry, SyncKind, SyncState, SyncStatus
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.queue import record, resend, shop_ids_for_contact
from shoop_mailchimp.sync.worker import drain
from shoop_mailchimp.webhooks import masked, rotate_webhook_secret, webhook_registered, webhook_url


def _redirect_back(request, default):
    target = request.POST.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)


def describe_outcomes(report):
    if not report:
        return _("Nothing was due.")
    return ", ".join("%s: %s" % (outcome, count) for outcome, count in sorted(report.items()))


class StatusView(TemplateView):
    template_name = "shoop_mailchimp/admin/status.jinja"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        shop = get_shop(self.request)
        configuration = get_configuration(shop)
        context.update(shop_status(shop, configuration))
        context["can_manage"] = can_manage(self.request.user)
        if configuration.pk:
            base_url = get_setting("WEBHOOK_BASE_URL") or self.request.build_absolute_uri("/")
            url = webhook_url(configuration, base_url)
            # With the secret, anyone could post unsubscribes: only those who may change the sync see it.
            context["webhook_url"] = url if context["can_manage"] else masked(url, configuration)
            if configuration.is_active:
                context["webhook_check"] = self.check_webhook(configuration, url)
        context["title"] = _("Mailchimp")
        context["shop"] = shop
        context["toolbar"] = Toolbar([
            URLActionButton(url=reverse("shuup_admin:shoop_mailchimp.log"), text=_("Log"), icon="fa fa-list",
                            extra_css_class="btn-inverse"),
            URLActionButton(url=reverse("shuup_admin:shoop_mailchimp.failed"), text=_("Failed contacts"),
                            icon="fa fa-exclamation-triangle", extra_css_class="btn-inverse"),
            URLActionButton(url=reverse("shuup_admin:shop.edit", kwargs={"pk": shop.pk}), text=_("Configure"),
                            icon="fa fa-cog", extra_css_class="btn-primary"),
        ])
        return context


    @staticmethod
    def check_webhook(configuration, url):
        """("registered" | "missing" | "unknown", why it is unknown)."""
        try:
            return ("registered" if webhook_registered(configuration, url) else "missing"), ""
        except (MailchimpError, ValueError) as error:
            return "unknown", str(error)


@method_decorator(require_POST, name="dispatch")
class InitializeView(View):
    """Initialize the Mailchimp side of a shop this user administers."""

    def post(self, request, pk):
        shop = get_object_or_404(Shop.objects.get_for_user(request.user), pk=pk)
        configuration = get_configuration(shop)
        if not configuration.pk:
            messages.error(request, _("Save the Mailchimp API key and audience first."))
        else:
            try:
                initialize(configuration, user=request.user)
            except InitializationError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, _("Mailchimp is initialized for %s.") % shop)
        return _redirect_back(request, reverse("shuup_admin:shop.edit", kwargs={"pk": shop.pk}))


@method_decorator(require_POST, name="dispatch")
class RotateWebhookSecretView(View):
    """Replace the webhook secret of the shop being administered and move Mailchimp's webhook to it."""

    def post(self, request):
        configuration = get_configuration(get_shop(request))
        if not configuration.pk:
            messages.error(request, _("Save the Mailchimp API key and audience first."))
            return HttpResponseRedirect(reverse("shuup_admin:shoop_mailchimp.status"))
        journal = Journal(configuration.shop_id, user=request.user)
        try:
            registered = rotate_webhook_secret(configuration, journal)
        finally:
            journal.flush()
        if registered:
            messages.success(request, _("The webhook secret was replaced; Mailchimp calls the new URL."))
        else:
            messages.warning(request, _("The webhook secret was replaced and the old URL is refused, but Mailchimp "
                                        "was not updated: see the log, or enter the new URL in Mailchimp."))
        return HttpResponseRedirect(reverse("shuup_admin:shoop_mailchimp.status"))


@method_decorator(require_POST, name="dispatch")
class SyncExistingContactsView(View):
    def post(self, request):
        shop = get_shop(request)
        if not get_configuration(shop).is_active:
            messages.error(request, _("Mailchimp is not active for this shop: configure and initialize it first."))
        else:
            # Recording and submitting takes a few requests; results are read here for a few seconds,
            # then by the status page (each visit checks open batches).
            count, batch_count = bulk.start(shop)
            bulk.resume_batches(shop, poll_interval=0.2, timeout=get_setting("BATCH_ADMIN_WAIT"))
            messages.success(request, _("%(count)d contacts queued for Mailchimp in %(batches)d batches.") % {
                "count": count, "batches": batch_count})
        return HttpResponseRedirect(reverse("shuup_admin:shoop_mailchimp.status"))


@method_decorator(require_POST, name="dispatch")
class SendPendingView(View):
    def post(self, request):
        shop = get_shop(request)
        report = drain(shop_id=shop.id)
        messages.info(request, _("Sent what was due: %s") % describe_outcomes(report))
        return HttpResponseRedirect(reverse("shuup_admin:shoop_mailchimp.status"))


class LogListView(PicotableListView):
    model = MailchimpLogEntry
    url_identifier = "shoop_mailchimp.log"
    default_columns = [
        Column("created_on", _("Time"), filter_config=DateRangeFilter()),
        Column("kind", _("Kind"), filter_config=ChoicesFilter(choices=LogKind.CHOICES)),
        Column("action", _("Action"), filter_config=TextFilter(placeholder=_("Filter by action..."))),
        Column("message", _("Message"), filter_config=TextFilter(placeholder=_("Filter by message..."))),
        Column("contact_id", _("Contact"), display="format_contact", sortable=False),
        Column("order_id", _("Order"), display="format_order", sortable=False),
    ]

    def get_queryset(self):
        return MailchimpLogEntry.objects.filter(shop=get_shop(self.request))

    def get_object_url(self, instance):
        return reverse("shuup_admin:shoop_mailchimp.log.detail", kwargs={"pk": instance.pk})

    def format_contact(self, instance):
        return instance.contact_id or ""

    def format_order(self, instance):
        return instance.order_id or ""

    def get_toolbar(self):
        return Toolbar([
            URLActionButton(url=reverse("shuup_admin:shoop_mailchimp.status"), text=_("Status"),
                            icon="fa fa-heartbeat", extra_css_class="btn-inverse"),
        ])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Mailchimp log")
        return context


class LogDetailView(DetailView):
    template_name = "shoop_mailchimp/admin/log_detail.jinja"
    context_object_name = "entry"

    def get_queryset(self):
        return MailchimpLogEntry.objects.filter(shop=get_shop(self.request))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        entry = self.object
        context["title"] = _("Mailchimp log entry")
        context["extra_json"] = json.dumps(entry.extra, indent=2, sort_keys=True, default=str) if entry.extra else ""
        context["contact"] = Contact.objects.filter(pk=entry.contact_id).first() if entry.contact_id else None
        context["toolbar"] = Toolbar([
            URLActionButton(url=reverse("shuup_admin:shoop_mailchimp.log"), text=_("Log"), icon="fa fa-list",
                            extra_css_class="btn-inverse"),
        ])
        return context


class FailedContactsView(TemplateView):
    template_name = "shoop_mailchimp/admin/failed.jinja"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        shop = get_shop(self.request)
        states = list(
            SyncState.objects.filter(shop=shop, kind=SyncKind.CONTACT, status=SyncStatus.FAILED).order_by(
                "-modified_on"
            )[:500]
        )
        contacts = Contact.objects.in_bulk([state.object_id for state in states])
        context["rows"] = [(state, contacts.get(state.object_id)) for state in states]
        context["failed_total"] = SyncState.objects.filter(
            shop=shop, kind=SyncKind.CONTACT, status=SyncStatus.FAILED
        ).count()
        context["title"] = _("Mailchimp: failed contacts")
        toolbar = Toolbar([
            URLActionButton(url=reverse("shuup_admin:shoop_mailchimp.status"), text=_("Status"),
                            icon="fa fa-heartbeat", extra_css_class="btn-inverse"),
        ])
        if states:
            toolbar.append(PostActionButton(
                post_url=reverse("shuup_admin:shoop_mailchimp.resend"),
                text=_("Resend all failed"), icon="fa fa-refresh", extra_css_class="btn-primary",
                required_permissions=(MANAGE_PERMISSION,),
            ))
        context["toolbar"] = toolbar
        return context


@method_decorator(require_POST, name="dispatch")
class ResendView(View):
    """Resend one failed row (``state`` in the POST) or, without it, every failed row of the shop."""

    def post(self, request):
        shop = get_shop(request)
        state_ids = [int(value) for value in request.POST.getlist("state") if value.isdigit()] or None
        with transaction.atomic():
            count = resend(shop.id, state_ids)
        messages.success(request, _("%d failed items sent again.") % count)
        return _redirect_back(request, reverse("shuup_admin:shoop_mailchimp.failed"))


@method_decorator(require_POST, name="dispatch")
class SyncContactView(View):
    """Send one contact now and say how it went."""

    def post(self, request, pk):
        shop = get_shop(request)
        contact = get_object_or_404(Contact, pk=pk)
        detail_url = reverse("shuup_admin:contact.detail", kwargs={"pk": contact.pk})
        if not shop_ids_for_contact(contact, [shop.id] if get_configuration(shop).is_active else []):
            messages.error(request, _("Mailchimp is not active for this shop, or the contact is not in it."))
            return HttpResponseRedirect(detail_url)
        with transaction.atomic():
            record(shop.id, SyncKind.CONTACT, [contact.pk])
        report = drain(shop_id=shop.id)
        state = SyncState.objects.filter(shop=shop, kind=SyncKind.CONTACT, object_id=contact.pk).first()
        if state and state.status == SyncStatus.SYNCED:
            messages.success(request, _("Sent to Mailchimp."))
        else:
            messages.warning(request, _("Not synced yet (%(status)s): %(error)s") % {
                "status": state.status if state else "-", "error": (state.last_error if state else "") or
                describe_outcomes(report)})
        return HttpResponseRedirect(detail_url)
