"""The figures of an Initialize preview in a shop owner's words, for the shop's Mailchimp section and the
status page (see :mod:`shoop_mailchimp.initialize_preview`)."""
from django.utils.translation import ugettext_lazy as _
from django.utils.translation import ungettext

from shoop_mailchimp.initialize_preview import CONTACT_FIGURES, latest_preview, preview_params
from shoop_mailchimp.models import JobKind, JobStatus
from shoop_mailchimp.sync.jobs import request_job

CONTACT_LABELS = {
    "existing_member": _("Already members of the audience: their status stays as it is"),
    "subscribed": _("New members, subscribed (they consented in the shop)"),
    "pending": _("New members, pending: Mailchimp e-mails them to confirm (double opt-in)"),
    "transactional": _("New members, transactional: order e-mails only (no consent)"),
    "shared_address": _("Sharing an address with a contact above: one member for all of them"),
    "no_consent": _("Left out: no consent, and only people who consented are sent"),
    "no_address": _("Left out: no e-mail address"),
    "invalid_address": _("Refused: not a valid e-mail address (correct it on the contact)"),
}


def request_preview(configuration, user=None):
    """Queue the count of what Initialize would do with the configuration's current settings."""
    return request_job(configuration.shop_id, JobKind.PREVIEW_INITIALIZE, user=user, **preview_params(configuration))


def preview_context(configuration):
    """None before any preview of the current audience, else the job and its rows."""
    if configuration.is_initialized or not (configuration.pk and configuration.list_id):
        return None
    job = latest_preview(configuration)
    if job is None:
        return None
    context = {"job": job, "waiting": job.status in JobStatus.OPEN, "done": job.status == JobStatus.DONE}
    figures = job.result or {}
    if context["done"] and figures:
        contacts = figures["contacts"]
        context.update(
            figures=figures,
            contact_total=sum(contacts.values()),
            contact_rows=[(key, CONTACT_LABELS[key], contacts.get(key, 0)) for key in CONTACT_FIGURES
                          if contacts.get(key) or key in ("existing_member", "subscribed", "transactional")],
            member_statuses=sorted(figures["member_statuses"].items()),
            members_text=ungettext("%(count)d member", "%(count)d members", figures["members"]) % {
                "count": figures["members"]},
        )
    return context
