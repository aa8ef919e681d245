"""Deliveries shaped exactly like Mailchimp's: form-encoded, flattened ``data[...]`` keys."""
from django.urls import reverse

from shoop_mailchimp.webhooks import VIEW_NAME


def webhook_path(configuration, secret=None):
    return reverse(VIEW_NAME, kwargs={
        "shop_id": configuration.shop_id,
        "secret": configuration.webhook_secret if secret is None else secret,
    })


def mailchimp_form(event_type, list_id, **data):
    form = {"type": event_type, "fired_at": "2024-05-02 10:11:12", "data[list_id]": list_id}
    for key, value in data.items():
        if isinstance(value, dict):
            form.update({"data[%s][%s]" % (key, inner): inner_value for inner, inner_value in value.items()})
        else:
            form["data[%s]" % key] = value
    return form


def post_event(client, configuration, event_type, secret=None, **data):
    return client.post(webhook_path(configuration, secret), mailchimp_form(event_type, configuration.list_id, **data))
