"""A shop owner moving the shop to another audience, step by step, as the admin and the worker do it."""
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.rounds import run_due_work
from tests.admin.conftest import post_shop_form, url


def work_rounds(rounds=3):
    """The worker's rounds: admin jobs, then what is due."""
    for _round in range(rounds):
        run_due_work()
        drain()


def disconnect_and_delete_the_store(client, configuration, emulator):
    """Disconnect, confirmed by typing the store's id (the store goes), and the worker runs the deletions."""
    client.post(url("disconnect"))
    client.post(url("disconnect"), {"mailchimp_delete_store_id": configuration.store_id})
    run_due_work()
    assert emulator.get_store(configuration.api_key, configuration.store_id) is None, "setup: the store deleted"


def initialize_with(client, configuration, list_id):
    """Choose the audience ``list_id`` on the shop's page and press Initialize; the worker runs it and sends."""
    assert post_shop_form(client, configuration.shop, list_id=list_id, initialize="1").status_code == 302
    work_rounds()
    connected = MailchimpConfiguration.objects.get(pk=configuration.pk)
    assert connected.is_active and connected.list_id == list_id, "setup: reconnected to %s" % list_id


def move_to_another_audience(client, configuration, emulator, imported=None):
    """Disconnect deleting the store, a new audience in Mailchimp (``imported``: ``{address: merge fields}`` the
    marketer imports there first, subscribed), Initialize with it. Returns its id."""
    disconnect_and_delete_the_store(client, configuration, emulator)
    list_id = emulator.add_list(configuration.api_key, name="New audience")
    for email, merge_fields in (imported or {}).items():
        emulator.add_members(configuration.api_key, list_id, [email], status="subscribed", merge_fields=merge_fields)
    initialize_with(client, configuration, list_id)
    return list_id
