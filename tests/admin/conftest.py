import re
from html import unescape

from django.contrib.messages import get_messages
from django.urls import reverse

from tests.admin.forms import form_values


def url(name, **kwargs):
    """The address of one of the Mailchimp admin views."""
    return reverse("shuup_admin:shoop_mailchimp.%s" % name, kwargs=kwargs or None)


def messages_of(response):
    """The messages the view added (read from the request, before a redirect would show them)."""
    return [str(message) for message in get_messages(response.wsgi_request)]


def shop_edit_url(shop):
    return reverse("shuup_admin:shop.edit", kwargs={"pk": shop.pk})


def post_shop_form(client, shop, shop_fields=None, **mailchimp):
    """Submit the shop edit page as it renders, with the Mailchimp fields changed (None unticks or clears)
    and ``shop_fields`` ({name: value}) set as they are named in the form."""
    page = client.get(shop_edit_url(shop))
    assert page.status_code == 200
    data = form_values(page.content.decode("utf-8"), "shop_form")
    data.update(shop_fields or {})
    for name, value in mailchimp.items():
        key = "mailchimp-%s" % name
        if value is None or value is False:
            data.pop(key, None)
        else:
            data[key] = "on" if value is True else value
    return client.post(shop_edit_url(shop), data)


def field_error(response, field):
    """The error text shown in the form group of a Mailchimp field ("" when none)."""
    assert response.status_code == 200, "the form was accepted"
    html = response.content.decode("utf-8")
    start = html.index('for="id_mailchimp-%s"' % field)
    end = html.find('<div class="form-group', start)
    group = html[start:end if end > 0 else None]
    match = re.search(r'<div class="help-block error-block">(.*?)</div>', group, re.S)
    return unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def saved(response):
    return response.status_code == 302
