import base64
import logging

import pytest
import urllib3

from shoop_mailchimp.mailchimp import resources
from shoop_mailchimp.mailchimp.errors import (
    InvalidAPIKey,
    MailchimpAuthError,
    MailchimpNotFound,
    MailchimpRateLimited,
    MailchimpTransportError,
)
from shoop_mailchimp.mailchimp.transport import MailchimpSession, Operation

#: An https address for the tests that only build a session's connection pool (nothing is sent): how the
#: environment's proxy and CA settings are read for a host that is not the local emulator.
REMOTE_BASE_URL = "https://mailchimp.example.invalid/3.0/"
REMOTE_KEY = "0123456789abcdef0123456789abcdef-us21"


@pytest.fixture
def client(mailchimp_account, mailchimp_settings):
    emulator, api_key, list_id = mailchimp_account
    return MailchimpSession(api_key)


def test_client_uses_base_url_user_agent_and_timeout(client, mailchimp_account, settings):
    emulator = mailchimp_account[0]
    assert client.base_url == emulator.base_url
    assert client.timeout == settings.SHOOP_MAILCHIMP["TIMEOUT"]
    assert resources.ping(client)["health_status"]
    assert client.headers["User-Agent"].startswith("shoop-mailchimp/")


def test_bad_key_format_is_refused_before_any_request(mailchimp_settings):
    with pytest.raises(InvalidAPIKey, match="32 hexadecimal"):
        MailchimpSession("not-a-key")


def test_wrong_key_is_an_auth_error_that_explains_itself(mailchimp_account, mailchimp_settings):
    wrong_key = "f" * 32 + "-us1"
    with pytest.raises(MailchimpAuthError) as raised:
        resources.ping(MailchimpSession(wrong_key))
    error = raised.value
    assert error.status == 401
    assert "API Key Invalid" in str(error)
    assert wrong_key not in str(error) and wrong_key not in repr(error.as_log_data())


def test_missing_list_is_not_found(client):
    with pytest.raises(MailchimpNotFound) as raised:
        resources.get_list(client, "doesnotexist")
    assert "Resource Not Found" in str(raised.value)
    assert "GET /3.0/lists/doesnotexist" in str(raised.value)


def test_throttling_and_transport_errors_are_transient(client, mailchimp_account):
    emulator = mailchimp_account[0]
    emulator.faults.fail("/ping", status=429, times=1)
    with pytest.raises(MailchimpRateLimited) as raised:
        resources.ping(client)
    assert raised.value.transient
    emulator.faults.fail("/ping", status=403, title="Forbidden", detail="You have been throttled", times=1)
    with pytest.raises(MailchimpRateLimited):
        resources.ping(client)
    emulator.faults.down()
    try:
        with pytest.raises(MailchimpTransportError) as raised:
            resources.ping(client)
    finally:
        emulator.faults.up()
    assert raised.value.transient


def test_hang_beyond_timeout_is_a_transport_error(mailchimp_account, mailchimp_settings):
    emulator, api_key, _ = mailchimp_account
    emulator.faults.hang(3, path_pattern="/ping")
    client = MailchimpSession(api_key, timeout=(1, 0.5))
    with pytest.raises(MailchimpTransportError, match="did not answer in time"):
        resources.ping(client)


def test_no_payload_or_key_reaches_python_logging(client, mailchimp_account, caplog):
    caplog.set_level(logging.DEBUG)
    resources.ping(client)
    client.run(Operation("PUT", resources.member_path(resources.list_audiences(client)[0][0], "person@fastmail.com"),
                         {"email_address": "person@fastmail.com", "status_if_new": "transactional"}))
    text = caplog.text
    assert "person@fastmail.com" not in text
    assert mailchimp_account[1] not in text


def test_the_environment_names_the_proxy_and_the_ca_bundle(monkeypatch, mailchimp_settings):
    """Read once, when the session is made (as requests would read them for every call)."""
    monkeypatch.setenv("HTTPS_PROXY", "http://user:secret@proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    pool = MailchimpSession(REMOTE_KEY, base_url=REMOTE_BASE_URL).pool
    assert isinstance(pool, urllib3.ProxyManager)
    assert pool.proxy.host == "proxy.example" and pool.proxy.port == 3128
    assert pool.proxy_headers["proxy-authorization"].startswith("Basic ")
    assert pool.connection_pool_kw["ca_certs"] == "/etc/ssl/certs/ca-certificates.crt"
    monkeypatch.setenv("NO_PROXY", "example.invalid")
    assert not isinstance(MailchimpSession(REMOTE_KEY, base_url=REMOTE_BASE_URL).pool,
                          urllib3.ProxyManager)


@pytest.mark.parametrize("proxy, host, credentials", [
    ("proxy.example:3128", "proxy.example", None),  # no scheme: as curl and requests read it, http
    ("http://us%40r:p%40ss%3Aw@proxy.example:3128", "proxy.example", "us@r:p@ss:w"),  # sent decoded
])
def test_a_proxy_is_read_as_requests_reads_it(monkeypatch, mailchimp_settings, proxy, host, credentials):
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    pool = MailchimpSession(REMOTE_KEY, base_url=REMOTE_BASE_URL).pool
    assert pool.proxy.scheme == "http" and pool.proxy.host == host
    expected = "Basic " + base64.b64encode(credentials.encode()).decode() if credentials else None
    assert pool.proxy_headers.get("proxy-authorization") == expected


def test_an_unusable_proxy_is_a_transport_error(monkeypatch, mailchimp_settings):
    monkeypatch.setenv("HTTPS_PROXY", "ftp://proxy.example:21")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(MailchimpTransportError, match="proxy"):
        MailchimpSession(REMOTE_KEY, base_url=REMOTE_BASE_URL)


def test_a_ca_directory_is_used_as_a_directory(monkeypatch, mailchimp_settings, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path))
    pool = MailchimpSession(REMOTE_KEY, base_url=REMOTE_BASE_URL).pool
    assert pool.connection_pool_kw["ca_cert_dir"] == str(tmp_path) and "ca_certs" not in pool.connection_pool_kw


def test_parameters_without_a_value_are_not_sent(client, mailchimp_account):
    emulator = mailchimp_account[0]
    emulator.clear_requests()
    client.get("ping", fields="health_status", exclude_fields=None)
    assert emulator.requests[-1]["query"] == {"fields": "health_status"}
