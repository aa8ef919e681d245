"""A tag rule added after the shop's contacts are in Mailchimp back-fills their tags without starting the marketer's
tag automations ("tag added" journeys); a fact changed after the rule (a first order, a new contact, a group
joined) starts them as before. One by one and in a burst's batches (review aud14, finding 6).

The emulator records the tag automations Mailchimp would start (``tag_automations``): a tag added to a subscribed
member by a tags request without ``is_syncing: true``."""
import pytest
from shuup.core.models import ContactGroup

from shoop_mailchimp.models import SyncState, SyncStatus
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.rounds import run_due_work
from tests.admin.conftest import post_shop_form, saved
from tests.bulk.test_import_tags import tag_requests
from tests.helpers import batch_posts, make_all_due, new_person, place_order, row_of
from tests.sync.conftest import BURST_THRESHOLD

pytestmark = pytest.mark.django_db


def tags_of(mailchimp_account, contact):
    emulator, api_key, list_id = mailchimp_account
    return sorted(tag["name"] for tag in emulator.get_member(api_key, list_id, contact.email)["tags"])


def automations(mailchimp_account):
    """(e-mail, tag) of the tag automations Mailchimp would have started."""
    emulator, api_key, _list_id = mailchimp_account
    return sorted((automation["email"], automation["tag"]) for automation in emulator.tag_automations(api_key))


def send_in_a_burst(configuration):
    """Every due contact goes through the drainer's burst (batches), to the end."""
    make_all_due()
    run_due_work()
    assert bulk.resume_batches(configuration.shop_id, poll_interval=0.02, timeout=30) == 0


def test_a_customer_rule_added_later_tags_past_customers_quietly_and_a_later_first_order_loudly(
        admin_client, configuration, mailchimp_account):
    """A year in, the owner ticks "tag customers": every past customer gets the tag in a request that says
    ``is_syncing``, so the marketer's "welcome, new customer!" journey mails none of them. A contact sent before
    the rule whose first order comes after it, and a new contact, are new customers: the journey starts."""
    emulator = mailchimp_account[0]
    past_customers = [new_person() for _ in range(2)]
    for person in past_customers:
        place_order(configuration.shop, person)
    later_buyer = new_person()
    drain()
    assert all(tags_of(mailchimp_account, person) == [] for person in past_customers + [later_buyer])
    emulator.clear_requests()

    assert saved(post_shop_form(admin_client, configuration.shop, customer_tag="customer"))
    drain()
    assert all(tags_of(mailchimp_account, person) == ["customer"] for person in past_customers)
    assert all(row_of(person).applied_tags == "customer" for person in past_customers)
    sent = tag_requests(emulator)
    assert len(sent) == 2 and all(body.get("is_syncing") is True for _path, body in sent), sent
    assert automations(mailchimp_account) == []
    assert row_of(later_buyer).status == SyncStatus.SYNCED and tags_of(mailchimp_account, later_buyer) == []

    place_order(configuration.shop, later_buyer)
    newcomer = new_person()
    place_order(configuration.shop, newcomer)
    drain()
    assert tags_of(mailchimp_account, later_buyer) == ["customer"] == tags_of(mailchimp_account, newcomer)
    assert automations(mailchimp_account) == sorted([(later_buyer.email, "customer"), (newcomer.email, "customer")])


def test_a_send_mixing_a_back_filled_tag_and_a_fresh_one_splits_them(admin_client, configuration, mailchimp_account):
    """The customer rule is added, and before the contact's next send it joins a group the shop tags (a rule that
    existed before): the customer tag (an order older than the rule) is added quietly, the group's tag (joined
    after) in a request of its own that starts the group's journey."""
    emulator = mailchimp_account[0]
    group = ContactGroup.objects.create(identifier="gold", shop=configuration.shop, name="Gold")
    assert saved(post_shop_form(admin_client, configuration.shop, tag_groups=str(group.pk)))
    person = new_person()
    place_order(configuration.shop, person)
    drain()
    assert tags_of(mailchimp_account, person) == []
    emulator.clear_requests()

    assert saved(post_shop_form(admin_client, configuration.shop, customer_tag="customer"))
    group.members.add(person)
    drain()
    assert tags_of(mailchimp_account, person) == ["Gold", "customer"]
    assert sorted((body.get("is_syncing", False), [tag["name"] for tag in body["tags"]])
                  for _path, body in tag_requests(emulator)) == [(False, ["Gold"]), (True, ["customer"])]
    assert automations(mailchimp_account) == [(person.email, "Gold")]


def test_a_rule_added_later_back_fills_quietly_in_a_burst_too(burst_settings, admin_client, mailchimp_account):
    """The same through the drainer's bursts (batches), which a rule change sends every contact through: the past
    customers are tagged quietly; the first orders of contacts sent before the rule (closed unchanged by the
    rule's burst) start the journey, in a burst of their own."""
    configuration = burst_settings
    emulator = mailchimp_account[0]
    assert saved(post_shop_form(admin_client, configuration.shop))  # as saved before: only the rule changes below
    past_customers = [new_person() for _ in range(BURST_THRESHOLD)]
    for person in past_customers:
        place_order(configuration.shop, person)
    later_buyers = [new_person() for _ in range(BURST_THRESHOLD)]
    send_in_a_burst(configuration)
    send_in_a_burst(configuration)  # the first sends of addresses nobody proved: the members were read first
    assert all(row_of(person).member_status == "subscribed" for person in past_customers + later_buyers)
    assert not SyncState.objects.contacts().exclude(status=SyncStatus.SYNCED).exists()
    emulator.clear_requests()

    assert saved(post_shop_form(admin_client, configuration.shop, customer_tag="customer"))
    send_in_a_burst(configuration)
    assert batch_posts(emulator), "the rule's resend went one by one (test set-up)"
    assert all(tags_of(mailchimp_account, person) == ["customer"] for person in past_customers)
    sent = tag_requests(emulator)
    assert len(sent) == BURST_THRESHOLD and all(body.get("is_syncing") is True for _path, body in sent), sent
    assert automations(mailchimp_account) == []

    emulator.clear_requests()
    for person in later_buyers:
        place_order(configuration.shop, person)
    send_in_a_burst(configuration)
    assert batch_posts(emulator), "the first orders went one by one (test set-up)"
    assert all(tags_of(mailchimp_account, person) == ["customer"] for person in later_buyers)
    assert automations(mailchimp_account) == sorted((person.email, "customer") for person in later_buyers)
