"""The processes of the chaos test, each run with ``tests.services.settings_pg``:

``setup COUNT``          tables, the shop on the emulator, two groups and COUNT contacts (one round drained)
``edit SECONDS SEED``    random edits (names, e-mails, groups, consent on and off) in short transactions
``unsubscribe SECONDS SEED``  people unsubscribing in Mailchimp, and the webhook deliveries that
                         follow (through Django's full request stack)
``lost-unsubscribe SECONDS SEED``  the same, with every webhook delivery lost
``reconcile SECONDS SEED``  ``mailchimp_reconcile`` again and again
``upemail OLD NEW``      one person changing their address in Mailchimp, and its webhook delivery
``rename EMAIL NAME``    the shop renames the contact with that e-mail
"""
import os
import random
import sys
import time


def setup(count):
    from django.core.management import call_command
    from shuup.core.models import ContactGroup, PersonContact
    from shuup.testing.factories import get_default_shop

    from shoop_mailchimp.initialization import initialize
    from shoop_mailchimp.models import MailchimpConfiguration
    from shoop_mailchimp.sync.rounds import run_due_work

    call_command("migrate", run_syncdb=True, verbosity=0)
    shop = get_default_shop()
    configuration = MailchimpConfiguration.objects.create(
        shop=shop, api_key=os.environ["SHOOP_MAILCHIMP_API_KEY"], list_id=os.environ["SHOOP_MAILCHIMP_LIST_ID"],
        enabled=True)
    for name in ("Chaos A", "Chaos B"):
        ContactGroup.objects.create(identifier=name.lower().replace(" ", "-"), name=name, shop=shop)
    initialize(configuration)
    PersonContact.objects.create(first_name="Warm", email="warm-up@fastmail.com")
    for number in range(count):
        PersonContact.objects.create(first_name="C%d" % number, last_name="Haos", email="c%d@fastmail.com" % number,
                                     marketing_permission=number % 2 == 0)
    run_due_work()
    print(shop.pk)


def _contacts():
    from shuup.core.models import PersonContact

    return list(PersonContact.objects.filter(last_name="Haos").values_list("pk", flat=True))


def edit(seconds, seed):
    """Each edit loads a contact, waits 50 ms inside its transaction (a slow request), then saves."""
    from django.db import transaction
    from shuup.core.models import ContactGroup, PersonContact

    rng = random.Random(seed)
    groups = list(ContactGroup.objects.filter(identifier__startswith="chaos-"))
    ids = _contacts()
    deadline, edits = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        with transaction.atomic():
            contact = PersonContact.objects.get(pk=rng.choice(ids))
            time.sleep(0.05)
            what = rng.choice(["name", "email", "group", "consent", "consent"])
            if what == "name":
                contact.first_name = "C%d-%d" % (contact.pk, edits)
                contact.save()
            elif what == "email":
                contact.email = "c%d.e%d@fastmail.com" % (contact.pk, edits)
                contact.save()
            elif what == "group":
                group = rng.choice(groups)
                if group.members.filter(pk=contact.pk).exists():
                    group.members.remove(contact)
                else:
                    contact.groups.add(group)
            else:
                contact.marketing_permission = not contact.marketing_permission
                contact.save()
        edits += 1
        time.sleep(rng.uniform(0, 0.05))
    print(edits)


def unsubscribe(seconds, seed, webhooks=True):
    """As Mailchimp does it: the member changes first, then the webhook is delivered (sometimes late);
    without ``webhooks``, every delivery is lost (the shop was down, or has no WEBHOOK_BASE_URL)."""
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from shoop_mailchimp.mailchimp.errors import MailchimpError
    from shoop_mailchimp.mailchimp.resources import member_path
    from shoop_mailchimp.mailchimp.transport import MailchimpSession
    from shoop_mailchimp.models import MailchimpConfiguration, SyncState
    from shoop_mailchimp.webhook_registration import VIEW_NAME

    rng = random.Random(seed)
    configuration = MailchimpConfiguration.objects.get()
    url = reverse(VIEW_NAME, kwargs={"shop_id": configuration.shop_id, "secret": configuration.webhook_secret})
    client, session = Client(), MailchimpSession(configuration.api_key)
    ids = _contacts()
    deadline, events = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        row = SyncState.objects.filter(kind="contact", object_id=rng.choice(ids), member_status="subscribed").first()
        if row is None or not row.email:
            time.sleep(0.05)
            continue
        try:
            session.patch(member_path(configuration.list_id, row.email), {"status": "unsubscribed"})
        except MailchimpError:  # the address moved meanwhile (an address change in flight): nobody to unsubscribe
            time.sleep(0.05)
            continue
        time.sleep(rng.uniform(0, 0.3))  # Mailchimp delivers a moment later
        if webhooks:
            assert client.post(url, {"type": "unsubscribe", "fired_at": timezone.now().strftime("%Y-%m-%d %H:%M:%S"),
                                     "data[list_id]": configuration.list_id, "data[email]": row.email,
                                     "data[action]": "unsub"}).status_code == 200
        events += 1
    session.close()
    print(events)


def upemail(old_email, new_email, signal_dir=None):
    """With ``signal_dir``: set up, write ``ready`` there, then act the moment ``go`` appears (a test times
    the webhook into a window without guessing how long this process takes to start)."""
    import os
    import time

    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from shoop_mailchimp.mailchimp.resources import member_path
    from shoop_mailchimp.mailchimp.transport import MailchimpSession
    from shoop_mailchimp.models import MailchimpConfiguration
    from shoop_mailchimp.webhook_registration import VIEW_NAME

    configuration = MailchimpConfiguration.objects.get()
    if signal_dir:
        open(os.path.join(signal_dir, "ready"), "w").close()
        deadline = time.time() + 120
        while not os.path.exists(os.path.join(signal_dir, "go")) and time.time() < deadline:
            time.sleep(0.01)
    with MailchimpSession(configuration.api_key) as session:
        session.patch(member_path(configuration.list_id, old_email), {"email_address": new_email})
    url = reverse(VIEW_NAME, kwargs={"shop_id": configuration.shop_id, "secret": configuration.webhook_secret})
    assert Client().post(url, {"type": "upemail", "fired_at": timezone.now().strftime("%Y-%m-%d %H:%M:%S"),
                               "data[list_id]": configuration.list_id, "data[old_email]": old_email,
                               "data[new_email]": new_email}).status_code == 200


def reconcile_repeatedly(seconds, seed):
    """``manage.py mailchimp_reconcile`` again and again, as an impatient admin (or a short
    RECONCILE_INTERVAL) would, while the others run."""
    from django.core.management import call_command

    rng = random.Random(seed)
    deadline, passes = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        call_command("mailchimp_reconcile", stdout=open(os.devnull, "w"))
        passes += 1
        time.sleep(rng.uniform(0.2, 1.5))
    print(passes)


def rename(email, name):
    from shuup.core.models import PersonContact

    contact = PersonContact.objects.get(email=email)
    contact.first_name = name
    contact.save()


if __name__ == "__main__":
    import django

    django.setup()
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "setup":
        setup(int(arguments[0]))
    elif command == "edit":
        edit(float(arguments[0]), int(arguments[1]))
    elif command == "unsubscribe":
        unsubscribe(float(arguments[0]), int(arguments[1]))
    elif command == "lost-unsubscribe":
        unsubscribe(float(arguments[0]), int(arguments[1]), webhooks=False)
    elif command == "reconcile":
        reconcile_repeatedly(float(arguments[0]), int(arguments[1]))
    elif command == "upemail":
        upemail(*arguments)
    elif command == "rename":
        rename(*arguments)
