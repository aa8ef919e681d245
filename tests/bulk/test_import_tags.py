"""The history import fires no Mailchimp automation: tags the rules derive from old facts included (review aud13)."""
import json

import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import MailchimpConfiguration, SyncState
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import place_order

pytestmark = pytest.mark.django_db


def tag_requests(emulator):
    """(path, body) of every member tags POST, one by one or inside batches."""
    found = []
    for request in emulator.requests:
        if request["method"] == "POST" and request["path"].endswith("/batches") and request["status"] == 200:
            for operation in request["body"]["operations"]:
                if operation["method"] == "POST" and operation["path"].rstrip("/").endswith("/tags"):
                    found.append((operation["path"], json.loads(operation.get("body") or "{}")))
        elif request["method"] == "POST" and request["path"].rstrip("/").endswith("/tags"):
            found.append((request["path"], request["body"]))
    return found


def test_the_history_import_tags_old_customers_without_firing_tag_automations(
        bulk_settings, configuration, mailchimp_account):
    """A shop connects after years of trade with the rule "customer" after a first order. The import marks the
    store ``is_syncing`` so that "Mailchimp sends no order notification and starts no automation for what the
    import brings" (bulk.start), but the tags request it sends for every old customer
    (POST /lists/{id}/members/{hash}/tags, sync.kinds.tags.TagChange.operation) never carries ``is_syncing: true``,
    the documented switch ("When is_syncing is true, automations based on the tags in the request will not
    fire"): a marketer's "tag added: customer" journey starts for every customer of the shop's history at once.
    The emulator records the tag automations Mailchimp would start (``tag_automations``)."""
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(customer_tag="customer")
    people = [PersonContact.objects.create(first_name="Old%d" % n, last_name="Customer",
                                           email="old.tagged.%d@fastmail.com" % n, marketing_permission=True)
              for n in range(3)]
    for person in people:
        place_order(configuration.shop, person)
    SyncState.objects.filter(shop=configuration.shop).delete()  # never seen: years of trade before Mailchimp
    drain()
    emulator.clear_requests()
    bulk.sync_existing(configuration.shop_id, include_orders=True, poll_interval=0.02, timeout=30)
    sent = tag_requests(emulator)
    assert sent, "the import tagged nobody (test set-up)"
    assert all(body.get("is_syncing") is True for _path, body in sent), sent
    assert emulator.tag_automations(api_key) == []
    for person in people:  # the tags are on the members all the same
        assert [tag["name"] for tag in emulator.get_member(api_key, list_id, person.email)["tags"]] == ["customer"]
    # After the import, a new customer's first order starts the journey.
    newcomer = PersonContact.objects.create(first_name="New", last_name="Customer", email="new.tagged@fastmail.com",
                                            marketing_permission=True)
    place_order(configuration.shop, newcomer)
    drain()
    assert [automation["email"] for automation in emulator.tag_automations(api_key)] == ["new.tagged@fastmail.com"]
