"""Helpers every test folder uses: people, making due rows due now and sending them, what the emulator was sent,
waits."""
import itertools
import os
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from shuup.admin.utils.permissions import set_permissions_for_group
from shuup.core.models import PersonContact
from shuup.testing.factories import create_product, create_random_order, get_default_supplier

from shoop_mailchimp.mailchimp import limits
from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.models import MailchimpConfiguration, SyncKind, SyncState, SyncStatus

_counter = itertools.count(1)


def missing(what):
    """A test that needs a system package this machine lacks is skipped, except under ``make test``
    (``SHOOP_MAILCHIMP_TESTS_NEED_ALL``): there it fails, so that a machine missing it never passes."""
    if os.environ.get("SHOOP_MAILCHIMP_TESTS_NEED_ALL"):
        pytest.fail("%s (scripts/system-deps installs it)" % what)
    pytest.skip("%s (scripts/system-deps installs it)" % what)


def new_person(permission=True, **fields):
    """A person saved once, the way the admin or a registration creates one; names and e-mail unique."""
    number = next(_counter)
    values = dict(first_name="Ann%d" % number, last_name="Example", email="ann.%d@fastmail.com" % number,
                  marketing_permission=permission)
    values.update(fields)
    return PersonContact.objects.create(**values)


def synced_people(count, **fields):
    """People saved and sent: their rows are synced, as in a shop that has run for a while."""
    from shoop_mailchimp.sync.drainer import drain

    people = [new_person(**fields) for _ in range(count)]
    drain()
    assert all(row_of(person).status == SyncStatus.SYNCED for person in people)
    return people


def batch_posts(emulator):
    """The ``POST /batches`` the emulator received."""
    return [r for r in emulator.requests if r["method"] == "POST" and r["path"].endswith("/batches")]


def never_read(configuration):
    """A shop whose audience fields were never read (Initialize reads them: one upgraded from a version before it did,
    or whose read at Initialize failed)."""
    from shoop_mailchimp.models import MailchimpConfiguration

    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(audience_merge_fields=None,
                                                                      merge_fields_read_on=None)
    configuration.refresh_from_db()
    return configuration


def row_of(contact, shop_id=None):
    """The contact's sync-state row (of ``shop_id``, where several shops have one)."""
    rows = SyncState.objects.filter(kind=SyncKind.CONTACT, object_id=contact.pk)
    return (rows.filter(shop_id=shop_id) if shop_id else rows).get()


def logged_message(action, contact):
    """The message of the one log entry of ``action`` about ``contact``."""
    from shoop_mailchimp.models import MailchimpLogEntry

    return MailchimpLogEntry.objects.get(action=action, contact_id=contact.pk).message


def order_row(order):
    """The order's sync-state row."""
    return SyncState.objects.orders().get(object_id=order.pk)


def place_order(shop, customer, n_products=1):
    """An order of ``n_products`` new products, made by Shuup's order factory; returns (order, products)."""
    products = [create_product("sku-%d" % next(_counter), shop=shop, supplier=get_default_supplier(),
                               default_price=10 + number) for number in range(n_products)]
    return create_random_order(customer=customer, products=products, shop=shop, random_products=False), products


def registered_webhooks(emulator, api_key, list_id):
    """The webhooks the emulator's audience has."""
    return emulator.state[api_key]["lists"][list_id]["webhooks"]


def make_all_due():
    """Skip the backoff, any throttle and every lease, as if enough time had passed."""
    limits._local_throttles.clear()
    past = timezone.now() - timedelta(seconds=1)
    SyncState.objects.filter(status__in=(SyncStatus.PENDING, SyncStatus.SENDING)).update(
        next_attempt_at=past, lease_until=past
    )


def operation_kind(operation):
    """What a batch operation (or a request) does: ``reads`` (a member read), ``members`` (a member write: the PUT,
    or the POST creating it) or the resource a PUT writes (``customers``, ...)."""
    if operation["method"] == "GET":
        return "reads"
    path = operation["path"].rstrip("/")
    return "members" if path.endswith("/members") else path.split("/")[-2]


