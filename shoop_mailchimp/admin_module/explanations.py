"""One plain sentence for an item that did not reach Mailchimp: what happened, whether it is tried
again by itself and when, and what the shop owner can do. Mailchimp's technical answer stays on
the row (``last_error_data``) for the "technical detail" the pages fold away.
"""
from django.utils.translation import ugettext as _
from shuup.core.templatetags.shuup_common import datetime as shuup_datetime

from shoop_mailchimp.mailchimp.errors import was_transient
from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync import kinds


def mailchimp_was_unavailable(error_data):
    """Whether the stored answer said "not now" rather than "not this" (Mailchimp down, slow or throttling),
    by the classification every send uses."""
    return was_transient(error_data)


def advice(state, button):
    """What the owner can do about an item that is no longer retried (its kind says); ``button`` names the page's
    own."""
    kind_module = kinds.BY_KIND.get(state.kind)
    if kind_module is None:
        return _("Press %(button)s to try again.") % {"button": button}
    return kind_module.ADMIN.advice % {"button": button}


def explain(state, button=None):
    """The sentence for a failed, retrying or left-out row; "" for one that needs nothing."""
    button = button or _("Resend")
    reason = state.last_error.strip().rstrip(".")
    if state.status == SyncStatus.FAILED and mailchimp_was_unavailable(state.last_error_data):
        return _("Mailchimp could not take it on any of %(attempts)d attempts (%(reason)s), so it is no longer "
                 "tried by itself. Press %(button)s once Mailchimp works again.") % {
            "attempts": state.attempts, "reason": reason, "button": button}
    if state.status == SyncStatus.FAILED:
        return _("Mailchimp refused it: %(reason)s. It is not tried again by itself. %(advice)s") % {
            "reason": reason, "advice": advice(state, button)}
    if state.status == SyncStatus.PENDING and state.attempts and reason:
        when = shuup_datetime(state.next_attempt_at)  # as the admin's |datetime writes every other time
        return _("Not delivered yet: %(reason)s. It is tried again by itself at %(when)s; "
                 "nothing needs doing.") % {"reason": reason, "when": when}
    if state.status == SyncStatus.SKIPPED and reason:
        return _("Left out on purpose: %(reason)s.") % {"reason": reason}
    return ""


def technical_detail(state):
    """Mailchimp's status, problem and the request (method and path; never the key), as short lines."""
    data = state.last_error_data or {}
    problem = data.get("problem") or {}
    lines = [
        " ".join(str(part) for part in (data.get("status"), problem.get("title")) if part),
        problem.get("detail") or "",
        "; ".join("%s: %s" % (error.get("field") or "-", error.get("message") or "")
                  for error in problem.get("errors") or ()),
        data.get("request") or "",
        data.get("cause") or data.get("exception") or "",
    ]
    return [line for line in lines if line]
