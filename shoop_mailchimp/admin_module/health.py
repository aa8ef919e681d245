"""How a shop's sync is doing, in one sentence, and what it delivered day by day.

The status page, the Shuup dashboard block and the admin notifications all say the same thing
because they all ask here. Database reads only: nothing here waits on Mailchimp.
"""
from collections import namedtuple
from datetime import timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import ugettext as _
from django.utils.translation import ungettext

from shoop_mailchimp.models import LogKind, MailchimpLogEntry, SyncState, SyncStatus

#: ``level`` is a Bootstrap colour (success, info, warning, danger, secondary); ``key`` names the situation
#: (the page's element ids and the tests use it).
Health = namedtuple("Health", "key level headline detail")

#: Log actions that mean "Mailchimp now holds this item".
DELIVERED_ACTIONS = ("contact.sent", "order.send")


def shop_health(configuration, failed, waiting, overdue, throttled_for, retrying=0):
    """The first thing that needs the owner, or what is going well; most urgent first."""
    if not (configuration.pk and configuration.has_api_key and configuration.list_id):
        if configuration.pk and configuration.list_id:
            missing = _("Enter the API key in the Mailchimp block of the shop page.")
        elif configuration.pk and configuration.has_api_key:
            missing = _("Choose the audience in the Mailchimp block of the shop page.")
        else:
            missing = _("Enter the API key and the audience in the Mailchimp block of the shop page.")
        return Health("not-connected", "secondary", _("Not connected"), missing)
    if configuration.api_key_undecryptable:
        return Health("key-undecryptable", "danger", _("The API key cannot be read"),
                      _("It was encrypted with a key this site no longer has: enter it again on the shop page."))
    site_mismatch = configuration.site_mismatch
    if site_mismatch is not None:
        return Health("site-mismatch", "danger", _("Sending is paused: another site"), str(site_mismatch))
    if configuration.disconnected_on:
        return Health("disconnected", "secondary", _("Disconnected"), _(
            "An admin disconnected this shop from Mailchimp: nothing is sent, changes are recorded. Initialize "
            "on the shop page connects it again and sends them."))
    holder = configuration.audience_holder() if configuration.is_initialized else None
    if holder is not None:
        from shoop_mailchimp.initialization import shop_label
        return Health("audience-taken", "danger", _("Sending is paused: the audience serves another shop"), _(
            "The audience %(list)s serves the shop %(shop)s of this installation, connected to it first; an "
            "audience serves one shop. Disconnect this shop deleting its store, choose another audience and "
            "initialize again.") % {"list": configuration.list_id, "shop": shop_label(holder.shop)})
    if configuration.paused_reason:
        return Health("paused-reason", "danger", _("Sending is paused"), configuration.paused_reason)
    if not configuration.is_active:
        return Health("not-sending", "secondary", _("Not sending"),
                      _("Initialize Mailchimp and tick Enabled in the Mailchimp block of the shop page."))
    if overdue:
        return Health("overdue", "danger", _("Nothing is being sent"), ungettext(
            "%(num)d item has waited too long: no drainer seems to run (see the Delivery setting).",
            "%(num)d items have waited too long: no drainer seems to run (see the Delivery setting).",
            overdue) % {"num": overdue})
    if throttled_for:
        return Health("throttled", "warning", _("Mailchimp asked to slow down"), _(
            "Too many requests were sent to it: sending is held back until Mailchimp's retry time, about "
            "%(seconds)d seconds from now, then resumes by itself. Nothing is lost meanwhile.")
            % {"seconds": throttled_for})
    if failed:
        headline = ungettext("%(num)d item failed", "%(num)d items failed", failed) % {"num": failed}
        return Health("failed", "warning", headline,
                      _("Mailchimp refused them: the Failed items page says why and sends them again."))
    if configuration.webhook_state == "missing":
        return Health("webhook-missing", "warning", _("Unsubscribes do not reach the shop"),
                      _("Mailchimp has no webhook for this shop: press Initialize again on this page."))
    if retrying:
        return Health("retrying", "warning", _("Mailchimp does not take everything right now"), ungettext(
            "%(num)d item waits for a retry after Mailchimp failed to take it; it is tried again by itself.",
            "%(num)d items wait for a retry after Mailchimp failed to take them; they are tried again by "
            "themselves.", retrying) % {"num": retrying})
    if waiting:
        return Health("sending", "info", _("Sending"), ungettext(
            "%(num)d item is on its way to Mailchimp.", "%(num)d items are on their way to Mailchimp.", waiting)
            % {"num": waiting})
    return Health("ok", "success", _("Everything is in Mailchimp"), _("Every change has been delivered."))


def shop_health_for(shop, configuration, overdue, throttled_for):
    counts = SyncState.objects.filter(shop=shop).aggregate(
        failed=Count("id", filter=Q(status=SyncStatus.FAILED)),
        waiting=Count("id", filter=Q(status__in=(SyncStatus.PENDING, SyncStatus.SENDING))),
        retrying=Count("id", filter=Q(status=SyncStatus.PENDING, attempts__gt=0)),
    )
    return shop_health(configuration, counts["failed"], counts["waiting"], overdue, throttled_for, counts["retrying"])


def delivery_days(shop, days=14):
    """[{day, delivered, failed}] for the last ``days`` days, oldest first, from the log."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    since = timezone.make_aware(timezone.datetime.combine(first, timezone.datetime.min.time()))
    rows = (MailchimpLogEntry.objects.filter(shop=shop, created_on__gte=since)
            .annotate(day=TruncDate("created_on")).order_by().values("day")
            .annotate(delivered=Count("id", filter=Q(action__in=DELIVERED_ACTIONS)),
                      failed=Count("id", filter=Q(kind=LogKind.ERROR))))
    by_day = {row["day"]: row for row in rows}
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day, {})
        result.append({"day": day, "delivered": row.get("delivered", 0), "failed": row.get("failed", 0)})
    return result
