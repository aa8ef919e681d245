"""Mailchimp's webhook: unsubscribes, bounces and e-mail changes made in Mailchimp reach the shop.

How it works
------------
Each shop has its own URL carrying a random secret (``MailchimpConfiguration.webhook_secret``)::

    https://shop.example.com/mailchimp/webhook/<shop id>/<secret>/

Mailchimp does not sign webhook deliveries, so the secret in the URL is what tells a delivery
from a forgery. A wrong or missing secret, or an unknown shop, gets 403 and changes nothing.
Mailchimp checks a new URL with a GET (answered 200 at once), then POSTs form-encoded events
(``type``, ``fired_at``, ``data[email]``, ``data[list_id]``, ...), waits 10 s at most and retries
anything but a 200 for about 75 minutes. The view therefore only touches the database, and
answers 200 to events it deliberately ignores (another audience, an unknown e-mail, an event older
than what the shop knows), logging them. Malformed deliveries get 400.

What each event does
--------------------
Contacts are looked up among this shop's contacts only, by the e-mail last sent to Mailchimp, then
by their shop e-mail, case-insensitively. Nothing here ever gives consent: consent is given in the
shop (see docs/consent.rst).

- ``unsubscribe`` (``data[action]`` ``unsub``): the person withdrew. The shop's consent is
  withdrawn (``marketing_permission`` off) and the sync state records ``unsubscribed``. Nothing is
  sent back, and no later sync re-subscribes the member: only a new consent given in the shop does
  that (through Mailchimp's confirmation e-mail).
- ``unsubscribe`` with ``data[action]`` ``delete``: an admin archived or deleted the member in
  Mailchimp. That is not the person's choice: the shop's consent is left alone, and the member is
  recorded as archived.
- ``subscribe``: recorded (the member is subscribed in Mailchimp), but it does not give consent in
  the shop: it may come from an admin, and a double opt-in confirmation completes consent the shop
  already holds.
- ``cleaned``: the address bounced; recorded, and a warning is logged.
- ``upemail``: later syncs address the member by the new address (see :func:`handle_upemail`).
- ``profile``: logged.

An event fired before the newest fact the shop holds for the contact (an earlier event, or a
consent change the shop sent) is ignored and logged: a late or replayed delivery never wins.
Repeated deliveries are harmless: every update sets a value, none toggles one.

Other apps can listen to :data:`mailchimp_event_received`.
"""
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import List

import django.dispatch
from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from shoop_mailchimp.journal import log_event
from shoop_mailchimp.mailchimp.members import ARCHIVED, CLEANED, SUBSCRIBED, UNSUBSCRIBED
from shoop_mailchimp.models import LogKind, MailchimpConfiguration, SyncState
from shoop_mailchimp.shops import shop_contacts
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.delivery import schedule_delivery

URL_NAME = "shoop_mailchimp_webhook"

#: Sent after an event was applied: ``sender`` is the view class, with ``configuration``, ``event``
#: (the parsed delivery) and ``result`` (:class:`EventResult`).
mailchimp_event_received = django.dispatch.Signal()

HANDLED_TYPES = ("subscribe", "unsubscribe", "profile", "cleaned", "upemail", "campaign")
NEEDS_EMAIL = ("subscribe", "unsubscribe", "profile", "cleaned")
FIRED_AT_FORMAT = "%Y-%m-%d %H:%M:%S"
#: Longer ids overflow the database's integers (SQLite raises OverflowError); no shop has one.
MAX_SHOP_ID_DIGITS = 18


class BadDelivery(Exception):
    """The POST is not a Mailchimp event this view understands (answered 400)."""


@dataclass
class EventResult:
    """What one event did to the shop: the log entry's action, message and kind, and the contacts."""

    action: str
    message: str
    kind: str = LogKind.INFO
    contact_ids: List[int] = field(default_factory=list)
    details: dict = field(default_factory=dict)


@method_decorator(csrf_exempt, name="dispatch")
class MailchimpWebhookView(View):
    http_method_names = ["get", "head", "post"]

    def dispatch(self, request, shop_id, secret=None):
        configuration = None
        if len(shop_id) <= MAX_SHOP_ID_DIGITS:
            configuration = MailchimpConfiguration.objects.filter(shop_id=shop_id).first()
        if configuration is None or not secret or not hmac.compare_digest(
            configuration.webhook_secret.encode("utf-8"), secret.encode("utf-8")
        ):
            return HttpResponseForbidden("Forbidden")
        self.configuration = configuration
        return super().dispatch(request)

    def get(self, request):
        """Mailchimp checks a new webhook URL with a GET: answered at once, touching nothing."""
        return HttpResponse("OK", content_type="text/plain")

    def post(self, request):
        try:
            event = parse_event(request.POST)
        except BadDelivery as error:
            return HttpResponseBadRequest(str(error), content_type="text/plain")
        with transaction.atomic():
            result = handle_event(self.configuration, event)
        mailchimp_event_received.send(sender=self.__class__, configuration=self.configuration, event=event,
                                      result=result)
        return HttpResponse("OK", content_type="text/plain")


