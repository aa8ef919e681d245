"""Admin views for one shop's Mailchimp sync; every query is scoped to the shop being administered."""
import json

from django.db import transaction
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import ugettext_lazy as _
from django.utils.translation import ungettext
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, TemplateView, View
from shuup.admin.shop_provider import get_shop
from shuup.admin.toolbar import PostActionButton, Toolbar, URLActionButton
from shuup.admin.utils.picotable import ChoicesFilter, Column, TextFilter
from shuup.admin.utils.urls import NoModelUrl, get_model_url
from shuup.admin.utils.views import PicotableListView
from shuup.core.models import Contact, Order, Shop

from shoop_mailchimp import disconnection, log_labels, sites
from shoop_mailchimp.admin_module import messages
from shoop_mailchimp.admin_module.drift import drift_report
from shoop_mailchimp.admin_module.explanations import explain, technical_detail
from shoop_mailchimp.admin_module.form_parts import get_configuration
from shoop_mailchimp.admin_module.jobs import queue_job_of_active_shop
from shoop_mailchimp.admin_module.log_list_filters import ContactFilter, OrderFilter, WholeDaysFilter
from shoop_mailchimp.admin_module.permissions import MANAGE_PERMISSION, can_manage
from shoop_mailchimp.admin_module.preview import preview_context, request_preview
from shoop_mailchimp.admin_module.status import shop_status, status_data
from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.initialize_preview import is_confirmed
from shoop_mailchimp.journal import Journal, log_event
from shoop_mailchimp.models import (
    JobKind,
    LogKind,
    MailchimpConfiguration,
    MailchimpLogEntry,
    SyncKind,
    SyncState,
    SyncStatus,
)
from shoop_mailchimp.shops import shop_ids_for_contact
from shoop_mailchimp.sync import kinds, state
from shoop_mailchimp.sync.delivery import schedule_delivery
from shoop_mailchimp.sync.jobs import cancel_queued, request_job
from shoop_mailchimp.webhook_registration import masked, rotate_secret, webhook_url

#: Shuup's shop page opens the section whose navigation link has this href.
SETTINGS_SECTION = "#mailchimp-section"
STATUS_URL = "shuup_admin:shoop_mailchimp.status"


def _redirect_back(request, default):
    target = request.POST.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)


class StatusView(TemplateView):
    """Reads the database only: what the drainer last found is stored, with the time it looked."""

    template_name = "shoop_mailchimp/admin/status.jinja"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        shop = get_shop(self.request)
        configuration = get_configuration(shop)
        context.update(shop_status(shop, configuration))
        context["can_manage"] = can_manage(self.request.user)
        context["drift"] = drift_report(shop)
        context["preview"] = preview_context(configuration)
        if configuration.pk:
            # The URL the webhook is registered with (review nu57 F6: the admin's own host may be one Mailchimp never
            # calls, behind a proxy, or a staging copy's).
            url = webhook_url(configuration, get_setting("WEBHOOK_BASE_URL") or self.request.build_absolute_uri("/"))
            # With the secret, anyone could post unsubscribes: only those who may change the sync see it.
            context["webhook_url"] = url if context["can_manage"] else masked(url, configuration)
        context["title"] = _("Mailchimp")
        context["shop"] = shop
        context["toolbar"] = Toolbar([
            URLActionButton(url=reverse("shuup_admin:shoop_mailchimp.log"), text=_("Log"), icon="fa fa-list",
                            extra_css_class="btn-inverse"),
            URLActionButton(url=reverse("shuup_admin:shoop_mailchimp.failed"), text=_("Failed items"),
                            icon="fa fa-exclamation-triangle", extra_css_class="btn-inverse"),
            URLActionButton(url=reverse("shuup_admin:shop.edit", kwargs={"pk": shop.pk}) + SETTINGS_SECTION,
                            text=_("Configure"), icon="fa fa-cog", extra_css_class="btn-primary"),
        ])
        return context


