"""Found by independent review pg59 (issue 19) of d769789, F1 (fixed: the facts a webhook teaches a waiting erasure are
written only while it still waits; GDPR, PostgreSQL only): a Mailchimp ``upemail`` webhook that reaches the shop while
the worker closes an erasure of the moved member's contact writes the erased person's new address back onto the erased
row, after the erasure cleared it ("Nothing of the erased person's stays on the row", ``ErasePlan``).

``member_events._erasures_learn`` SELECTs the ids of the erasures waiting (``state.erasures_waiting``: erase, not
``ERASED``) and then UPDATEs them by id (``state.apply_mailchimp_fact(here_ids, ..., email=new_email)``) with no
re-check. On PostgreSQL (READ COMMITTED) the worker's close of the erasure (``member_status=ERASED, email=""``) can
commit between the two statements; the UPDATE then writes ``email=<new address>`` (and bumps the version) onto the
closed erasure. Nothing ever clears it again: the row is ERASED, so no plan, webhook or forget looks at it. The same
holds, by reading (not probed), for the other facts it writes: an archive sets ``member_status=archived`` on the erased
row (the erasure looks "not done" again: ``erasures_waiting`` finds it), a ``subscribe`` sets ``subscribed``. On SQLite
the webhook's transaction cannot write over a snapshot another writer moved (it fails; unverified here): PostgreSQL
loses it silently.

Harm: Paul ("Paul Private") is sent to the audience at family@. He changes his address in Mailchimp's profile page to
home@ while, at the same moment, his shop account is deleted (GDPR erasure). The erasure deletes his member; the shop's
erased row keeps home@, his new private address, for good.

Steps (PostgreSQL, ``transaction=True``): Paul sent; deleted (DELIVERY=worker: the erasure waits); moved to home@ in the
emulator; the upemail webhook posted; while its transaction is between ``_erasures_learn``'s SELECT and its UPDATE (a
wrapper on ``state.apply_mailchimp_fact``) a worker (another thread, its own connection) drains: the erasure is sent and
closed. Then the webhook goes on.

Controls (pass): the webhook fully before the drain, or fully after it. Expected in all: the erased row is ERASED and
holds no address (``email == ""``)."""
import threading

import pytest
from django.db import connection
from django.test import Client
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncKind, SyncState
from shoop_mailchimp.sync import state
from tests.helpers import new_person, send_due
from tests.services.pg58.helpers import run_inner_on_postgresql
from tests.webhooks.helpers import post_event


@pytest.mark.services
@pytest.mark.timeout(600)
def test_upemail_writes_address_back_onto_a_closed_erasure_on_postgresql(postgres_port):
    run_inner_on_postgresql(__file__, postgres_port, expected_passed=3)


def drain_in_another_connection():
    failures = []

    def run():
        try:
            send_due(rounds=2)
        except Exception as error:  # pragma: no cover - reported by the test
            failures.append(error)
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(120)
    assert not worker.is_alive() and not failures, failures


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("when", ["before", "after", "between"],
                         ids=["control-webhook-before-drain", "control-webhook-after-drain",
                              "drain-between-select-and-update"])
def test_an_erased_rows_address_stays_cleared(configuration, mailchimp_account, settings, monkeypatch, when):
    if connection.vendor != "postgresql":
        pytest.skip("run on PostgreSQL by the services test above")
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    tag = "%s.pg59f1@fastmail.com" % when
    family, home = "family." + tag, "home." + tag
    paul = new_person(permission=True, email=family, first_name="Paul", last_name="Private")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, family), "setup: Paul sent"
    PersonContact.objects.get(pk=paul.pk).delete()  # the erasure waits for the worker
    row = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=paul.pk)
    assert row.erase and row.member_status != "erased", "setup: the erasure waits"
    emulator.fire_event(api_key, list_id, "upemail", family, new_email=home)
    member = emulator.get_member(api_key, list_id, home)

    main = threading.get_ident()
    original = state.apply_mailchimp_fact
    drained = []

    def interleaved(state_ids, fired_at, resend=False, **fields):
        if (when == "between" and not drained and threading.get_ident() == main and row.pk in list(state_ids)
                and "email" in fields):
            drained.append(True)
            drain_in_another_connection()
        return original(state_ids, fired_at, resend=resend, **fields)

    monkeypatch.setattr(state, "apply_mailchimp_fact", interleaved)
    if when == "after":
        drain_in_another_connection()

    assert post_event(Client(), configuration, "upemail", old_email=family, new_email=home,
                      new_id=member["unique_email_id"]).status_code == 200
    assert drained or when != "between", "setup: the webhook reached the waiting erasure"
    if when == "before":
        drain_in_another_connection()
    send_due(rounds=2)
    row = SyncState.objects.get(pk=row.pk)
    assert row.member_status == "erased", "setup: the erasure ran (%s)" % row.member_status
    assert not emulator.get_member(api_key, list_id, home), "setup: the member was deleted"
    assert row.email == "", (
        "Paul was erased; his row keeps his new private address %r (status %s, member_status %s)" % (
            row.email, row.status, row.member_status))