mailchimp_webhook = MailchimpWebhookView.as_view()
# The webhook must keep working while the shop is in maintenance mode.
mailchimp_webhook.maintenance_mode_exempt = True


def parse_fired_at(value):
    """Mailchimp's ``fired_at`` (UTC, "2009-03-26 21:35:57") as an aware datetime; now when absent."""
    if not value:
        return timezone.now()
    try:
        return timezone.make_aware(datetime.strptime(value.strip(), FIRED_AT_FORMAT), timezone.utc)
    except ValueError:
        raise BadDelivery("fired_at %r is not a Mailchimp time (%s)." % (value[:40], FIRED_AT_FORMAT))


def parse_event(form):
    """``type``, ``fired_at`` and the ``data[...]`` fields as a flat dict (``merges`` nested)."""
    event_type = form.get("type", "")
    if event_type not in HANDLED_TYPES:
        raise BadDelivery("Unknown or missing event type %r." % event_type[:40])
    data, merges = {}, {}
    for key, value in form.items():
        if key.startswith("data[merges][") and key.endswith("]"):
            merges[key[len("data[merges]["):-1]] = value
        elif key.startswith("data[") and key.endswith("]") and "][" not in key:
            data[key[len("data["):-1]] = value.strip()
    if event_type in NEEDS_EMAIL and not data.get("email"):
        raise BadDelivery("A %s event needs data[email]." % event_type)
    if event_type == "upemail" and not (data.get("old_email") and data.get("new_email")):
        raise BadDelivery("An upemail event needs data[old_email] and data[new_email].")
    return {"type": event_type, "fired_at": parse_fired_at(form.get("fired_at", "")), "data": data,
            "merges": merges}


def handle_event(configuration, event):
    """Apply one event and write one log entry for it; returns its :class:`EventResult`."""
    data = event["data"]
    extra = {"type": event["type"], "fired_at": event["fired_at"].isoformat(), "list_id": data.get("list_id", "")}
    if data.get("list_id") != configuration.list_id:
        result = EventResult("webhook.ignored", "Ignored a %s event for audience %r: this shop uses %r."
                             % (event["type"], data.get("list_id", ""), configuration.list_id))
    else:
        result = HANDLERS.get(event["type"], handle_log_only)(configuration, event)
    extra.update(result.details)
    log_event(configuration.shop_id, result.action, result.message, kind=result.kind, extra=extra,
              contact_id=result.contact_ids[0] if len(result.contact_ids) == 1 else None)
    return result


def matching_states(shop_id, email):
    """This shop's contact sync states for the e-mail: by the e-mail last sent, else by the contacts' e-mail."""
    states = SyncState.objects.contacts().filter(shop_id=shop_id, erase=False)
    by_sent_email = list(states.filter(email__iexact=email))
    if by_sent_email:
        return by_sent_email
    contact_ids = shop_contacts(shop_id).filter(email__iexact=email).values_list("pk", flat=True)
    return list(states.filter(object_id__in=list(contact_ids)))


def _no_contact(event):
    email = event["data"].get("email") or event["data"].get("old_email", "")
    return EventResult("webhook.%s" % event["type"], "%s event for %s: no contact of this shop has this e-mail"
                       % (event["type"], email), details={"email": email, "matched": 0})


def _current(event, states):
    """Whether no state holds a fact newer than the event. Mailchimp's ``fired_at`` has whole seconds:
    a fact from the same second counts as older, so the event applies."""
    fired_at = event["fired_at"]
    return not any(moment and moment.replace(microsecond=0) > fired_at for row in states for moment in (
        row.mailchimp_fact_at, row.consent_sent_at))


def _stale(event, states):
    contact_ids = sorted(row.object_id for row in states)
    return EventResult(
        "webhook.stale", "Ignored a %s event fired at %s: the shop already holds a newer state for this contact"
        % (event["type"], event["fired_at"].isoformat()), kind=LogKind.WARNING, contact_ids=contact_ids,
        details={"matched": len(contact_ids)})