class StatusDataView(View):
    """What the status page refreshes while it is open; the database only, like the page."""

    def get(self, request):
        shop = get_shop(request)
        return JsonResponse(status_data(shop_status(shop, get_configuration(shop))))


@method_decorator(require_POST, name="dispatch")
class InitializeView(View):
    """Queue the initialization of a shop this user administers; the drainer runs it."""

    def post(self, request, pk):
        shop = get_object_or_404(Shop.objects.get_for_user(request.user), pk=pk)
        configuration = get_configuration(shop)
        if not (configuration.pk and configuration.has_api_key and configuration.list_id):
            messages.error(request, _("Save the Mailchimp API key and audience first."))
            return _redirect_back(request, reverse("shuup_admin:shop.edit", kwargs={"pk": shop.pk}))
        confirmed = is_confirmed(configuration, request.POST.get("confirm_preview"))
        with transaction.atomic():
            if confirmed:
                request_job(shop.pk, JobKind.INITIALIZE, user=request.user, **configuration.site_params)
            else:
                request_preview(configuration, user=request.user)
            schedule_delivery(shop.pk)
        if confirmed:
            messages.info(request, _("Initialization is queued: this page shows when it is done."))
        else:
            messages.info(request, _("Before the first initialization, Mailchimp is asked what it would do to this "
                                     "audience: the figures appear on this page, then confirm with \"Initialize as "
                                     "shown\"."))
        return HttpResponseRedirect(reverse(STATUS_URL))


@method_decorator(require_POST, name="dispatch")
class DisconnectView(View):
    """Stop sending at once and queue the deletions in Mailchimp (the webhook; the store only when its id was
    typed to confirm); the drainer runs them and the status page tells how it went."""

    def post(self, request):
        shop = get_shop(request)
        configuration = get_configuration(shop)
        back = reverse("shuup_admin:shop.edit", kwargs={"pk": shop.pk}) + SETTINGS_SECTION
        if not (configuration.pk and configuration.is_initialized):
            messages.error(request, _("This shop is not connected to Mailchimp: there is nothing to disconnect."))
            return HttpResponseRedirect(back)
        typed_store_id = (request.POST.get("mailchimp_delete_store_id") or "").strip()
        delete_store = bool(typed_store_id)
        if delete_store and typed_store_id != configuration.store_id:
            messages.error(request, _("To delete the store in Mailchimp, type its id (%(store)s) exactly; nothing "
                                      "was deleted.") % {"store": configuration.store_id})
            return HttpResponseRedirect(back)
        journal = Journal(shop.pk, user=request.user)
        with transaction.atomic():
            disconnection.stop_sending(configuration, journal, delete_store)
            journal.flush()
            cancel_queued(shop.pk, (JobKind.INITIALIZE, JobKind.SYNC_EXISTING, JobKind.MOVE_WEBHOOK),
                          _("Not run: the shop was disconnected from Mailchimp before it started."))
            request_job(shop.pk, JobKind.DISCONNECT, user=request.user, delete_store=delete_store)
            schedule_delivery(shop.pk)
        mismatch = configuration.site_mismatch
        if mismatch is not None:
            # The staging guard holds: the disconnect deletes nothing in Mailchimp from this copy (review nu57 F3).
            messages.warning(request, _("Sending to Mailchimp stopped. Nothing is deleted in Mailchimp from here: "
                                        "%(why)s") % {"why": mismatch})
        elif delete_store:
            messages.info(request, _("Sending to Mailchimp stopped. The webhook and the store %(store)s (its "
                                     "customers, orders and products) are deleted in Mailchimp in a moment; the "
                                     "audience and its members are kept. The status page shows the outcome.")
                          % {"store": configuration.store_id})
        else:
            messages.info(request, _("Sending to Mailchimp stopped. The webhook is deleted in Mailchimp in a moment; "
                                     "the store and the audience are kept. The status page shows the outcome."))
        return HttpResponseRedirect(back)


