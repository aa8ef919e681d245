"""Registering the shop's webhook with its audience, and checking now and then that it is still there.

Runs in the drainer (initialization, the periodic health check), never in a request. Which events
and sources are registered, and what each one does to the shop, is in :mod:`shoop_mailchimp.webhooks`.
"""
from django.urls import reverse
from django.utils import timezone

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.mailchimp import resources
from shoop_mailchimp.mailchimp.errors import MailchimpError
from shoop_mailchimp.mailchimp.transport import open_session
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.models.configuration import generate_webhook_secret

#: Front URLs are included under Shuup's "shuup" namespace.
VIEW_NAME = "shuup:shoop_mailchimp_webhook"

EVENTS = {"subscribe": True, "unsubscribe": True, "profile": True, "cleaned": True, "upemail": True,
          "campaign": False}
#: Changes made by the person (sign-up forms, unsubscribe links, profile pages) and by the audience's
#: admins in Mailchimp; not "api": the shop's own writes must not come back as events.
SOURCES = {"user": True, "admin": True, "api": False}

REGISTERED, MISSING, UNKNOWN = "registered", "missing", "unknown"


def webhook_url(configuration, base_url=None):
    """The absolute URL Mailchimp must call for this shop (with its secret: show it only to managers)."""
    base_url = base_url or get_setting("WEBHOOK_BASE_URL") or ""
    path = reverse(VIEW_NAME, kwargs={"shop_id": configuration.shop_id, "secret": configuration.webhook_secret})
    return base_url.rstrip("/") + path


def masked(url, configuration):
    """The URL as logs and view-only staff may see it: the secret is what guards the endpoint."""
    return url.replace(configuration.webhook_secret, "<secret>") if configuration.webhook_secret else url


def register_webhook(configuration, journal):
    """Make Mailchimp call this shop's webhook URL; never fatal: problems go to the log.

    Reuses a webhook already pointing at the URL, so running initialization twice registers once.
    """
    if not get_setting("WEBHOOK_BASE_URL"):
        journal.add("webhook.register",
                    "SHOOP_MAILCHIMP['WEBHOOK_BASE_URL'] is not set, so no webhook was registered. To receive "
                    "unsubscribes from Mailchimp, set it to the shop's public address and press Initialize again, "
                    "or add the webhook URL shown on the Mailchimp status page under Audience > Settings > Webhooks.")
        return None
    url = webhook_url(configuration)
    try:
        with open_session(configuration) as session:
            webhook_id = resources.find_webhook(session, configuration.list_id, url)
            if webhook_id is None:
                webhook_id = resources.create_webhook(session, configuration.list_id, url, EVENTS, SOURCES)
    except MailchimpError as error:
        journal.error("webhook.register", error, extra={"url": masked(url, configuration)})
        # This URL is not known to be called (after a rotation it surely is not): the status page warns
        # until a later check finds it.
        MailchimpConfiguration.objects.filter(pk=configuration.pk).update(
            webhook_state=MISSING, webhook_checked_on=timezone.now(), webhook_problem=str(error)[:2000])
        return None
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(
        webhook_id=webhook_id, webhook_state=REGISTERED, webhook_checked_on=timezone.now(), webhook_problem="")
    configuration.webhook_id = webhook_id
    journal.add("webhook.register", "Mailchimp calls %s on subscribes, unsubscribes, bounces and e-mail changes"
                % masked(url, configuration), extra={"webhook_id": webhook_id})
    return webhook_id


def check_webhook(configuration):
    """Whether the audience still calls the shop's webhook (someone may delete it in Mailchimp, and then
    unsubscribes made there stop reaching the shop); stored on the configuration for the status page."""
    url = webhook_url(configuration)
    try:
        with open_session(configuration) as session:
            found = resources.find_webhook(session, configuration.list_id, url) is not None
        result, problem = (REGISTERED if found else MISSING), ""
    except MailchimpError as error:
        result, problem = UNKNOWN, str(error)
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(
        webhook_state=result, webhook_problem=problem[:2000], webhook_checked_on=timezone.now())
    return result


def rotate_secret(configuration, journal):
    """Give the webhook a new secret (in the caller's transaction): a leaked URL is refused from now on.
    Returns the id of the webhook Mailchimp still calls at the old URL, for :func:`move_webhook`."""
    old_webhook_id = configuration.webhook_id
    configuration.webhook_secret = generate_webhook_secret()
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(webhook_secret=configuration.webhook_secret)
    journal.add("webhook.rotate", "The webhook secret was replaced: the old webhook URL is refused from now on")
    return old_webhook_id


def move_webhook(configuration, old_webhook_id, journal):
    """After a rotation: register the new URL, then delete the old webhook. In that order, a failure between
    the two leaves one working webhook, not none. Returns the new webhook's id, or None (the journal says why)."""
    webhook_id = register_webhook(configuration, journal)
    if not (webhook_id and old_webhook_id and old_webhook_id != webhook_id):
        return webhook_id
    try:
        with open_session(configuration) as session:
            resources.delete_webhook(session, configuration.list_id, old_webhook_id)
    except MailchimpError as error:
        journal.error("webhook.delete", error, extra={"webhook_id": old_webhook_id})
    else:
        journal.add("webhook.delete", "Mailchimp no longer calls the old webhook URL",
                    extra={"webhook_id": old_webhook_id})
    return webhook_id