def handle_unsubscribe(configuration, event):
    email = event["data"]["email"]
    states = matching_states(configuration.shop_id, email)
    contact_ids = sorted({row.object_id for row in states} | set(
        shop_contacts(configuration.shop_id).filter(email__iexact=email).values_list("pk", flat=True)))
    if not contact_ids:
        return _no_contact(event)
    if not _current(event, states):
        return _stale(event, states)
    if event["data"].get("action") == "delete":
        state.apply_mailchimp_fact([row.pk for row in states], event["fired_at"], member_status=ARCHIVED)
        return EventResult(
            "webhook.archived", "%s was archived or deleted by an admin in Mailchimp; the shop's marketing "
            "permission is unchanged" % email, LogKind.WARNING, contact_ids, {"email": email, "action": "delete"})
    # A queryset update: no post_save, so nothing is recorded and nothing is sent back.
    withdrawn = shop_contacts(configuration.shop_id).filter(pk__in=contact_ids, marketing_permission=True).update(
        marketing_permission=False)
    state.apply_mailchimp_fact([row.pk for row in states], event["fired_at"], opt_in=False,
                               member_status=UNSUBSCRIBED)
    reason = event["data"].get("reason", "")
    return EventResult(
        "webhook.unsubscribe", "%s unsubscribed in Mailchimp%s; marketing permission withdrawn for %d of %d contacts"
        % (email, " (%s)" % reason if reason else "", withdrawn, len(contact_ids)),
        LogKind.INFO, contact_ids, {"email": email, "matched": len(contact_ids), "changed": withdrawn,
                                    "reason": reason})


def handle_subscribe(configuration, event):
    email = event["data"]["email"]
    states = matching_states(configuration.shop_id, email)
    if not states:
        return _no_contact(event)
    if not _current(event, states):
        return _stale(event, states)
    confirmed = [row.object_id for row in states if row.member_status == "pending"]
    state.apply_mailchimp_fact([row.pk for row in states], event["fired_at"], member_status=SUBSCRIBED)
    contact_ids = sorted(row.object_id for row in states)
    return EventResult(
        "webhook.subscribe",
        ("%s confirmed the subscription the shop asked for" % email) if confirmed else (
            "%s was subscribed in Mailchimp; the shop's marketing permission is unchanged (consent is given in "
            "the shop)" % email),
        LogKind.INFO, contact_ids, {"email": email, "matched": len(contact_ids), "confirmed": len(confirmed)})


def handle_cleaned(configuration, event):
    email = event["data"]["email"]
    states = matching_states(configuration.shop_id, email)
    if not states:
        return _no_contact(event)
    if not _current(event, states):
        return _stale(event, states)
    state.apply_mailchimp_fact([row.pk for row in states], event["fired_at"], member_status=CLEANED)
    reason = event["data"].get("reason", "")
    contact_ids = sorted(row.object_id for row in states)
    return EventResult("webhook.cleaned", "Mailchimp cleaned %s (%s): marketing e-mails to it stopped"
                       % (email, reason or "bounced"), LogKind.WARNING, contact_ids,
                       {"email": email, "matched": len(contact_ids), "reason": reason})


def handle_upemail(configuration, event):
    """The subscriber changed their e-mail in Mailchimp: later syncs address the member by the new one.

    The shop contact's e-mail is left alone on purpose: it is the person's login and identity in
    the shop, and rewriting it from outside would lock people out or collide with another account
    using that address. The admin log shows the change so staff can update the contact. A send under
    way when the event arrives does not undo it, and the contact is sent again to the new address.
    """
    old_email, new_email = event["data"]["old_email"], event["data"]["new_email"]
    states = matching_states(configuration.shop_id, old_email)
    if not states:
        return _no_contact(event)
    if not _current(event, states):
        return _stale(event, states)
    state.apply_mailchimp_fact([row.pk for row in states], event["fired_at"], resend=True, email=new_email)
    schedule_delivery(configuration.shop_id)
    contact_ids = sorted(row.object_id for row in states)
    return EventResult(
        "webhook.upemail", "E-mail changed in Mailchimp: %s → %s (the shop contact's e-mail is unchanged)"
        % (old_email, new_email), LogKind.INFO, contact_ids,
        {"old_email": old_email, "new_email": new_email, "matched": len(contact_ids)})


def handle_profile(configuration, event):
    email = event["data"]["email"]
    contact_ids = sorted(row.object_id for row in matching_states(configuration.shop_id, email))
    return EventResult("webhook.profile", "%s updated their profile in Mailchimp" % email, LogKind.INFO,
                       contact_ids, {"email": email, "merges": event["merges"]})


def handle_log_only(configuration, event):
    return EventResult("webhook.%s" % event["type"], "Mailchimp sent a %s event" % event["type"],
                       details={"data": event["data"]})


HANDLERS = {
    "unsubscribe": handle_unsubscribe,
    "subscribe": handle_subscribe,
    "cleaned": handle_cleaned,
    "upemail": handle_upemail,
    "profile": handle_profile,
}
