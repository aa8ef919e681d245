"""System checks for settings mistakes that would otherwise surface as failed deliveries."""
from django.conf import settings
from django.core.checks import Error, Warning, register

from shoop_mailchimp.conf import DEFAULTS, DELIVERY_MODES, SETTING_NAME, get_setting


@register()
def check_settings(app_configs=None, **kwargs):
    problems = []
    configured = getattr(settings, SETTING_NAME, {})
    if not isinstance(configured, dict):
        return [Error("%s must be a dict." % SETTING_NAME, id="shoop_mailchimp.E001")]
    unknown = sorted(set(configured) - set(DEFAULTS))
    if unknown:
        problems.append(Warning(
            "%s has unknown keys: %s." % (SETTING_NAME, ", ".join(unknown)),
            hint="Known keys: %s (a typo is silently ignored otherwise)." % ", ".join(sorted(DEFAULTS)),
            id="shoop_mailchimp.W002",
        ))
    mode = get_setting("DELIVERY")
    if mode not in DELIVERY_MODES:
        problems.append(Error(
            "%s['DELIVERY'] is %r." % (SETTING_NAME, mode),
            hint="Use one of: %s." % ", ".join(DELIVERY_MODES),
            id="shoop_mailchimp.E002",
        ))
    if mode == "celery":
        try:
            import celery  # noqa: F401
        except ImportError:
            problems.append(Error(
                "%s['DELIVERY'] is 'celery' but Celery is not installed." % SETTING_NAME,
                hint="pip install shoop-mailchimp[celery]",
                id="shoop_mailchimp.E003",
            ))
    timeout = get_setting("TIMEOUT")
    if not timeout:
        problems.append(Error(
            "%s['TIMEOUT'] must be set: without it a call to Mailchimp can wait forever." % SETTING_NAME,
            id="shoop_mailchimp.E004",
        ))
    if len(getattr(settings, "MIRAGE_SECRET_KEY", "") or "") < 32:
        problems.append(Error(
            "MIRAGE_SECRET_KEY must be set (at least 32 characters): it encrypts stored API keys.",
            id="shoop_mailchimp.E005",
        ))
    base_url = get_setting("API_BASE_URL")
    if base_url and not base_url.rstrip("/").endswith("/3.0"):
        problems.append(Warning(
            "%s['API_BASE_URL'] (%r) does not end in /3.0/." % (SETTING_NAME, base_url),
            hint="Mailchimp's API root looks like https://us21.api.mailchimp.com/3.0/.",
            id="shoop_mailchimp.W001",
        ))
    return problems
