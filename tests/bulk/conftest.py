import itertools
import json

import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.mailchimp.members import subscriber_hash
from shoop_mailchimp.models import SyncState
from shoop_mailchimp.sync.drainer import drain

_counter = itertools.count(1)


@pytest.fixture
def bulk_settings(settings, configuration):
    """Small batches (chunking is exercised), quick polls, worker mode (saves only record)."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", BATCH_SIZE=4,
                                    BATCH_POLL_INTERVAL=0.05)
    return settings.SHOOP_MAILCHIMP


@pytest.fixture
def make_existing(bulk_settings):
    """Contacts the sync has never seen, as in a shop that connects Mailchimp after years of trade."""

    def make(count, permission=True, emails=None):
        people = []
        for index in range(count):
            number = next(_counter)
            people.append(PersonContact.objects.create(
                first_name="Old%d" % number, last_name="Customer",
                email=emails[index] if emails else "old.%d@fastmail.com" % number, marketing_permission=permission,
            ))
        SyncState.objects.filter(kind="contact", object_id__in=[p.pk for p in people]).delete()
        drain()  # the groups these saves recorded: Mailchimp knows them before the bulk sync starts
        return people

    return make


def members_sent_per_hash(emulator):
    """{subscriber hash: count} of member writes sent (the PUTs, and the POSTs creating a member), one by one or
    inside batches."""
    counts = {}

    def count(method, path, body):
        member_hash = None
        if method == "PUT" and "/members/" in path:
            member_hash = path.rstrip("/").rsplit("/", 1)[-1]
        elif method == "POST" and path.rstrip("/").endswith("/members"):
            member_hash = subscriber_hash((json.loads(body) if isinstance(body, str) else body or {})["email_address"])
        if member_hash:
            counts[member_hash] = counts.get(member_hash, 0) + 1

    for request in emulator.requests:
        if request["method"] == "POST" and request["path"].endswith("/batches") and request["status"] == 200:
            for operation in request["body"]["operations"]:
                count(operation["method"], operation["path"], operation.get("body"))
        else:
            count(request["method"], request["path"], request.get("body"))
    return counts

