"""Mailchimp's webhook: unsubscribes, subscribes, bounces and e-mail changes made in Mailchimp reach the shop.

How it works
------------
Each shop has its own URL carrying a random secret (``MailchimpConfiguration.webhook_secret``)::

    https://shop.example.com/mailchimp/webhook/<shop id>/<secret>/

Mailchimp does not sign webhook deliveries, so the secret in the URL is what tells a delivery
from a forgery. A wrong or missing secret, or an unknown shop, gets 403 and changes nothing.

Initialization registers the URL with the audience when ``SHOOP_MAILCHIMP["WEBHOOK_BASE_URL"]``
names the shop's public address (for example ``"https://shop.example.com"``); otherwise the
admin log tells the URL to paste under Audience > Settings > Webhooks. The webhook listens to
changes made by the subscriber and by Mailchimp admins, not to API changes, so the shop's own
updates do not echo back.

Mailchimp checks a new URL with a GET (answered 200), then POSTs form-encoded events
(``type``, ``fired_at``, ``data[email]``, ``data[list_id]``, ...), waits 10 s at most and retries
anything but a 200 for about 75 minutes. The view therefore only touches the database, and
answers 200 to events it deliberately ignores (another audience, an unknown e-mail), logging them.
Malformed deliveries get 400.

What each event does (contacts are found by the e-mail last sent to Mailchimp, then by their
shop e-mail, case-insensitively):

- ``unsubscribe``: consent is withdrawn in the shop (``marketing_permission`` off) and the sync
  state records that Mailchimp holds ``unsubscribed`` with no consent. Nothing is sent back, and
  no later sync re-subscribes the member: only a new consent given in the shop does that.
- ``subscribe``: the member is ``subscribed``; the contact whose e-mail it is gets its consent
  recorded (this is also how a double opt-in confirmation completes).
- ``cleaned``: the address bounced; the sync state says ``cleaned`` and a warning is logged.
- ``upemail``: see :func:`handle_upemail`.
- ``profile`` and ``campaign``: logged only.

Repeated deliveries are harmless: every update sets a value, none toggles one.
"""
import hmac

from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from shuup.core.models import Contact

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.journal import log_event
from shoop_mailchimp.mailchimp.client import InvalidAPIKey, build_client
from shoop_mailchimp.mailchimp.errors import MailchimpError, MailchimpNotFound
from shoop_mailchimp.mailchimp.members import CLEANED, SUBSCRIBED, UNSUBSCRIBED
from shoop_mailchimp.models import LogKind, MailchimpConfiguration, SyncState
from shoop_mailchimp.models.configuration import generate_webhook_secret

URL_NAME = "shoop_mailchimp_webhook"
#: Front URLs are included under Shuup's "shuup" namespace.
VIEW_NAME = "shuup:%s" % URL_NAME

EVENTS = {"subscribe": True, "unsubscribe": True, "profile": True, "cleaned": True, "upemail": True,
          "campaign": False}
#: Not "api": the shop's own updates must not come back as webhooks.
SOURCES = {"user": True, "admin": True, "api": False}


class BadDelivery(Exception):
    """The POST is not a Mailchimp event this view understands (answered 400)."""


def webhook_url(configuration, base_url):
    """The absolute URL Mailchimp must call for this shop."""
    path = reverse(VIEW_NAME, kwargs={"shop_id": configuration.shop_id, "secret": configuration.webhook_secret})
    return base_url.rstrip("/") + path


#: Longer ids overflow the database's integers (SQLite raises OverflowError); no shop has one.
MAX_SHOP_ID_DIGITS = 18


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def mailchimp_webhook(request, shop_id, secret=None):
    configuration = None
    if len(shop_id) <= MAX_SHOP_ID_DIGITS:
        configuration = MailchimpConfiguration.objects.filter(shop_id=shop_id).first()
    if configuration is None or not secret or not hmac.compare_digest(
        configuration.webhook_secret.encode("utf-8"), secret.encode("utf-8")
    ):
        return HttpResponseForbidden("Forbidden")
    if request.method != "POST":
        return HttpResponse("OK", content_type="text/plain")
    try:
        event = parse_event(request.POST)
    except BadDelivery as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain")
    with transaction.atomic():
        handle_event(configuration, event)
    return HttpResponse("OK", content_type="text/plain")


# The webhook must keep working while the shop is in maintenance mode.
mailchimp_webhook.maintenance_mode_exempt = True

HANDLED_TYPES = ("subscribe", "unsubscribe", "profile", "cleaned", "upemail", "campaign")
NEEDS_EMAIL = ("subscribe", "unsubscribe", "profile", "cleaned")


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
    return {"type": event_type, "fired_at": form.get("fired_at", ""), "data": data, "merges": merges}


