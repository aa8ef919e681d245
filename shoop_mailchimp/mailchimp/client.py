"""The one place that builds a Mailchimp client: base URL, timeout, user agent, connection reuse.

mailchimp3 does the URL building per resource; this subclass replaces its transport so that
every call has a timeout, reuses connections, respects the per-key connection limit, never
logs payloads (mailchimp3 logs personal data at INFO), never follows a redirect (Mailchimp's API
does not redirect; whatever does sits between us and it) and raises this app's exceptions.
"""
import re
from urllib.parse import urlsplit

import requests
from mailchimp3 import MailChimp
from requests.adapters import HTTPAdapter

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.mailchimp.errors import (
    MailchimpError,
    error_from_exception,
    error_from_redirect,
    error_from_response,
)
from shoop_mailchimp.mailchimp.limits import connection_slot

API_KEY_PATTERN = re.compile(r"^[0-9a-f]{32}-[a-z]+[0-9]+$")


class InvalidAPIKey(MailchimpError):
    """The key cannot be a Mailchimp API key; nothing was sent."""


def check_api_key_format(api_key):
    if not api_key or not API_KEY_PATTERN.match(api_key.strip()):
        raise InvalidAPIKey(
            "This is not a Mailchimp API key: it should be 32 hexadecimal characters, a dash and the "
            "data centre, like 0123456789abcdef0123456789abcdef-us21 (Account > Extras > API keys)."
        )
    return api_key.strip()


class MailchimpClient(MailChimp):
    def __init__(self, api_key, base_url=None, timeout=None):
        api_key = check_api_key_format(api_key)
        super().__init__(
            mc_api=api_key,
            timeout=timeout or get_setting("TIMEOUT"),
            request_headers={
                "User-Agent": get_setting("USER_AGENT"),
                "Accept": "application/json",
            },
        )
        base_url = base_url or get_setting("API_BASE_URL")
        if base_url:
            self.base_url = base_url.rstrip("/") + "/"
        self.api_key_id = api_key[-8:]
        self.session = requests.Session()
        # Enough pooled keep-alive connections for every request the per-key cap lets through at once.
        adapter = HTTPAdapter(pool_maxsize=get_setting("MAX_CONNECTIONS"))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def _make_request(self, **kwargs):
        method = kwargs["method"]
        path = urlsplit(kwargs["url"]).path
        with connection_slot(self.api_key_id):
            try:
                response = self.session.request(allow_redirects=False, **kwargs)
            except requests.RequestException as exc:
                raise error_from_exception(exc, method, path) from None
        if response.status_code >= 400:
            raise error_from_response(response, method, path)
        if not 200 <= response.status_code < 300:
            raise error_from_redirect(response, method, path)
        if response.status_code == 204 or not response.content:
            # mailchimp3 calls .json() on 204 answers to PUT/PATCH/GET.
            response._content = b"null"
        else:
            try:
                response.json()
            except ValueError as exc:
                raise error_from_exception(exc, method, path) from None
        return response

    def close(self):
        self.session.close()


def build_client(configuration, timeout=None):
    """A client for a shop's :class:`~shoop_mailchimp.models.MailchimpConfiguration`."""
    return MailchimpClient(configuration.api_key, timeout=timeout)