def member_writes(emulator, email=None):
    """The member writes the emulator received one by one (all, or those addressing ``email``): the PUTs, and the
    POSTs of first sends that create the member."""
    def addressed(request):
        if request["method"] == "PUT" and "/members/" in request["path"]:
            return email is None or "/members/" + subscriber_hash(email) in request["path"]
        if request["method"] == "POST" and request["path"].endswith("/members"):
            return email is None or subscriber_hash((request.get("body") or {}).get("email_address", "")) == (
                subscriber_hash(email))
        return False
    return [request for request in emulator.requests if addressed(request)]


def staff_member(shop, username, permissions):
    """Staff of ``shop`` with the given Mailchimp permissions (and the shop and contact pages)."""
    user = get_user_model().objects.create_user(username, "%s@fastmail.com" % username, "pw", is_staff=True)
    shop.staff_members.add(user)
    group = Group.objects.create(name="%s-group" % username)
    set_permissions_for_group(group, set(permissions) | {"shop.edit", "contact.detail"})
    user.groups.add(group)
    return user


def preview_and_initialize(client, shop):
    """Press Initialize on the status page twice, as a shop owner does before the first initialization: the
    first press counts what it will do (the preview), the second confirms what was shown."""
    from django.urls import reverse

    from shoop_mailchimp.models import JobKind, MailchimpJob

    url = reverse("shuup_admin:shoop_mailchimp.initialize", kwargs={"pk": shop.pk})
    first = client.post(url)
    assert first.status_code == 302
    preview = MailchimpJob.objects.filter(shop=shop, kind=JobKind.PREVIEW_INITIALIZE).first()
    assert preview is not None, "no preview was queued"
    if preview.status != "done":
        from shoop_mailchimp.sync.jobs import run_due_jobs

        run_due_jobs(shop.pk)  # where no commit runs the drainer (a test without transaction=True)
        preview.refresh_from_db()
    return client.post(url, {"confirm_preview": str(preview.pk)})


def wait_for_batches(emulator, api_key, status="finished", timeout=30):
    """Wait on the emulator's events until every batch of ``api_key`` has ``status`` (Mailchimp ran them).
    To let held batches go now, lower ``emulator.batch_delay`` first."""
    assert emulator.wait_until(lambda: all(batch["status"] == status for batch in emulator.batches(api_key)),
                               timeout), "the emulator's batches never got %s" % status


def moved_off_a_shared_address(mailchimp_account, family, own, lost, **paul_fields):
    """Paul (consenting) and Queenie (no consent) share the ``family`` address, whose member Paul's send created (their
    rows first claimed in different seconds). Paul changes his address to ``own``: the send unsubscribes the family
    member (his consent leaves it) and creates his own member; with ``lost``, that POST lands and its answer is lost
    (the test sets a short ``TIMEOUT``). Returns (Paul, Queenie) as saved."""
    from shoop_mailchimp.sync.drainer import drain

    emulator, api_key, list_id = mailchimp_account
    paul = new_person(permission=True, first_name="Paul", email=family, **paul_fields)
    send_due(rounds=2)
    time.sleep(1.1)  # first claimed in another second than Paul's row (``stamps_shared``)
    queenie = new_person(permission=False, first_name="Queenie", email=family)
    send_due(rounds=2)
    paul = PersonContact.objects.get(pk=paul.pk)
    paul.email = own
    paul.save()
    if lost:
        emulator.faults.hang(60, path_pattern="*/members*", times=1, method="POST")
        make_all_due()
        drain()
        emulator.release_hangs()
        wait_for(emulator, lambda: emulator.get_member(api_key, list_id, own) is not None, "the lost POST landing")
        emulator.faults.clear()
    else:
        send_due(rounds=2)
    return PersonContact.objects.get(pk=paul.pk), queenie


