"""The status page's drift report (what the last reconciliation with Mailchimp found and fixed), the
buttons that start one, and the export of members the shop does not know."""
import csv

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import ugettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.generic import View
from shuup.admin.shop_provider import get_shop

from shoop_mailchimp.admin_module.jobs import queue_job_of_active_shop
from shoop_mailchimp.models import JobKind, JobStatus, MailchimpJob
from shoop_mailchimp.reconciliation import CATEGORIES

CATEGORY_LABELS = {
    "unsubscribed": _("Unsubscribed in Mailchimp: the shop's marketing permission withdrawn"),
    "cleaned": _("Bounced (cleaned) in Mailchimp"),
    "archived": _("Archived or deleted by an admin in Mailchimp (marketing permission kept)"),
    "unarchived": _("Unarchived by an admin in Mailchimp: the shop sends its changes again"),
    "subscribed": _("Subscribed in Mailchimp (recorded; it gives no consent in the shop)"),
    "email_changed": _("E-mail changed in Mailchimp: sent to the new address from now on"),
    "stale": _("Changed in Mailchimp before the shop's own newer change: ignored"),
    "left_for_later": _("Left for later: the shop has a change of its own Mailchimp has not got yet"),
    "missing_requeued": _("Gone from the audience: sent again as transactional (never subscribed)"),
}
#: Spreadsheets run a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def drift_report(shop):
    """The latest reconciliation of the shop (running or ended) and its figures, for the status page."""
    job = MailchimpJob.objects.filter(shop=shop, kind=JobKind.RECONCILE).exclude(status=JobStatus.QUEUED).first()
    if job is None:
        return None
    result = job.result or {}
    found = result.get("found") or {}
    full_pass = last_full_pass(shop)
    return {
        "job": job,
        "running": job.status == JobStatus.RUNNING,
        "full": bool(result.get("full") if result else (job.params or {}).get("full")),
        "read": result.get("read", 0),
        "total": result.get("total"),
        "rows": [(key, CATEGORY_LABELS[key], found.get(key, 0)) for key in CATEGORIES],
        # Only a full pass reads every member: an incremental one knows only the members it read.
        "full_pass": full_pass,
        "unknown_count": (full_pass.result or {}).get("unknown_count", 0) if full_pass else None,
    }


def last_full_pass(shop):
    return MailchimpJob.objects.filter(shop=shop, kind=JobKind.RECONCILE, status=JobStatus.DONE,
                                       params={"full": True}).first()


@method_decorator(require_POST, name="dispatch")
class ReconcileView(View):
    """Queue a reconciliation (``full``: the whole audience); the drainer runs it."""

    def post(self, request):
        queue_job_of_active_shop(request, JobKind.RECONCILE, _("The reconciliation with Mailchimp is queued: this "
                                                              "page shows what it finds."),
                                 full=bool(request.POST.get("full")))
        return HttpResponseRedirect(reverse("shuup_admin:shoop_mailchimp.status"))


def _cell(text):
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class UnknownMembersExportView(View):
    """The addresses of the audience's members no contact of the shop has, as the last full reconciliation
    found them (CSV; only the header before one has finished)."""

    def get(self, request):
        shop = get_shop(request)
        job = last_full_pass(shop)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="mailchimp-unknown-members-%s.csv"' % shop.pk
        writer = csv.writer(response)
        writer.writerow(["email_address"])
        for email in ((job.result if job else None) or {}).get("unknown_emails") or []:
            writer.writerow([_cell(email)])
        return response
