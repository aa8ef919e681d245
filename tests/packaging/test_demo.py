"""``make demo`` from a fresh copy: it starts, sells through its storefront, hears Mailchimp and stops."""

import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from demo.shopper import check_out
from shoop_mailchimp.testing.emulator import DEMO_API_KEY, DEMO_LIST_ID
from tests.services.servers import free_port

from .conftest import port_in_use

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(600)]


class Demo:
    """``demo/run.py`` running in ``directory``; its output collected line by line."""

    def __init__(self, directory, shop_port, emulator_port):
        env = dict(os.environ, DEMO_PORT=str(shop_port), DEMO_EMULATOR_PORT=str(emulator_port),
                   PYTHONUNBUFFERED="1")
        env.pop("DJANGO_SETTINGS_MODULE", None)
        self.process = subprocess.Popen([sys.executable, "demo/run.py"], cwd=directory, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self):
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self):
        return "".join(self.lines)

    def wait_for_output(self, text, timeout):
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.process.poll() is None, "the demo exited:\n" + self.output
            assert time.monotonic() < deadline, "no %r within %d s:\n%s" % (text, timeout, self.output)
            time.sleep(0.5)

    def children(self):
        """Process ids whose parent is the demo."""
        found = []
        for entry in os.listdir("/proc"):
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == self.process.pid:
                found.append(int(entry))
        return found


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def emulator_orders(emulator_url):
    state = requests.get(emulator_url + "_emulator/state", timeout=10).json()
    return [order for store in state[DEMO_API_KEY]["stores"].values() for order in store["orders"]]


def test_demo_from_a_fresh_copy(sources):
    assert not os.path.exists(os.path.join(sources, "var"))
    shop_port, emulator_port = free_port(), free_port()
    shop_url = "http://127.0.0.1:%d/" % shop_port
    emulator_url = "http://127.0.0.1:%d/" % emulator_port
    demo = Demo(sources, shop_port, emulator_port)
    children = []
    try:
        # The first start migrates a new SQLite database: about a minute.
        demo.wait_for_output("Ctrl-C stops", timeout=400)
        children = demo.children()
        assert len(children) == 3, demo.output  # the emulator, the Mailchimp worker, the Shuup server
        assert requests.get(shop_url + "sa/login/", timeout=30).status_code == 200
        assert requests.get(emulator_url + "3.0/ping", auth=("x", DEMO_API_KEY), timeout=10).status_code == 200

        product_path = re.search(r"buy the Chimp mug: http://[^/]+(/\S+)\)", demo.output).group(1)
        check_out(shop_url, product_path)
        deadline = time.monotonic() + 30
        while not emulator_orders(emulator_url) and time.monotonic() < deadline:
            time.sleep(0.5)  # the worker, not the checkout, sends it
        [order] = emulator_orders(emulator_url)
        assert order["order_total"] == 16.9  # 12.00 and 4.90 shipping, tax included

        # The unsubscribe printed at start reaches the shop's webhook.
        fired = requests.post(emulator_url + "_emulator/events", timeout=30, json={
            "api_key": DEMO_API_KEY, "list_id": DEMO_LIST_ID, "type": "unsubscribe", "email": "ada.lovelace@gmail.com"})
        assert fired.status_code == 200, fired.text
        [delivery] = fired.json()["deliveries"]
        assert delivery["url"].startswith(shop_url + "mailchimp/webhook/") and delivery["status"] == 200
    finally:
        demo.process.send_signal(signal.SIGTERM)
        demo.process.wait(timeout=30)
    assert demo.process.returncode == 0, demo.output
    assert "Stopping" in demo.output
    assert [pid for pid in children if alive(pid)] == []
    assert not port_in_use(shop_port) and not port_in_use(emulator_port)

    # A second start reuses the database; its emulator starts empty, and the shop sends everything to it again as
    # never sent (review nu57 F4): Ada's member is there again, her permission withdrawn by the unsubscribe above.
    again = Demo(sources, shop_port, emulator_port)
    try:
        again.wait_for_output("Ctrl-C stops", timeout=120)
        deadline = time.monotonic() + 60
        member = None
        while member is None and time.monotonic() < deadline:
            time.sleep(0.5)
            state = requests.get(emulator_url + "_emulator/state", timeout=10).json()
            member = next((member for member in state[DEMO_API_KEY]["lists"][DEMO_LIST_ID]["members"]
                           if member["email_address"] == "ada.lovelace@gmail.com"), None)
        assert member is not None and member["status"] != "subscribed", again.output
    finally:
        again.process.send_signal(signal.SIGTERM)
        again.process.wait(timeout=30)
    assert again.process.returncode == 0, again.output