@method_decorator(require_POST, name="dispatch")
class ConfirmSiteView(View):
    """The staging guard's "this is the same shop at a new address": this site becomes the configuration's,
    and sending resumes. Refused on a copy that cannot tell its site (no WEBHOOK_BASE_URL, no shop domain)."""

    def post(self, request):
        shop = get_shop(request)
        configuration = get_configuration(shop)
        mismatch = configuration.site_mismatch if configuration.pk else None
        if mismatch is None:
            messages.info(request, _("This shop runs on the site it was connected on: nothing to confirm."))
            return HttpResponseRedirect(reverse(STATUS_URL))
        if mismatch.unknown:
            # Nothing names this copy's site: confirming would remember no site, and nothing would resume.
            messages.error(request, _("Nothing was confirmed: this copy cannot tell which site it runs on. Set "
                                      "SHOOP_MAILCHIMP[\"WEBHOOK_BASE_URL\"] in this deployment's settings, or the "
                                      "shop's domain, first; sending stays paused until then."))
            return HttpResponseRedirect(reverse(STATUS_URL))
        with transaction.atomic():
            MailchimpConfiguration.objects.filter(pk=configuration.pk).update(
                site=mismatch.here, site_from_setting=sites.named_by_setting())
            log_event(shop.pk, "site.confirm", "Confirmed that %s is the same shop as %s: sending to Mailchimp "
                      "resumes" % (mismatch.here, mismatch.remembered), kind=LogKind.WARNING, user=request.user)
            # Mailchimp still calls the webhook at the old address: it moves here (registered at this site's
            # URL, then the old one deleted), or unsubscribes made in Mailchimp would no longer reach the shop.
            if configuration.webhook_id:
                request_job(shop.pk, JobKind.MOVE_WEBHOOK, user=request.user, old_webhook_id=configuration.webhook_id)
            # The store and its connected site move to the new address too (the site script is of a domain).
            request_job(shop.pk, JobKind.FOLLOW_DOMAIN, user=request.user)
            schedule_delivery(shop.pk)
        messages.info(request, _("Confirmed: sending to Mailchimp resumes from %(site)s.") % {"site": mismatch.here})
        return HttpResponseRedirect(reverse(STATUS_URL))


@method_decorator(require_POST, name="dispatch")
class RotateWebhookSecretView(View):
    """Replace the webhook secret at once (the old URL is refused from now on); the drainer then moves
    Mailchimp's webhook to the new URL."""

    def post(self, request):
        configuration = get_configuration(get_shop(request))
        if not configuration.pk:
            messages.error(request, _("Save the Mailchimp API key and audience first."))
            return HttpResponseRedirect(reverse(STATUS_URL))
        journal = Journal(configuration.shop_id, user=request.user)
        with transaction.atomic():
            old_webhook_id = rotate_secret(configuration, journal)
            journal.flush()
            request_job(configuration.shop_id, JobKind.MOVE_WEBHOOK, user=request.user, old_webhook_id=old_webhook_id)
            schedule_delivery(configuration.shop_id)
        messages.info(request, _("The webhook secret was replaced and the old URL is refused; Mailchimp is told "
                                 "the new URL in a moment (this page shows it)."))
        return HttpResponseRedirect(reverse(STATUS_URL))


@method_decorator(require_POST, name="dispatch")
class SyncExistingContactsView(View):
    def post(self, request):
        queue_job_of_active_shop(request, JobKind.SYNC_EXISTING, _("The sync of existing contacts is queued: this "
                                                                   "page shows its progress."),
                                 orders=bool(request.POST.get("orders")))
        return HttpResponseRedirect(reverse(STATUS_URL))


