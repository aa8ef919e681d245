"""The shop never waits on Mailchimp: storefront checkouts and admin contact saves on the demo's real
HTTP server, with the Mailchimp emulator hanging every request for 20 s, integration on vs off.

The demo runs from a fresh copy of the sources (its own var/), with the drainer as a thread inside
the web server (DELIVERY="background", the mode where a request could be held up) and again with
the demo's separate worker (DELIVERY="worker"). A request that called Mailchimp would take the
whole hang: the slowest request of each run is printed next to it.
"""
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests
from common import MISSED, QUICK, ROOT, ratio_line, size

from demo.shopper import admin_session, check_out
from tests.admin.forms import form_values
from tests.packaging.conftest import copy_sources
from tests.services.servers import free_port

HANG_SECONDS = 20
REQUESTS = size("BENCH_REQUEST_COUNT", 3, 3)
ROUNDS = size("BENCH_REQUEST_ROUNDS", 2, 1)


class Demo:
    def __init__(self, directory, delivery):
        self.shop_port, self.emulator_port = free_port(), free_port()
        self.shop_url = "http://127.0.0.1:%d/" % self.shop_port
        self.emulator_url = "http://127.0.0.1:%d/" % self.emulator_port
        self.directory = directory
        env = dict(os.environ, DEMO_PORT=str(self.shop_port), DEMO_EMULATOR_PORT=str(self.emulator_port),
                   SHOOP_MAILCHIMP_DEMO_DELIVERY=delivery, PYTHONUNBUFFERED="1",
                   # Tables made from the models: Shuup's migrations would take a minute of the bench's ten.
                   SHOOP_MAILCHIMP_DEMO_TABLES_FROM_MODELS="1")
        env.pop("DJANGO_SETTINGS_MODULE", None)
        self.process = subprocess.Popen([sys.executable, "demo/run.py"], cwd=directory, env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output = []
        threading.Thread(target=lambda: self.output.extend(self.process.stdout), daemon=True).start()
        deadline = time.monotonic() + 600
        while "Ctrl-C stops" not in "".join(self.output):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the demo did not start:\n" + "".join(self.output))
            time.sleep(0.5)
        self.product_path = re.search(r"buy the Chimp mug: http://[^/]+(/\S+)\)", "".join(self.output)).group(1)
        with open(os.path.join(directory, "var", "demo-admin-password")) as handle:
            self.admin = admin_session(self.shop_url, "admin", handle.read().strip())

    def database(self, sql, *params):
        with sqlite3.connect(os.path.join(self.directory, "var", "demo.sqlite3"), timeout=60) as connection:
            return connection.execute(sql, params).fetchall()

    def set_integration(self, enabled):
        """As the shop owner switches it: the Mailchimp section of the shop's edit page, saved in the web
        process, which then records changes (or stops) at once."""
        [(shop_id,)] = self.database("SELECT shop_id FROM shoop_mailchimp_mailchimpconfiguration")
        url = self.shop_url + "sa/shops/%d/" % shop_id
        data = form_values(self.admin.get(url, timeout=60).text, "shop_form")
        data.pop("mailchimp-enabled", None)
        if enabled:
            data["mailchimp-enabled"] = "on"
        data["csrfmiddlewaretoken"] = self.admin.cookies["csrftoken"]
        response = self.admin.post(url, data=data, headers={"Referer": url}, timeout=60)
        assert response.history and response.history[0].status_code == 302, response.text[:2000]
        assert self.database("SELECT enabled FROM shoop_mailchimp_mailchimpconfiguration") == [(int(enabled),)]

    def hang_mailchimp(self):
        response = requests.post(self.emulator_url + "_emulator/faults", timeout=10,
                                 json={"kind": "hang", "seconds": HANG_SECONDS})
        assert response.status_code == 200, response.text

    def mailchimp_requests(self):
        return len(requests.get(self.emulator_url + "_emulator/requests", timeout=30).json())

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def save_contact(demo, contact_id, number):
    """The admin's contact edit page, submitted with a changed first name."""
    url = demo.shop_url + "sa/contacts/%d/edit/" % contact_id
    data = form_values(demo.admin.get(url, timeout=60).text, "contact_form")
    data["base-first_name"] = "Ada %d" % number
    data["csrfmiddlewaretoken"] = demo.admin.cookies["csrftoken"]
    response = demo.admin.post(url, data=data, headers={"Referer": url}, timeout=60)
    assert response.status_code == 200 and "/edit/" not in response.url, response.text[:2000]


def timed_requests(work):
    """The seconds each of REQUESTS requests took."""
    durations = []
    for number in range(REQUESTS):
        started = time.monotonic()
        work(number)
        durations.append(time.monotonic() - started)
    return durations


def run(delivery, sources):
    demo = Demo(sources, delivery)
    ok = True
    try:
        [(contact_id,)] = demo.database("SELECT id FROM shuup_contact WHERE email = 'ada.lovelace@gmail.com'")
        checkout = lambda number: check_out(demo.shop_url, demo.product_path)  # noqa: E731
        contact_save = lambda number: save_contact(demo, contact_id, number)  # noqa: E731
        demo.hang_mailchimp()
        before = demo.mailchimp_requests()
        # Rounds alternate off and on, so that whatever drifts meanwhile (the database growing, the machine's
        # other work) weighs on both sides alike.
        durations = {(enabled, what): [] for enabled in (False, True) for what in ("checkout", "contact save")}
        for _ in range(ROUNDS):
            for enabled in (False, True):
                demo.set_integration(enabled)
                durations[enabled, "checkout"] += timed_requests(checkout)
                durations[enabled, "contact save"] += timed_requests(contact_save)
        for what in ("checkout", "contact save"):
            on, off = statistics.median(durations[True, what]), statistics.median(durations[False, what])
            slowest = max(durations[True, what])
            ok &= ratio_line("%s (%s delivery), on / off, Mailchimp hanging" % (what, delivery), on / off, 1.10)
            ok &= ratio_line("  slowest %s, %s delivery, integration on (a call: %d s)"
                             % (what, delivery, HANG_SECONDS), slowest, HANG_SECONDS / 4, unit=" s")
        print("Mailchimp requests answered meanwhile (the drainer's, each held %d s): %d" % (
            HANG_SECONDS, demo.mailchimp_requests() - before))
    finally:
        demo.stop()
    return ok


def main():
    ok = True
    with tempfile.TemporaryDirectory(prefix="shoop-mailchimp-request-time-") as directory:
        migrated = None
        # At the quick size, only the drainer inside the web server: the mode where a request could wait.
        for delivery in ("background",) if QUICK else ("background", "worker"):
            sources = copy_sources(os.path.join(directory, delivery))
            if migrated:
                # The second demo starts on the first one's database: migrating again would take a minute.
                os.makedirs(os.path.join(sources, "var"), exist_ok=True)
                shutil.copy2(migrated, os.path.join(sources, "var", "demo.sqlite3"))
            ok &= run(delivery, sources)
            migrated = os.path.join(sources, "var", "demo.sqlite3")
    sys.exit(0 if ok else MISSED)


if __name__ == "__main__":
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    main()