def handle_event(configuration, event):
    """Apply one event and write one log entry for it."""
    data = event["data"]
    extra = {"type": event["type"], "fired_at": event["fired_at"], "list_id": data.get("list_id", "")}
    if data.get("list_id") != configuration.list_id:
        log_event(configuration.shop_id, "webhook.ignored",
                  "Ignored a %s event for audience %r: this shop uses %r."
                  % (event["type"], data.get("list_id", ""), configuration.list_id), extra=extra)
        return
    handler = HANDLERS.get(event["type"], handle_log_only)
    action, message, kind, contact_ids, details = handler(configuration, event)
    extra.update(details)
    log_event(configuration.shop_id, action, message, kind=kind, extra=extra,
              contact_id=contact_ids[0] if len(contact_ids) == 1 else None)


def matching_states(shop_id, email):
    """Contact sync states for this e-mail: by the e-mail last sent, else by the contacts' e-mail."""
    states = SyncState.objects.contacts().filter(shop_id=shop_id, erase=False)
    by_sent_email = list(states.filter(email__iexact=email))
    if by_sent_email:
        return by_sent_email
    contact_ids = Contact.objects.filter(email__iexact=email).values_list("pk", flat=True)
    return list(states.filter(object_id__in=list(contact_ids)))


def matching_contact_ids(shop_id, email):
    """Contacts behind these states, plus contacts with that e-mail that were never sent."""
    contact_ids = {state.object_id for state in matching_states(shop_id, email)}
    contact_ids.update(Contact.objects.filter(email__iexact=email).values_list("pk", flat=True))
    return sorted(contact_ids)


def _no_contact(event):
    email = event["data"].get("email") or event["data"].get("old_email", "")
    return ("webhook.%s" % event["type"], "%s event for %s: no contact has this e-mail" % (event["type"], email),
            LogKind.INFO, [], {"email": email, "matched": 0})


def handle_unsubscribe(configuration, event):
    email = event["data"]["email"]
    contact_ids = matching_contact_ids(configuration.shop_id, email)
    if not contact_ids:
        return _no_contact(event)
    # A queryset update: no post_save, so nothing is recorded and nothing is sent back.
    withdrawn = Contact.objects.filter(pk__in=contact_ids, marketing_permission=True).update(
        marketing_permission=False
    )
    SyncState.objects.contacts().filter(shop_id=configuration.shop_id, object_id__in=contact_ids).update(
        opt_in=False, member_status=UNSUBSCRIBED
    )
    reason = event["data"].get("reason", "")
    return ("webhook.unsubscribe",
            "%s unsubscribed in Mailchimp%s; marketing permission withdrawn for %d of %d contacts"
            % (email, " (%s)" % reason if reason else "", withdrawn, len(contact_ids)),
            LogKind.INFO, contact_ids, {"email": email, "matched": len(contact_ids), "changed": withdrawn,
                                        "reason": reason})


def handle_subscribe(configuration, event):
    email = event["data"]["email"]
    contact_ids = matching_contact_ids(configuration.shop_id, email)
    if not contact_ids:
        return _no_contact(event)
    owners = list(Contact.objects.filter(pk__in=contact_ids, email__iexact=email).values_list("pk", flat=True))
    granted = Contact.objects.filter(pk__in=owners, marketing_permission=False).update(marketing_permission=True)
    states = SyncState.objects.contacts().filter(shop_id=configuration.shop_id, object_id__in=contact_ids)
    states.update(member_status=SUBSCRIBED)
    states.filter(object_id__in=owners).update(opt_in=True)
    return ("webhook.subscribe",
            "%s subscribed in Mailchimp; marketing permission given for %d of %d contacts"
            % (email, granted, len(contact_ids)),
            LogKind.INFO, contact_ids, {"email": email, "matched": len(contact_ids), "changed": granted})


def handle_cleaned(configuration, event):
    email = event["data"]["email"]
    states = matching_states(configuration.shop_id, email)
    if not states:
        return _no_contact(event)
    contact_ids = sorted(state.object_id for state in states)
    SyncState.objects.filter(pk__in=[state.pk for state in states]).update(member_status=CLEANED)
    reason = event["data"].get("reason", "")
    return ("webhook.cleaned",
            "Mailchimp cleaned %s (%s): marketing e-mails to it stopped" % (email, reason or "bounced"),
            LogKind.WARNING, contact_ids, {"email": email, "matched": len(contact_ids), "reason": reason})


def handle_upemail(configuration, event):
    """The subscriber changed their e-mail in Mailchimp: later syncs address the member by the new one.

    The shop contact's e-mail is left alone on purpose: it is the person's login and identity in
    the shop, and rewriting it from outside would lock people out or collide with another account
    using that address. The admin log shows the change so staff can update the contact.
    """
    old_email, new_email = event["data"]["old_email"], event["data"]["new_email"]
    states = matching_states(configuration.shop_id, old_email)
    if not states:
        return _no_contact(event)
    contact_ids = sorted(state.object_id for state in states)
    SyncState.objects.filter(pk__in=[state.pk for state in states]).update(email=new_email)
    return ("webhook.upemail",
            "E-mail changed in Mailchimp: %s → %s (the shop contact's e-mail is unchanged)" % (old_email, new_email),
            LogKind.INFO, contact_ids, {"old_email": old_email, "new_email": new_email, "matched": len(contact_ids)})