@method_decorator(require_POST, name="dispatch")
class SendPendingView(View):
    """Items waiting for a retry are tried at once."""

    def post(self, request):
        shop = get_shop(request)
        configuration = get_configuration(shop)
        if not configuration.is_active:
            messages.error(request, _("Sending is not active for this shop; nothing was queued."))
            return HttpResponseRedirect(reverse(STATUS_URL))
        count = state.make_due(shop.pk)  # outside a transaction: it never waits for a row while holding others
        schedule_delivery(shop.pk)
        messages.info(request, ungettext("%(count)d waiting item will be tried now.",
                                         "%(count)d waiting items will be tried now.", count) % {"count": count})
        return HttpResponseRedirect(reverse(STATUS_URL))


class LogListView(PicotableListView):
    model = MailchimpLogEntry
    template_name = "shoop_mailchimp/admin/log_list.jinja"
    url_identifier = "shoop_mailchimp.log"
    default_columns = [
        Column("created_on", _("Time"), filter_config=WholeDaysFilter()),
        Column("kind", _("Kind"), filter_config=ChoicesFilter(choices=LogKind.CHOICES)),
        Column("action", _("Action"), display="format_action",
               filter_config=ChoicesFilter(choices=log_labels.action_choices)),
        Column("message", _("Message"), filter_config=TextFilter(placeholder=_("Filter by message..."))),
        Column("contact_id", _("Contact"), display="format_contact", sortable=False, raw=True, linked=False,
               filter_config=ContactFilter(placeholder=_("Name or e-mail..."))),
        Column("order_id", _("Order"), display="format_order", sortable=False, raw=True, linked=False,
               filter_config=OrderFilter(placeholder=_("Order number..."))),
    ]

    def get_queryset(self):
        return MailchimpLogEntry.objects.filter(shop=get_shop(self.request))

    def get_object_url(self, instance):
        return reverse("shuup_admin:shoop_mailchimp.log.detail", kwargs={"pk": instance.pk})

    def format_action(self, instance):
        return instance.action_label

    def get_object_abstract(self, instance, item):
        """The phone layout: what happened, when, the message, and whom it was about."""
        lines = [
            {"text": "%s (%s)" % (instance.action_label, instance.get_kind_display()), "class": "header"},
            {"title": _("Time"), "text": item.get("created_on")},
            {"text": instance.message},
        ]
        # Picotable shows "raw" as HTML (our escaped links, as in the columns) where "text" is set.
        if instance.contact_id:
            lines.append({"title": _("Contact"), "text": instance.contact_id, "raw": self.format_contact(instance)})
        if instance.order_id:
            lines.append({"title": _("Order"), "text": instance.order_id, "raw": self.format_order(instance)})
        return lines

    def format_contact(self, instance):
        """The contact's name, linked to it (escaped: names are whatever customers typed)."""
        return self._link(Contact, instance.contact_id, "contact.detail", _("deleted contact"),
                          lambda contact: contact.name or contact.email or contact.pk)

    def format_order(self, instance):
        return self._link(Order, instance.order_id, "order.detail", _("deleted order"),
                          lambda order: order.identifier or order.pk)

    def _link(self, model, pk, url_name, deleted, label):
        if not pk:
            return ""
        obj = self._object(model, pk)
        if obj is None:
            return format_html("{} {}", deleted, pk)
        return format_html('<a href="{}">{}</a>', reverse("shuup_admin:" + url_name, kwargs={"pk": obj.pk}),
                           label(obj))

    def _object(self, model, pk):
        """One query per object shown on a page, however many entries name it."""
        cache = self.__dict__.setdefault("_objects", {})
        if (model, pk) not in cache:
            cache[(model, pk)] = model.objects.filter(pk=pk).first()
        return cache[(model, pk)]

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
        context["order"] = Order.objects.filter(pk=entry.order_id).first() if entry.order_id else None
        context["extra_json"] = json.dumps(entry.extra, indent=2, sort_keys=True, default=str) if entry.extra else ""
        context["contact"] = Contact.objects.filter(pk=entry.contact_id).first() if entry.contact_id else None
        context["toolbar"] = Toolbar([
            URLActionButton(url=reverse("shuup_admin:shoop_mailchimp.log"), text=_("Log"), icon="fa fa-list",
                            extra_css_class="btn-inverse"),
        ])
        return context


