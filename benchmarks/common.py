"""Shared set-up for the benchmarks: Django on a fresh database, the emulator, a configured shop."""
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

#: Exit status of a benchmark that ran to its end and missed a target (a crash exits with 1).
MISSED = 3

#: ``make bench-quick`` (BENCH_QUICK=1): every benchmark at a small size, for CI; ratios only.
QUICK = bool(os.environ.get("BENCH_QUICK"))


def size(variable, full, quick):
    """A benchmark's size: the environment's ``variable`` when set, else the full or the quick default."""
    return int(os.environ.get(variable) or (quick if QUICK else full))


def database_name():
    """"postgresql" when run.py aims the benchmarks at its PostgreSQL (BENCH_PG_PORT), else "sqlite"."""
    return "postgresql" if os.environ.get("BENCH_PG_PORT") else "sqlite"


def setup_django():
    """Django on an empty database: a new SQLite file (a copy of run.py's empty one, made once: creating
    Shuup's tables takes seconds), or PostgreSQL's schema emptied (unless BENCH_PG_COPIED says that run.py made
    the database as a copy of one with every table and no rows)."""
    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    template = os.environ.get("BENCH_SQLITE_TEMPLATE")
    database = settings.DATABASES["default"]
    copied = (template and database["ENGINE"].endswith("sqlite3") and database["NAME"] != template
              and not os.path.exists(database["NAME"]))
    if copied:
        shutil.copyfile(template, database["NAME"])
    django.setup()
    if connection.vendor == "postgresql":
        copied = bool(os.environ.get("BENCH_PG_COPIED"))
        if not copied:
            with connection.cursor() as cursor:
                cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    if not copied:  # a copy of the template has every table already
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


def switch_integration(configuration, on):
    """The integration on, or off as a shop without it: "Send changes" unticked still records every change
    (sent when ticked again), so off also takes the audience away (a configuration without one records
    nothing). Saved as the shop page saves it: the shops that record are looked up again."""
    if not on and configuration.list_id:
        _SWITCHED_OFF_AUDIENCES[configuration.pk] = configuration.list_id
    configuration.enabled = on
    configuration.list_id = _SWITCHED_OFF_AUDIENCES.get(configuration.pk, configuration.list_id) if on else ""
    configuration.save()


#: {configuration id: its audience} while switched off by :func:`switch_integration`.
_SWITCHED_OFF_AUDIENCES = {}


def insert_people(count, prefix, permission=lambda number: True, first_name="B%d"):
    """``count`` person contacts e-mailed ``<prefix><number>@gmail.com``, inserted in a few statements as a
    shop's existing customers (each in Shuup's default person group, as a save would put them). No signal
    fires: nothing is recorded for Mailchimp. Creating 50,000 one by one takes minutes; this, seconds.
    Returns their ids."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction
    from django.db.models import Max
    from django.utils import timezone
    from shuup.core.models import Contact, PersonContact

    person_type = ContentType.objects.get_for_model(PersonContact)
    group = PersonContact().get_default_group()
    now = timezone.now()
    table = connection.ops.quote_name(PersonContact._meta.db_table)
    with transaction.atomic():
        first = (Contact.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        ids = list(range(first, first + count))
        # 5,000 at a time: the memory benchmarks measure the sync, not 50,000 model instances made here.
        for start in range(0, count, 5000):
            chunk = list(enumerate(ids))[start:start + 5000]
            Contact._base_manager.bulk_create([
                Contact(id=pk, polymorphic_ctype=person_type, created_on=now, is_active=True, _language="",
                        marketing_permission=permission(number), email="%s%d@gmail.com" % (prefix, number),
                        name="%s Example" % (first_name % number))
                for number, pk in chunk
            ], batch_size=500)
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO %s (contact_ptr_id, gender, first_name, last_name) VALUES (%%s, %%s, %%s, %%s)"
                    % table, [(pk, "u", first_name % number, "Example") for number, pk in chunk])
            Contact.groups.through.objects.bulk_create(
                [Contact.groups.through(contactgroup_id=group.pk, contact_id=pk) for _, pk in chunk], batch_size=500)
    return ids


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
        # Two minutes: started at the lowest CPU priority (the memory figures') beside busy benchmarks, it can take
        # well over thirty seconds to import; it is stopped when it never answers (not left running).
        deadline = time.time() + 120
        while True:
            try:
                self.http.get(self.control + "stats", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if time.time() > deadline or self.process.poll() is not None:
                    self.stop()
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