def handle_profile(configuration, event):
    email = event["data"]["email"]
    contact_ids = sorted(state.object_id for state in matching_states(configuration.shop_id, email))
    return ("webhook.profile", "%s updated their profile in Mailchimp" % email, LogKind.INFO, contact_ids,
            {"email": email, "merges": event["merges"]})


def handle_log_only(configuration, event):
    return ("webhook.%s" % event["type"], "Mailchimp sent a %s event" % event["type"], LogKind.INFO, [],
            {"data": event["data"]})


HANDLERS = {
    "unsubscribe": handle_unsubscribe,
    "subscribe": handle_subscribe,
    "cleaned": handle_cleaned,
    "upemail": handle_upemail,
    "profile": handle_profile,
}


def register_webhook(configuration, journal):
    """Make Mailchimp call this shop's webhook URL; never fatal: problems go to the log.

    Reuses a webhook already pointing at the URL, so running initialization twice registers once.
    """
    base_url = get_setting("WEBHOOK_BASE_URL")
    if not base_url:
        journal.add("webhook.register",
                    "SHOOP_MAILCHIMP['WEBHOOK_BASE_URL'] is not set, so no webhook was registered. To receive "
                    "unsubscribes from Mailchimp, add a webhook under Audience > Settings > Webhooks with the "
                    "URL shown on the Mailchimp status page.")
        return None
    url = webhook_url(configuration, base_url)
    client = build_client(configuration)
    try:
        webhook_id = _find_or_create_webhook(client, configuration.list_id, url)
    except (MailchimpError, ValueError) as error:
        journal.error("webhook.register", error, extra={"url": masked(url, configuration)})
        return None
    finally:
        client.close()
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(webhook_id=webhook_id)
    configuration.webhook_id = webhook_id
    journal.add("webhook.register", "Mailchimp calls %s on subscribes, unsubscribes, bounces and e-mail changes"
                % masked(url, configuration), extra={"webhook_id": webhook_id})
    return webhook_id


def rotate_webhook_secret(configuration, journal):
    """Give the webhook a new secret, then move Mailchimp's webhook to the new URL.

    The new secret is saved first, so a leaked URL is refused from that moment even when Mailchimp
    cannot be reached. The new webhook is registered before the old one is deleted, so a failure
    between the two calls leaves one working webhook, not none; until then ``webhook_id`` keeps
    naming the old one, so the next rotation deletes it. Returns the new webhook's id, or None when
    Mailchimp was not updated (the journal says why).
    """
    old_webhook_id = configuration.webhook_id
    configuration.webhook_secret = generate_webhook_secret()
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(webhook_secret=configuration.webhook_secret)
    journal.add("webhook.rotate", "The webhook secret was replaced: the old webhook URL is refused from now on")
    if not configuration.is_initialized:
        return None
    try:
        webhook_id = register_webhook(configuration, journal)
    except InvalidAPIKey as error:  # malformed, or unreadable with the configured ENCRYPTION_KEYS
        journal.error("webhook.register", error)
        return None
    if webhook_id and old_webhook_id and old_webhook_id != webhook_id:
        _delete_webhook(configuration, old_webhook_id, journal)
    return webhook_id


def _delete_webhook(configuration, webhook_id, journal):
    client = build_client(configuration)
    try:
        client._delete(url="lists/%s/webhooks/%s" % (configuration.list_id, webhook_id))
    except MailchimpNotFound:
        pass  # deleted in Mailchimp already
    except MailchimpError as error:
        journal.error("webhook.delete", error, extra={"webhook_id": webhook_id})
        return
    finally:
        client.close()
    journal.add("webhook.delete", "Mailchimp no longer calls the old webhook URL", extra={"webhook_id": webhook_id})


def webhook_registered(configuration, url):
    """Whether the audience still has a webhook calling ``url``: someone may delete it in Mailchimp,
    and then unsubscribes made there stop reaching the shop. Raises MailchimpError."""
    client = build_client(configuration, timeout=get_setting("ON_COMMIT_TIMEOUT"))
    try:
        existing = client._get(url="lists/%s/webhooks" % configuration.list_id) or {}
    finally:
        client.close()
    return any(webhook.get("url") == url for webhook in existing.get("webhooks", []))


def masked(url, configuration):
    """The URL as logs may show it: the secret is what guards the endpoint."""
    return url.replace(configuration.webhook_secret, "<secret>")


def _find_or_create_webhook(client, list_id, url):
    path = "lists/%s/webhooks" % list_id
    existing = client._get(url=path) or {}
    for webhook in existing.get("webhooks", []):
        if webhook.get("url") == url:
            return webhook["id"]
    # Posted without mailchimp3's own URL check, which refuses hosts without a top-level domain
    # (intranet names, test servers) before Mailchimp's answer, which is the one that counts.
    created = client._post(url=path, data={"url": url, "events": EVENTS, "sources": SOURCES})
    return created["id"]