def failed_item(row, objects, shop):
    """(label, url, e-mail) of a failed row's item, as its kind names it (``ADMIN``); a deleted one is named by its
    id; linked where Shuup's admin has a page for it."""
    item = objects.get(row.kind, {}).get(row.object_id)
    if item is None:
        return ("#%s %s" % (row.object_id, _("(deleted)") if row.kind in kinds.BY_KIND else "")).strip(), None, \
            row.email
    try:
        url = get_model_url(item, shop=shop)
    except NoModelUrl:
        url = None
    return kinds.BY_KIND[row.kind].ADMIN.label(item) or "#%s" % row.object_id, url, \
        getattr(item, "email", "") or row.email


class FailedItemsView(TemplateView):
    """Every item Mailchimp refused, of every kind, with a resend for each and for all."""

    template_name = "shoop_mailchimp/admin/failed.jinja"
    LIMIT = 500

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        shop = get_shop(self.request)
        failed = SyncState.objects.filter(shop=shop, status=SyncStatus.FAILED)
        states = list(failed.order_by("-modified_on")[:self.LIMIT])
        objects = {module.KIND: module.ADMIN.model.objects.in_bulk([row.object_id for row in states
                                                                   if row.kind == module.KIND])
                   for module in kinds.KINDS}
        context["rows"] = [(row, *failed_item(row, objects, shop), explain(row), technical_detail(row))
                           for row in states]
        failed_total = failed.count()
        context["failed_text"] = ungettext("%(num)d item failed.", "%(num)d items failed.", failed_total) % {
            "num": failed_total}
        context["can_manage"] = can_manage(self.request.user)
        context["title"] = _("Mailchimp: failed items")
        toolbar = Toolbar([
            URLActionButton(url=reverse(STATUS_URL), text=_("Status"), icon="fa fa-heartbeat",
                            extra_css_class="btn-inverse"),
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
    """Queue one failed row (``state`` in the POST) or, without it, every failed row of the shop again."""

    def post(self, request):
        shop = get_shop(request)
        state_ids = [int(value) for value in request.POST.getlist("state") if value.isdigit()] or None
        count = state.resend_failed(shop.id, state_ids)  # outside a transaction, as make_due
        if count:
            schedule_delivery(shop.id)
        messages.info(request, ungettext(
            "%(count)d failed item is queued again. If Mailchimp refuses it again it comes back to this list; "
            "if Mailchimp is unavailable it is retried by itself first.",
            "%(count)d failed items are queued again. If Mailchimp refuses them again they come back to this "
            "list; if Mailchimp is unavailable they are retried by themselves first.",
            count) % {"count": count})
        return _redirect_back(request, reverse("shuup_admin:shoop_mailchimp.failed"))


@method_decorator(require_POST, name="dispatch")
class SyncContactView(View):
    """Queue one contact; its Mailchimp section shows when it is sent."""

    def post(self, request, pk):
        shop = get_shop(request)
        contact = get_object_or_404(Contact, pk=pk)
        detail_url = reverse("shuup_admin:contact.detail", kwargs={"pk": contact.pk})
        if not shop_ids_for_contact(contact, [shop.id] if get_configuration(shop).is_active else []):
            messages.error(request, _("Mailchimp is not active for this shop, or the contact is not in it."))
            return HttpResponseRedirect(detail_url)
        with transaction.atomic():
            if state.record(shop.id, SyncKind.CONTACT, [contact.pk], force=True):
                schedule_delivery(shop.id)
        messages.info(request, _("The contact is queued for Mailchimp; its Mailchimp section shows when it is sent."))
        return HttpResponseRedirect(detail_url)
