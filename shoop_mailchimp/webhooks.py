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

What each event does (applied by :mod:`shoop_mailchimp.member_events`, the reconciliation's path too)
------------------------------------------------------------------------------------------------
Contacts are looked up among this shop's contacts only, by the e-mail last sent to Mailchimp, then
by their shop e-mail, case-insensitively. Nothing here ever gives consent: consent is given in the
shop (see docs/consent.rst).

- ``unsubscribe`` (``data[action]`` ``unsub``): the person withdrew. The shop's consent is
  withdrawn (``marketing_permission`` off) and the sync state records ``unsubscribed``. Nothing is
  sent back, and no later sync re-subscribes the member: only a new consent given in the shop does
  that (through Mailchimp's confirmation e-mail).
- ``unsubscribe`` with ``data[action]`` ``delete``: an admin archived or deleted the member in
  Mailchimp. That is not the person's choice: the shop's consent is left alone, and the member is
  recorded as archived (and sent nothing until consent is given or withdrawn: see docs/consent.rst).
- ``subscribe``: recorded (the member is subscribed in Mailchimp), but it does not give consent in
  the shop: it may come from an admin, and a double opt-in confirmation completes consent the shop
  already holds. A member (``data[id]``, its ``unique_email_id``) other than the one the contact's
  sends wrote at the address was created again in Mailchimp since: the row learns it is not the
  contact's (``foreign_member``, see :func:`member_events.learn_member`).
- ``cleaned``: the address bounced; recorded, and a warning is logged.
- ``upemail``: later syncs address the member by the new address (see :func:`handle_upemail`).
- ``profile``: logged.

An event fired before the newest fact the shop holds for the contact (an earlier event, or a
consent change the shop sent) is ignored and logged: a late or replayed delivery never wins.
Repeated deliveries are harmless: every update sets a value, none toggles one.

Other apps can listen to :data:`mailchimp_event_received`.
"""
import hmac
from datetime import datetime

import django.dispatch
from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from shoop_mailchimp.member_events import handle_event
from shoop_mailchimp.models import MailchimpConfiguration, SyncState
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
#: The longest e-mail address there is (RFC 5321): an upemail's new address is kept in the contact's sync state.
MAX_ADDRESS = SyncState._meta.get_field("email").max_length


class BadDelivery(Exception):
    """The POST is not a Mailchimp event this view understands (answered 400)."""


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
            if result.action == "webhook.upemail":
                schedule_delivery(self.configuration.shop_id)  # sent to the new address after the commit
            for shop_id in result.due_shop_ids:  # a withdrawal sent to the other shops' audiences, carts deleted
                schedule_delivery(shop_id)
        mailchimp_event_received.send(sender=self.__class__, configuration=self.configuration, event=event,
                                      result=result)
        return HttpResponse("OK", content_type="text/plain")


mailchimp_webhook = MailchimpWebhookView.as_view()
# The webhook must keep working while the shop is in maintenance mode.
mailchimp_webhook.maintenance_mode_exempt = True


def parse_fired_at(value):
    """Mailchimp's ``fired_at`` (UTC, "2009-03-26 21:35:57") as an aware datetime; now when absent, and now when
    later than now (Mailchimp's clock ahead of the shop's, a replayed delivery): a fact dated in the future would
    make every real event after it, fired by then, look stale and be ignored (an unsubscribe among them)."""
    now = timezone.now()
    if not value:
        return now
    try:
        fired_at = timezone.make_aware(datetime.strptime(value.strip(), FIRED_AT_FORMAT), timezone.utc)
    except ValueError:
        raise BadDelivery("fired_at %r is not a Mailchimp time (%s)." % (value[:40], FIRED_AT_FORMAT))
    return min(fired_at, now)


def parse_event(form):
    """``type``, ``fired_at`` and the ``data[...]`` fields as a flat dict (``merges`` nested)."""
    event_type = form.get("type", "")
    if any("\x00" in value for values in form.lists() for value in values[1]):
        # No address or name holds one; PostgreSQL refuses it in any query (a server error, not an answer).
        raise BadDelivery("A field contains a NUL character.")
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
    if event_type == "upemail" and len(data["new_email"]) > MAX_ADDRESS:
        raise BadDelivery("data[new_email] is longer than an e-mail address can be (%d characters)." % MAX_ADDRESS)
    return {"type": event_type, "fired_at": parse_fired_at(form.get("fired_at", "")), "data": data,
            "merges": merges}
