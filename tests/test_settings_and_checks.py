import pytest
from django.core.exceptions import ImproperlyConfigured

from shoop_mailchimp.checks import check_settings
from shoop_mailchimp.conf import get_delivery_mode, get_setting


def test_settings_are_read_lazily(settings):
    settings.SHOOP_MAILCHIMP = {"TIMEOUT": (1, 2)}
    assert get_setting("TIMEOUT") == (1, 2)
    settings.SHOOP_MAILCHIMP = {}
    assert get_setting("TIMEOUT") == (5, 30)


def test_unknown_setting_keys_are_reported(settings):
    settings.SHOOP_MAILCHIMP = {"TIMEOUTS": 5, "DELIVERY": "worker"}
    problems = [problem for problem in check_settings() if problem.id == "shoop_mailchimp.W003"]
    assert len(problems) == 1 and "TIMEOUTS" in problems[0].msg and "DELIVERY" not in problems[0].msg


def test_unknown_delivery_mode_is_named(settings):
    settings.SHOOP_MAILCHIMP = {"DELIVERY": "carrier-pigeon"}
    with pytest.raises(ImproperlyConfigured, match="DELIVERY"):
        get_delivery_mode()
    assert "shoop_mailchimp.E002" in [problem.id for problem in check_settings()]


def test_system_checks(settings):
    settings.SHOOP_MAILCHIMP = {"TIMEOUT": None, "API_BASE_URL": "http://127.0.0.1:1/"}
    ids = {problem.id for problem in check_settings()}
    assert {"shoop_mailchimp.E004", "shoop_mailchimp.W001"} <= ids
    settings.SHOOP_MAILCHIMP = {}
    assert check_settings() == []
    settings.SHOOP_MAILCHIMP = {"ENCRYPTION_KEYS": "one string, not a list"}
    assert [p.id for p in check_settings()] == ["shoop_mailchimp.E006"]


def test_a_lease_shorter_than_three_requests_is_reported(settings):
    settings.SHOOP_MAILCHIMP = {"TIMEOUT": (5, 30), "LEASE_SECONDS": 60}
    assert "shoop_mailchimp.W005" in {problem.id for problem in check_settings()}
    settings.SHOOP_MAILCHIMP = {"TIMEOUT": (5, 30), "LEASE_SECONDS": 300}
    assert "shoop_mailchimp.W005" not in {problem.id for problem in check_settings()}


@pytest.mark.parametrize("interval, reported", [(3600, False), (None, False), (0, False), ("hourly", True),
                                                (-5, True), (True, True)])
def test_a_reconcile_interval_that_is_no_number_of_seconds_is_reported(settings, interval, reported):
    settings.SHOOP_MAILCHIMP = {"RECONCILE_INTERVAL": interval}
    assert ("shoop_mailchimp.E007" in {problem.id for problem in check_settings()}) is reported


@pytest.mark.parametrize("threshold, reported", [(None, False), (0, False), (1000, False), (-1, True), ("500", True),
                                                 (True, True), (2.5, True)])
def test_a_burst_threshold_that_is_no_count_of_contacts_is_reported(settings, threshold, reported):
    settings.SHOOP_MAILCHIMP = {"BURST_THRESHOLD": threshold}
    assert ("shoop_mailchimp.E008" in {problem.id for problem in check_settings()}) is reported


def test_a_cache_that_keeps_nothing_is_a_warning(settings):
    """Found by review: with DummyCache the newsletter block's rate limits silently did nothing."""
    from shoop_mailchimp.checks import check_storefront_cache

    assert check_storefront_cache() == []
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert [problem.id for problem in check_storefront_cache()] == ["shoop_mailchimp.W006"]


def test_the_attribution_middleware_placed_where_it_does_nothing_is_a_warning(settings):
    """Found by review: placed before ShuupFrontMiddleware the middleware silently left every cart without its
    campaign (docs/carts.rst says where it goes)."""
    from shoop_mailchimp.checks import ATTRIBUTION_MIDDLEWARE, check_attribution_middleware

    assert check_attribution_middleware() == []
    front = "shuup.front.middleware.ShuupFrontMiddleware"
    others = [entry for entry in settings.MIDDLEWARE if entry != ATTRIBUTION_MIDDLEWARE]
    settings.MIDDLEWARE = others[:others.index(front)] + [ATTRIBUTION_MIDDLEWARE] + others[others.index(front):]
    [problem] = check_attribution_middleware()
    assert problem.id == "shoop_mailchimp.W007" and "ShuupFrontMiddleware" in problem.msg
    settings.MIDDLEWARE = [ATTRIBUTION_MIDDLEWARE] + others
    assert [problem.id for problem in check_attribution_middleware()] == ["shoop_mailchimp.W007"] * 2
    settings.MIDDLEWARE = others
    assert check_attribution_middleware() == [], "not installed: nothing to place"


def test_a_missing_storefront_middleware_is_a_warning(settings):
    """Fourth review of issue 19 (aud6): without the middleware a consent given on Shuup's Customer Information page
    cannot be told from the staff's."""
    from shoop_mailchimp.checks import ATTRIBUTION_MIDDLEWARE, check_storefront_request_middleware

    assert check_storefront_request_middleware() == []
    settings.MIDDLEWARE = [entry for entry in settings.MIDDLEWARE if entry != ATTRIBUTION_MIDDLEWARE]
    [problem] = check_storefront_request_middleware()
    assert problem.id == "shoop_mailchimp.W008" and "Customer Information" in problem.msg
