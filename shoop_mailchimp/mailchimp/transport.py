"""The one place that talks HTTP to Mailchimp: base URL, timeout, user agent, connection reuse, limits.

mailchimp3 checks the API key and names its data centre's URL; the calls themselves go through a
``urllib3`` pool of ours, because mailchimp3 3.0.21 cannot carry them: its writes take no query
parameters (``skip_merge_validation``), it opens a connection per call, follows redirects (dropping
the Authorization header), decodes 204 answers as JSON and logs every payload (personal data) at
INFO. ``urllib3`` rather than ``requests`` (on which it stands): ``requests`` spent about 2 ms of
Python per call on cookies, hooks and response objects this client never uses, which held the
per-key connection slots 4% longer and kept a concurrent drain under 95 of its 100 requests/s at
100 ms latency (docs/performance.rst). Operations are plain ``(method, path, body, params)`` so that
the same plan runs one call at a time here or inside a Mailchimp batch.
"""
import base64
import json
import os
import re
from urllib.parse import urlencode, urlsplit

import requests
import urllib3
from mailchimp3 import MailChimp
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_auth_from_url, prepend_scheme_if_needed, select_proxy

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.mailchimp.errors import (
    InvalidAPIKey,
    MailchimpTransportError,
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
        credentials = "%s:%s" % (reference.auth.username, reference.auth.password)
        self.headers = {
            "Authorization": "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii"),
            "User-Agent": get_setting("USER_AGENT"),
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
        }
        self.pool = _pool(self.base_url, self.timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        self.pool.clear()

    def run(self, operation):
        """Perform ``operation``; returns the decoded JSON answer (None when empty). Raises MailchimpError."""
        url = self.base_url + operation.path
        path = urlsplit(url).path
        params = {name: value for name, value in operation.params.items() if value is not None}
        if params:
            url += "?" + urlencode(params, doseq=True)
        headers = self.headers
        body = None
        if operation.body is not None:
            body = json.dumps(operation.body).encode("utf-8")
            headers = dict(headers, **{"Content-Type": "application/json"})
        try:
            # The slot is held while the request is on the wire and its answer is read, no longer: the
            # per-key cap is spent on Mailchimp's time.
            with connection_slot(self.key_id):
                response = self.pool.urlopen(operation.method, url, body=body, headers=headers, redirect=False,
                                             retries=False)
        except urllib3.exceptions.HTTPError as exc:
            raise error_from_exception(exc, operation.method, path) from exc
        if response.status >= 400:
            raise error_from_response(response.status, response.data, operation.method, path)
        if not 200 <= response.status < 300:
            # Mailchimp's API never redirects; something between us and it does (a proxy, a captive
            # portal). Following would drop the credentials, and the answer is not Mailchimp's.
            raise error_from_redirect(response.status, response.headers.get("Location"), operation.method, path)
        if response.status == 204 or not response.data:
            return None
        try:
            return json.loads(response.data)
        except ValueError as exc:
            raise error_from_exception(exc, operation.method, path) from exc

    def get(self, path, **params):
        return self.run(Operation("GET", path, params=params))

    def post(self, path, body):
        return self.run(Operation("POST", path, body))

    def patch(self, path, body, **params):
        return self.run(Operation("PATCH", path, body, params))

    def delete(self, path):
        return self.run(Operation("DELETE", path))


def _pool(base_url, timeout):
    """Keep-alive connections for every request the per-key cap lets through at once, through the proxy and
    with the CA bundle the environment names (HTTPS_PROXY, ALL_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE), read
    once, as ``requests`` reads them. A proxy that cannot be used is a transport error, raised here."""
    environment = requests.Session().merge_environment_settings(base_url, {}, None, None, None)
    verify = environment["verify"]
    connect, read = timeout if isinstance(timeout, (tuple, list)) else (timeout, timeout)
    options = dict(maxsize=get_setting("MAX_CONNECTIONS"), timeout=urllib3.Timeout(connect=connect, read=read),
                   cert_reqs="CERT_REQUIRED")
    if isinstance(verify, str) and os.path.isdir(verify):
        options["ca_cert_dir"] = verify
    else:
        options["ca_certs"] = verify if isinstance(verify, str) else DEFAULT_CA_BUNDLE_PATH
    proxy = select_proxy(base_url, environment["proxies"])
    if not proxy:
        return urllib3.PoolManager(**options)
    proxy = prepend_scheme_if_needed(proxy, "http")
    try:
        if proxy.lower().startswith("socks"):
            from urllib3.contrib.socks import SOCKSProxyManager  # needs PySocks (pip install urllib3[socks])

            return SOCKSProxyManager(proxy, **options)
        username, password = get_auth_from_url(proxy)
        proxy_headers = (urllib3.util.make_headers(proxy_basic_auth="%s:%s" % (username, password))
                         if username or password else None)
        return urllib3.ProxyManager(proxy, proxy_headers=proxy_headers, **options)
    except (ImportError, ValueError, urllib3.exceptions.HTTPError) as exc:  # ProxySchemeUnknown is a ValueError
        raise MailchimpTransportError("The proxy the environment names cannot be used (%s: %s)"
                                      % (exc.__class__.__name__, exc)) from exc


def open_session(configuration, timeout=None):
    """A session for a shop's :class:`~shoop_mailchimp.models.MailchimpConfiguration`. Refused (raises its
    ``site_mismatch``) on a copy of the database running on another site than the one it was initialized on:
    every path to Mailchimp passes here, so a staging copy cannot write to production's audience. A configuration
    initialized where no site was known learns the one it talks from here (``learn_site``)."""
    configuration.learn_site()
    mismatch = configuration.site_mismatch
    if mismatch is not None:
        raise mismatch
    return MailchimpSession(configuration.api_key, timeout=timeout)
