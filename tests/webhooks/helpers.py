"""Deliveries shaped exactly like Mailchimp's: form-encoded, flattened ``data[...]`` keys."""
from django.urls import reverse
from django.utils import timezone

from shoop_mailchimp.webhook_registration import VIEW_NAME


def webhook_path(configuration, secret=None):
    return reverse(VIEW_NAME, kwargs={
        "shop_id": configuration.shop_id,
        "secret": configuration.webhook_secret if secret is None else secret,
    })


def fired_now():
    """Mailchimp's ``fired_at`` for an event happening now (UTC, whole seconds)."""
    return timezone.now().strftime("%Y-%m-%d %H:%M:%S")


def mailchimp_form(event_type, list_id, fired_at=None, **data):
    form = {"type": event_type, "fired_at": fired_at or fired_now(), "data[list_id]": list_id}
    for key, value in data.items():
        if isinstance(value, dict):
            form.update({"data[%s][%s]" % (key, inner): inner_value for inner, inner_value in value.items()})
        else:
            form["data[%s]" % key] = value
    return form


def post_event(client, configuration, event_type, secret=None, **data):
    return client.post(webhook_path(configuration, secret), mailchimp_form(event_type, configuration.list_id, **data))


def configure_with_live_webhook(settings, live_server, shop, mailchimp_account, **options):
    """An initialized configuration whose webhook Mailchimp (the emulator) calls on the live server.

    Shuup's front middleware creates the anonymous contacts' group on its first request, and the
    sync sends that new group to Mailchimp. Created here first, so that the live server's first
    request (Mailchimp's verification GET, answered while the emulator holds its lock) sends nothing.
    """
    from shuup.core.models import AnonymousContact

    from shoop_mailchimp.initialization import initialize
    from shoop_mailchimp.models import MailchimpConfiguration

    AnonymousContact.get_default_group()
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, WEBHOOK_BASE_URL=live_server.url)
    configuration = MailchimpConfiguration.objects.create(
        shop=shop, api_key=api_key, list_id=list_id, enabled=True, **options
    )
    initialize(configuration)
    configuration.refresh_from_db()
    return configuration