def claimed_by_a_dying_worker(contact):
    """A worker claims the due rows, plans the contact's send and notes on its row what the send carries, as the
    drainer does before its requests go out (``state.note_before_sending``); then it dies (a deploy, an OOM kill),
    its writes on their way: the test makes them land. The next claim takes the row as recovered."""
    from shoop_mailchimp.sync import state
    from shoop_mailchimp.sync.kinds import BY_KIND

    make_all_due()
    [row] = [row for row in state.claim() if row.kind == SyncKind.CONTACT and row.object_id == contact.pk]
    configuration = MailchimpConfiguration.objects.get(shop_id=row.shop_id)
    kind = BY_KIND[row.kind]
    state.note_before_sending(row, kind.plan(configuration, row, kind.load(configuration, [row])).noted_before_sending)
    return row


def wait_for(emulator, predicate, what, timeout=10):
    """Wait on the emulator's events until ``predicate()`` is true; fails naming ``what`` never happened."""
    result = emulator.wait_until(predicate, timeout)
    assert result, "%s never happened" % what
    return result


def first_send_answer_lost(emulator, api_key, list_id, email):
    """The worker's round sends the due first send; its member write (a POST that only creates) reaches Mailchimp
    but its answer is lost (a timeout: the test sets a short ``TIMEOUT``). The row is left to retry."""
    from shoop_mailchimp.sync.drainer import drain

    emulator.faults.hang(60, path_pattern="*/members*", times=1, method="POST")
    make_all_due()
    drain()
    emulator.release_hangs()
    wait_for(emulator, lambda: emulator.get_member(api_key, list_id, email) is not None, "the lost write landing")
    emulator.faults.clear()


def consent_answer_lost(mailchimp_account, contact, lost=True, writes_before=0):
    """The contact's consent is ticked and sent: with ``lost``, the member PUT carrying it lands and its answer is
    lost (the test sets a short ``TIMEOUT``), so the row is a lost attempt's (``opt_in`` still False); without, the
    consent is sent as usual (the control). ``writes_before``: member PUTs of the send answered before that one (a
    shared member's first write reads its status). Returns the contact as saved."""
    from shoop_mailchimp.sync.drainer import drain

    emulator, api_key, list_id = mailchimp_account
    contact = type(contact).objects.get(pk=contact.pk)
    contact.marketing_permission = True
    contact.save()
    if not lost:
        send_due(rounds=2)
        assert row_of(contact).opt_in, "setup: the consent answered"
        return contact
    for _answered in range(writes_before):
        emulator.faults.hang(0, path_pattern="*/members/*", times=1, method="PUT")
    emulator.faults.hang(60, path_pattern="*/members/*", times=1, method="PUT")
    make_all_due()
    drain()
    emulator.release_hangs()
    wait_for(emulator, lambda: emulator.get_member(api_key, list_id, contact.email)["status"] in (
        "subscribed", "pending"), "the consent reaching Mailchimp")
    emulator.faults.clear()
    assert not row_of(contact).opt_in, "setup: the consent's answer was lost"
    return contact


def move_answer_lost(mailchimp_account, email, lost=True):
    """The worker's round sends the due address change: with ``lost``, its PATCH moving the member to ``email`` reaches
    Mailchimp and its answer is lost (a timeout: the test sets a short ``TIMEOUT``), and the row is left to retry;
    without, the change is sent as usual (the control)."""
    from shoop_mailchimp.sync.drainer import drain

    emulator, api_key, list_id = mailchimp_account
    if not lost:
        send_due(rounds=2)
        return
    emulator.faults.hang(60, path_pattern="*/members/*", times=1, method="PATCH")
    make_all_due()
    drain()
    emulator.release_hangs()
    wait_for(emulator, lambda: emulator.get_member(api_key, list_id, email), "the move reaching Mailchimp")
    emulator.faults.clear()


