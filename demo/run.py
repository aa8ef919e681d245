"""``make demo``: a Shuup shop on SQLite, synced to the bundled Mailchimp emulator. No account needed.

Serve mode (the default) starts the emulator, migrates ./var/demo.sqlite3, creates the admin user
and what a first sale needs, points the default shop at the emulator (registering its webhook),
then starts the Mailchimp worker (``mailchimp_sync --loop``) and the Shuup server, and waits for
Ctrl-C or SIGTERM, which stop all three.

``DEMO_WALK=1`` walks the story without a browser on ./var/demo-walk.sqlite3 and exits 0 only if
the shop and the emulator agree at the end.

Environment: DEMO_PORT (Shuup, 8000), DEMO_EMULATOR_PORT (8765), DEMO_WALK, and
DEMO_EMULATOR_LENIENT: emulator rules to switch off, comma-separated (all of Mailchimp's rules are
on by default; see docs/emulator.rst).
"""
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from base64 import b64encode

REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VAR_DIR = os.path.join(REPO_DIR, "var")
PASSWORD_FILE = os.path.join(VAR_DIR, "demo-admin-password")
ADMIN_USERNAME = "admin"
ADMIN_EMAIL = "shop.owner@fastmail.com"

sys.path.insert(0, REPO_DIR)


def say(message):
    print(message, flush=True)


