"""Shared set-up for the benchmarks: Django on a fresh database, the emulator, a configured shop."""
import os
import subprocess
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


class RemoteEmulator:
    """The emulator in a process of its own, as Mailchimp is: its CPU (spec validation) is not ours.

    Driven through its ``/_emulator/`` control API with the calls the benchmarks need.
    """

    def __init__(self):
        import socket

        import requests

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shoop_mailchimp.testing.emulator", "--port", str(port), "--require-spec"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.base_url = "http://127.0.0.1:%d/3.0/" % port
        self.control = "http://127.0.0.1:%d/_emulator/" % port
        self.http = requests.Session()
        self.faults = self
        deadline = time.time() + 30
        while True:
            try:
                self.http.get(self.control + "stats", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)

    def latency(self, seconds):
        self.http.post(self.control + "faults", json={"kind": "latency", "seconds": seconds}).raise_for_status()

    @property
    def requests(self):
        return self.http.get(self.control + "requests").json()

    def clear_requests(self):
        self.http.delete(self.control + "requests").raise_for_status()

    def reset_stats(self):
        self.http.delete(self.control + "stats").raise_for_status()

    @property
    def stats(self):
        return self.http.get(self.control + "stats").json()

    def stop(self):
        self.process.terminate()
        self.process.wait()
