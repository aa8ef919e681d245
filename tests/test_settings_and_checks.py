import pytest
from django.core.exceptions import ImproperlyConfigured

from shoop_mailchimp.checks import check_settings
from shoop_mailchimp.conf import get_delivery_mode, get_setting, require_setting


def test_settings_are_read_lazily(settings):
    settings.SHOOP_MAILCHIMP = {"TIMEOUT": (1, 2)}
    assert get_setting("TIMEOUT") == (1, 2)
    settings.SHOOP_MAILCHIMP = {}
    assert get_setting("TIMEOUT") == (5, 30)


def test_missing_setting_error_names_the_setting(settings):
    settings.SHOOP_MAILCHIMP = {}
    with pytest.raises(ImproperlyConfigured, match=r"SHOOP_MAILCHIMP\['WEBHOOK_BASE_URL'\]"):
        require_setting("WEBHOOK_BASE_URL")


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
