"""The one place that talks HTTP to Mailchimp: base URL, timeout, user agent, connection reuse, limits.

mailchimp3 checks the API key and names its data centre's URL; the calls themselves go through a
``requests`` session of ours, because mailchimp3 3.0.21 cannot carry them: its writes take no query
parameters (``skip_merge_validation``), it opens a connection per call, follows redirects (dropping
the Authorization header), decodes 204 answers as JSON and logs every payload (personal data) at
INFO. Operations are plain ``(method, path, body, params)`` so that the same plan runs one call at a
time here or inside a Mailchimp batch.
"""
import json
import re
from urllib.parse import urlsplit

import requests
from mailchimp3 import MailChimp
from requests.adapters import HTTPAdapter

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.mailchimp.errors import (
    InvalidAPIKey,
    error_from_exception,
    error_from_redirect,
    error_from_response,
)
from shoop_mailchimp.mailchimp.limits import connection_slot

API_KEY_PATTERN = re.compile(r"^[0-9a-f]{32}-[a-z]+[0-9]+$")


def check_api_key_format(api_key):
    if not api_key or not API_KEY_PATTERN.match(api_key.strip()):
        raise InvalidAPIKey(
            "This is not a Mailchimp API key: it should be 32 hexadecimal characters, a dash and the "
            "data centre, like 0123456789abcdef0123456789abcdef-us21 (Account > Extras > API keys)."
        )
    return api_key.strip()


class Operation:
    """One Mailchimp call: what a plan asks for, whichever transport carries it."""

    __slots__ = ("method", "path", "body", "params")

    def __init__(self, method, path, body=None, params=None):
        self.method = method
        self.path = path.lstrip("/")
        self.body = body
        self.params = params or {}

    def __repr__(self):
        return "<Operation %s /%s>" % (self.method, self.path)


class MailchimpSession:
    """Calls the Marketing API for one API key; close it (or use it as a context manager) when done."""

    def __init__(self, api_key, base_url=None, timeout=None):
        api_key = check_api_key_format(api_key)
        reference = MailChimp(mc_api=api_key)
        self.base_url = (base_url or get_setting("API_BASE_URL") or reference.base_url).rstrip("/") + "/"
        self.timeout = timeout or get_setting("TIMEOUT")
        self.key_id = api_key[-8:]
        self.session = requests.Session()
        self.session.auth = reference.auth
        self.session.headers.update({"User-Agent": get_setting("USER_AGENT"), "Accept": "application/json"})
        # Enough pooled keep-alive connections for every request the per-key cap lets through at once.
        adapter = HTTPAdapter(pool_maxsize=get_setting("MAX_CONNECTIONS"))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        # The environment (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE) is read once, here: requests would
        # read it, and ~/.netrc, again for every call, which a drain at 100 requests/s notices.
        environment = self.session.merge_environment_settings(self.base_url, {}, None, None, None)
        self.session.proxies.update(environment["proxies"])
        self.session.verify = environment["verify"]
        self.session.trust_env = False

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        self.session.close()

    def run(self, operation):
        """Perform ``operation``; returns the decoded JSON answer (None when empty). Raises MailchimpError."""
        url = self.base_url + operation.path
        path = urlsplit(url).path
        data = None if operation.body is None else json.dumps(operation.body)
        headers = {"Content-Type": "application/json"} if data is not None else None
        try:
            # Prepared before a connection slot is taken, decoded after it is given back: the slot is held
            # only while the request is on the wire, so the per-key cap is spent on Mailchimp's time.
            prepared = self.session.prepare_request(requests.Request(
                operation.method, url, params=operation.params or None, data=data, headers=headers))
            with connection_slot(self.key_id):
                response = self.session.send(prepared, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise error_from_exception(exc, operation.method, path) from exc
        if response.status_code >= 400:
            raise error_from_response(response, operation.method, path)
        if not 200 <= response.status_code < 300:
            # Mailchimp's API never redirects; something between us and it does (a proxy, a captive
            # portal). Following would drop the credentials, and the answer is not Mailchimp's.
            raise error_from_redirect(response, operation.method, path)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise error_from_exception(exc, operation.method, path) from exc

    def get(self, path, **params):
        return self.run(Operation("GET", path, params=params))

    def post(self, path, body):
        return self.run(Operation("POST", path, body))

    def put(self, path, body, **params):
        return self.run(Operation("PUT", path, body, params))

    def patch(self, path, body, **params):
        return self.run(Operation("PATCH", path, body, params))

    def delete(self, path):
        return self.run(Operation("DELETE", path))


def open_session(configuration, timeout=None):
    """A session for a shop's :class:`~shoop_mailchimp.models.MailchimpConfiguration`."""
    return MailchimpSession(configuration.api_key, timeout=timeout)