@contextmanager
def another_worker_held(emulator, path_pattern, what, method="PUT"):
    """Another worker (a thread of its own: the test needs ``transaction=True``) drains one round and is held on
    its request to ``path_pattern`` while the block runs; once the block ends, the request goes on and the worker
    finishes (its errors fail the test). What the block does happens while that worker's rows are out."""
    errors = []

    def worker():
        from shoop_mailchimp.sync.drainer import drain

        try:
            drain(max_rounds=1)
        except Exception as error:  # reported by the test's thread
            errors.append(error)
        finally:
            connection.close()

    held = emulator.faults.hangs_begun + 1
    emulator.faults.hang(60, path_pattern, method=method, times=1)
    thread = threading.Thread(target=worker)
    thread.start()
    try:
        wait_for(emulator, lambda: emulator.faults.hangs_begun >= held, "%s held" % what)
        yield
    finally:
        emulator.release_hangs()
        thread.join(30)
    assert not thread.is_alive() and not errors, errors


def members_written_by_batches(shop_id, emulator, api_key, list_id, people, timeout=10):
    """Let the shop's open batches go on, phase after phase (the reads, then the member writes), until Mailchimp
    holds a member of each of ``people``."""
    from shoop_mailchimp.sync import bulk

    def written():
        bulk.check_batches(shop_id)
        return all(emulator.get_member(api_key, list_id, person.email) for person in people)

    return poll_until(written, timeout, "the batch's members reaching Mailchimp")


def poll_until(condition, timeout, what, interval=0.05):
    """Look at ``condition()`` until it holds (returning its value) or ``timeout`` seconds pass (failing, naming
    ``what``). Only for the state of another process (Redis, a server, a child process) that offers no event to
    wait on: in this process wait on an event (``emulator.wait_until``, a ``threading.Event``)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out waiting until %s" % what
        time.sleep(interval)


def send_due(rounds=1):
    """Make every queued row due and drain, ``rounds`` times (a row a round queues, a cart after its contact,
    goes in the next); returns the last round's counts."""
    from shoop_mailchimp.sync.drainer import drain

    counts = None
    for _round in range(rounds):
        make_all_due()
        counts = drain()
    return counts


def member_status(emulator, api_key, list_id, email):
    """The status of ``email``'s member of the audience (None: no member)."""
    member = emulator.get_member(api_key, list_id, email)
    return member and member["status"]


def sent_product(emulator, api_key, configuration, product):
    """The product as the store of ``configuration`` has it on Mailchimp (None: not there)."""
    return next((p for p in emulator.products(api_key, configuration.store_id) if p["id"] == str(product.pk)), None)


def sent_order(emulator, api_key, configuration, order):
    """The order as the store of ``configuration`` has it on Mailchimp (None: not there)."""
    return next((o for o in emulator.orders(api_key, configuration.store_id) if o["id"] == str(order.pk)), None)


def stock_counting_supplier():
    """Shuup's default supplier, counting stock (Shuup's default: it does not)."""
    supplier = get_default_supplier()
    supplier.stock_managed = True
    supplier.save()
    return supplier


def five_off(shop, code="SAVE5", **fields):
    """An active basket campaign of ``shop`` taking 5 off with the coupon ``code``."""
    from shuup.campaigns.models import BasketCampaign, Coupon
    from shuup.campaigns.models.basket_effects import BasketDiscountAmount

    coupon = Coupon.objects.create(code=code, active=True, shop=shop)
    campaign = BasketCampaign.objects.create(shop=shop, name="Five off", public_name="Five off", active=True,
                                             coupon=coupon, **fields)
    BasketDiscountAmount.objects.create(campaign=campaign, discount_amount=Decimal("5"))
    return campaign


