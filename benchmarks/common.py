"""Shared set-up for the benchmarks: Django on a fresh database, the emulator, a configured shop."""
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")


def setup_django():
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)


def start_emulator():
    from shoop_mailchimp.testing.emulator import Emulator

    emulator = Emulator(require_spec=True).start()
    api_key = emulator.add_account()
    list_id = emulator.add_list(api_key)
    return emulator, api_key, list_id


def configure_shop(emulator, api_key, list_id, delivery="worker"):
    from django.conf import settings
    from shuup.testing.factories import get_default_shop

    from shoop_mailchimp.initialization import initialize
    from shoop_mailchimp.models import MailchimpConfiguration

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, API_BASE_URL=emulator.base_url, DELIVERY=delivery)
    shop = get_default_shop()
    configuration, _ = MailchimpConfiguration.objects.update_or_create(
        shop=shop, defaults={"api_key": api_key, "list_id": list_id, "enabled": True}
    )
    initialize(configuration)
    return configuration


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def ratio_line(name, value, target, unit="x", lower_is_better=True):
    ok = value <= target if lower_is_better else value >= target
    print("%-62s %8.2f%s  (target %s %s%s)  %s" % (
        name, value, unit, "<=" if lower_is_better else ">=", target, unit, "ok" if ok else "MISSED"
    ))
    return ok