def http_status(url, api_key=None, timeout=2):
    request = urllib.request.Request(url)
    if api_key:
        request.add_header("Authorization", "Basic " + b64encode(("demo:" + api_key).encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


def wait_for(url, process, what, api_key=None, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit("%s exited with code %s before answering at %s" % (what, process.returncode, url))
        if http_status(url, api_key) == 200:
            return
        time.sleep(0.3)
    raise SystemExit("%s did not answer at %s within %d s" % (what, url, timeout))


def port_free(port):
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def setup_django(database, api_base_url, webhook_base_url=None):
    """Configure Django in this process; the children started afterwards inherit the environment."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "demo.settings"
    os.environ["SHOOP_MAILCHIMP_DEMO_DB"] = database
    os.environ["SHOOP_MAILCHIMP_DEMO_API_BASE_URL"] = api_base_url
    if webhook_base_url:
        os.environ["SHOOP_MAILCHIMP_DEMO_WEBHOOK_BASE_URL"] = webhook_base_url
    import django

    django.setup()


def prepare_database():
    """Migrate (about a minute the first time), run shuup_init, set the shop up for its first sale
    and make the admin user."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from shuup import configuration
    from shuup.core.models import Shop

    from demo.storefront import ensure_storefront

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if settings.TABLES_FROM_MODELS:
        say("Making the tables of %s from the models (no migrations)..." % connection.settings_dict["NAME"])
        call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
    elif pending:
        say("Migrating %s: %d migrations (the first run takes about a minute on SQLite)..."
            % (connection.settings_dict["NAME"], len(pending)))
        started = time.time()
        call_command("migrate", interactive=False, verbosity=0)
        say("Migrated in %.0f s." % (time.time() - started))
    else:
        say("Database %s is up to date." % connection.settings_dict["NAME"])
    call_command("shuup_init", verbosity=0)
    shop = Shop.objects.get(identifier="default")
    ensure_storefront(shop)
    # The shop has what Shuup's setup wizard asks for; without this /sa/ would open the wizard.
    configuration.set(shop, "setup_wizard_complete", True)
    return ensure_admin()


def ensure_admin():
    """The admin user with the password kept in ./var/demo-admin-password (Django 2.2's createsuperuser
    cannot take a password non-interactively)."""
    from django.contrib.auth import get_user_model
    from shuup.core.models import Shop

    password = None
    if os.path.exists(PASSWORD_FILE):
        with open(PASSWORD_FILE) as handle:
            password = handle.read().strip() or None
    if password is None:
        password = secrets.token_urlsafe(12)
        with open(PASSWORD_FILE, "w") as handle:
            handle.write(password + "\n")
        os.chmod(PASSWORD_FILE, 0o600)
    # An address Mailchimp takes: the owner's contact (made at their first login) is sent like any other (review nu57
    # F5: example.com is refused as fake, and a fresh demo showed a failed item).
    user, _ = get_user_model().objects.get_or_create(username=ADMIN_USERNAME, defaults={"email": ADMIN_EMAIL})
    user.is_staff = user.is_superuser = user.is_active = True
    if not user.check_password(password):
        user.set_password(password)
    user.save()
    for shop in Shop.objects.all():
        shop.staff_members.add(user)
    return password


def configure_shop(api_key, list_id):
    """Aim the default shop at the emulator's demo account and run initialization.

    The emulator starts empty on every run while the database is kept: what the shop knew of the
    last run's audience (its members' statuses, ids and tags, the merge fields it created there) is
    forgotten, as for a move to another audience (review nu57 F4: the tags the shop thought applied
    were never sent to the new audience); initialization creates the store and interests again
    (mappings whose interest no longer exists are replaced) and reads the new audience's merge fields,
    and every contact, order and promo code is sent to the new emulator.
    """
    from shuup.core.models import Shop

    from shoop_mailchimp.initialization import initialize
    from shoop_mailchimp.models import ContactGroupInterest, MailchimpConfiguration, SyncKind
    from shoop_mailchimp.sync import state
    from shoop_mailchimp.sync.kinds.contact import forget_audience

    shop = Shop.objects.get(identifier="default")
    configuration, _ = MailchimpConfiguration.objects.get_or_create(shop=shop)
    if configuration.is_initialized:
        forget_audience(shop.pk)
        configuration.created_merge_fields = configuration.merge_fields_to_clear = None
        configuration.audience_merge_fields = configuration.merge_field_map = None
    configuration.api_key, configuration.list_id, configuration.enabled = api_key, list_id, True
    configuration.paused_reason = ""
    configuration.save()
    initialize(configuration)
    configuration.refresh_from_db()
    for kind in (SyncKind.GROUP, SyncKind.CONTACT, SyncKind.ORDER, SyncKind.PROMO):
        state.requeue_all(shop.pk, kind)
    mappings = ContactGroupInterest.objects.filter(shop=shop).count()
    say("Shop %r -> list %s, store %s, %d group interests." % (
        shop.identifier, configuration.list_id, configuration.store_id, mappings))
    return configuration


def missing_interests(configuration, interest_ids_in_mailchimp):
    from shoop_mailchimp.models import ContactGroupInterest

    return [
        (mapping.group_id, mapping.interest_id)
        for mapping in ContactGroupInterest.objects.filter(shop_id=configuration.shop_id)
        if mapping.interest_id not in interest_ids_in_mailchimp
    ]


def mailchimp_interest_ids(configuration):
    from shoop_mailchimp.mailchimp.transport import open_session
    from shoop_mailchimp.sync.kinds.group import interests_by_name
    from shoop_mailchimp.sync.transport.direct import drive

    with open_session(configuration) as session:
        found = drive(session, interests_by_name(configuration.list_id, configuration.interest_category_id))
    return set(found.values())


def drain():
    """One round of the drainer, as the demo's `mailchimp_sync --loop` process does."""
    from shoop_mailchimp.sync.rounds import run_due_work

    return run_due_work()


def lenient_rules():
    """The emulator rules DEMO_EMULATOR_LENIENT switches off (none by default: the demo is strict)."""
    return [name.strip() for name in os.environ.get("DEMO_EMULATOR_LENIENT", "").split(",") if name.strip()]


def ensure_sample_contacts():
    """Two contacts on the first run, so the admin has something to show."""
    from shuup.core.models import PersonContact

    samples = [("Ada", "Lovelace", "ada.lovelace@gmail.com", True), ("Bob", "Buyer", "bob.buyer@gmail.com", False)]
    for first, last, email, permission in samples:
        if not PersonContact.objects.filter(email=email).exists():
            PersonContact.objects.create(first_name=first, last_name=last, email=email,
                                         marketing_permission=permission)


# Serve mode -------------------------------------------------------------------------------------

def serve():
    from shoop_mailchimp.testing.emulator import DEMO_API_KEY, DEMO_LIST_ID

    shop_port = int(os.environ.get("DEMO_PORT") or 8000)
    emulator_port = int(os.environ.get("DEMO_EMULATOR_PORT") or 8765)
    for port, what in ((shop_port, "DEMO_PORT"), (emulator_port, "DEMO_EMULATOR_PORT")):
        if not port_free(port):
            raise SystemExit("Port %d is taken; stop what uses it or set %s." % (port, what))
    api_base_url = "http://127.0.0.1:%d/3.0/" % emulator_port
    shop_url = "http://127.0.0.1:%d/" % shop_port
    children = []

    def stop(signum, frame):
        raise KeyboardInterrupt

    # Also when started in the background, where the shell has SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, stop)
    try:
        say("Starting the Mailchimp emulator on port %d..." % emulator_port)
        emulator = start_child(children, [
            sys.executable, "-m", "shoop_mailchimp.testing.emulator", "--port", str(emulator_port),
            "--api-key", DEMO_API_KEY, "--list-id", DEMO_LIST_ID,
        ] + ["--lenient=%s" % rule for rule in lenient_rules()], "demo-emulator.log")
        wait_for(api_base_url + "ping", emulator, "The emulator", api_key=DEMO_API_KEY)

        setup_django(os.path.join(VAR_DIR, "demo.sqlite3"), api_base_url, webhook_base_url=shop_url)
        password = prepare_database()
        configuration = configure_shop(DEMO_API_KEY, DEMO_LIST_ID)
        missing = missing_interests(configuration, mailchimp_interest_ids(configuration))
        if missing:
            raise SystemExit("Group interests missing in the emulator after initialization: %r" % missing)
        ensure_sample_contacts()
        product_url = shop_url.rstrip("/") + storefront_product_path()
        from django.db import connections

        connections.close_all()

        say("Starting the Mailchimp worker (manage.py mailchimp_sync --loop)...")
        start_child(children, [
            sys.executable, "-m", "django", "mailchimp_sync", "--loop", "--interval", "1",
        ], "demo-worker.log")
        say("Starting Shuup on port %d..." % shop_port)
        server = start_child(children, [
            sys.executable, "-m", "django", "runserver", "127.0.0.1:%d" % shop_port, "--noreload",
        ], None)
        admin_url = shop_url + "sa/"
        wait_for(admin_url + "login/", server, "The Shuup server", timeout=120)
        print_welcome(admin_url, password, shop_url, product_url, api_base_url, DEMO_API_KEY, DEMO_LIST_ID)
        while True:
            for child in children:
                if child.poll() is not None:
                    raise SystemExit("%s exited with code %s" % (" ".join(child.args[1:4]), child.returncode))
            time.sleep(0.5)
    except KeyboardInterrupt:
        say("\nStopping...")
    finally:
        stop_children(children)
    return 0


def storefront_product_path():
    from django.urls import reverse
    from shuup.core.models import Product

    from demo.storefront import PRODUCT_SKU

    product = Product.objects.get(sku=PRODUCT_SKU)
    return reverse("shuup:product", kwargs={"pk": product.pk, "slug": product.slug})


def print_welcome(admin_url, password, shop_url, product_url, api_base_url, api_key, list_id):
    emulator_url = api_base_url.replace("/3.0/", "/_emulator/")
    unsubscribe = json.dumps({"api_key": api_key, "list_id": list_id, "type": "unsubscribe",
                              "email": "ada.lovelace@gmail.com"})
    say("")
    say("  Shuup admin:        %s" % admin_url)
    say("  Username/password:  %s / %s   (kept in %s)" % (
        ADMIN_USERNAME, password, os.path.relpath(PASSWORD_FILE, REPO_DIR)))
    say("  Storefront:         %s   (buy the Chimp mug: %s)" % (shop_url, product_url))
    say("  Mailchimp emulator: %s   (what it holds: %sstate)" % (api_base_url, emulator_url))
    say("  Demo API key:       %s" % api_key)
    say("  Demo list id:       %s" % list_id)
    say("  Logs:               var/demo-emulator.log, var/demo-worker.log")
    say("")
    say("The Mailchimp status page is under Settings > Mailchimp in the admin; the settings are on the")
    say("shop's edit page (Settings > Shops > Default Shop). Unsubscribe Ada in Mailchimp, and watch her")
    say("marketing permission go off in the shop:")
    say("")
    say("  curl -X POST %sevents -H 'Content-Type: application/json' -d '%s'" % (emulator_url, unsubscribe))
    say("")
    say("Ctrl-C stops the server, the worker and the emulator; running `make demo` again reuses the database.")


def start_child(children, command, log_name):
    """Start ``command`` in the repository, its output appended to ``var/<log_name>`` (or shown here)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [REPO_DIR, os.environ.get("PYTHONPATH")])))
    output = open(os.path.join(VAR_DIR, log_name), "ab") if log_name else None
    # A session of its own: Ctrl-C reaches only this script, which then stops the children in order.
    child = subprocess.Popen(command, cwd=REPO_DIR, env=env, stdout=output,
                             stderr=subprocess.STDOUT if output else None, start_new_session=True)
    children.append(child)
    return child


def stop_children(children):
    for child in reversed(children):
        if child.poll() is None:
            child.terminate()
    for child in reversed(children):
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    os.makedirs(VAR_DIR, exist_ok=True)  # both modes keep their database and logs there
    if os.environ.get("DEMO_WALK") not in (None, "", "0"):
        from demo.walk import walk

        sys.exit(walk())
    sys.exit(serve())