def group_chosen_as_an_interest(configuration):
    """The staff choose a new contact group as a Mailchimp interest (the configuration page's groups): the shop creates
    its interest category and interest in the audience. Returns the group."""
    from shuup.testing.factories import create_random_contact_group

    from shoop_mailchimp.models import ContactGroupInterest
    from shoop_mailchimp.sync import state

    group = create_random_contact_group(shop=configuration.shop)
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(interest_group_ids=[group.pk])
    state.record(configuration.shop_id, SyncKind.GROUP, [group.pk])
    send_due(rounds=2)
    assert ContactGroupInterest.objects.filter(group_id=group.pk).exists(), "setup: the group's interest"
    return group


def sharing_a_member_with_a_duplicate(emulator, api_key, list_id, email):
    """Ann ("Ann Secretname", consenting) is sent first: the member at ``email`` is hers (her names on it). A second
    contact of the shop with the same address (a duplicate account, consenting) is sent after: the member is theirs
    too. Returns Ann."""
    ann = new_person(permission=True, email=email, first_name="Ann", last_name="Secretname")
    send_due(rounds=2)
    other = new_person(permission=True, email=email, first_name="Other", last_name="")
    send_due(rounds=2)
    assert not row_of(ann).foreign_member and row_of(other).foreign_member, "setup: the member is Ann's"
    member = emulator.get_member(api_key, list_id, email)
    assert member["merge_fields"]["LNAME"] == "Secretname" and member["status"] == "subscribed", "setup"
    return ann


def interest_categories_deleted_in_mailchimp(emulator, api_key, list_id):
    """A marketer deletes the audience's group categories in Mailchimp (DELETE /interest-categories/{id}): their
    interests are gone, and a member write naming one is refused (400 "Invalid interest ID")."""
    import requests

    categories = requests.get(emulator.base_url + "lists/%s/interest-categories" % list_id, auth=("shop", api_key),
                              timeout=10).json()["categories"]
    assert categories, "setup: the shop's group category"
    for category in categories:
        assert requests.delete(emulator.base_url + "lists/%s/interest-categories/%s" % (list_id, category["id"]),
                               auth=("shop", api_key), timeout=10).status_code == 204


def refused_for_good(emulator, email):
    """Mailchimp refuses every write of the member of ``email`` for good (a 400)."""
    emulator.faults.fail_email(email, status=400, title="Invalid Resource",
                               detail="This member cannot be edited or deleted.")


def ann_erased_after_her_consent_subscribed_bobs_member(emulator, tag, refused):
    """Bob (no consent, "Bob Hidden") is sent: his own transactional member at family.TAG. Ann (consenting) is sent at
    ann0.TAG, then types family.TAG: her member at ann0 is left, and her consent subscribes Bob's member (her row
    ``foreign_member``, ``consent_made``). With ``refused``, Mailchimp refuses every write of ann0 (a 400). Ann's
    account is deleted and the worker sends the erasure: Bob's member is unsubscribed (Bob does not consent), Ann's
    row closes FAILED (refused) or SYNCED. Returns (Bob, Ann, family address, ann0 address)."""
    from shoop_mailchimp.models import SyncStatus

    family, ann0 = "family." + tag, "ann0." + tag
    bob = new_person(permission=False, email=family, first_name="Bob", last_name="Hidden")
    send_due(rounds=2)
    ann = new_person(permission=True, email=ann0, first_name="Ann", last_name="Gone")
    send_due(rounds=2)
    ann = PersonContact.objects.get(pk=ann.pk)
    ann.email = family
    ann.save()
    send_due(rounds=3)
    row = row_of(ann)
    assert [m["email"] for m in row.members_left] == [ann0], "setup: %r" % row.members_left
    assert row.foreign_member and row.consent_made and row.opt_in, "setup: Ann's consent made the subscription"
    if refused:
        refused_for_good(emulator, ann0)
    PersonContact.objects.get(pk=ann.pk).delete()  # erasure
    send_due(rounds=3)
    assert row_of(ann).status == (SyncStatus.FAILED if refused else SyncStatus.SYNCED), "setup"
    return bob, ann, family, ann0
