"""A plan only reads the shop's data and talks to Mailchimp: what it learns (a group's interest, a
contact's status) is written as its row closes. A plan that wrote would write from the drainer's
sending threads, outside the row's compare-and-set."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from shuup.testing.factories import create_random_contact_group

from shoop_mailchimp.mailchimp.resources import list_path
from shoop_mailchimp.mailchimp.transport import MailchimpSession
from shoop_mailchimp.models import ContactGroupInterest, MailchimpConfiguration, SyncStatus
from shoop_mailchimp.sync import drainer
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, new_person, order_row, place_order, row_of

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@pytest.fixture
def plan_writes(monkeypatch, settings):
    """The write statements each plan's run made, by the kind of its row; every plan runs in this thread."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DRAIN_CONCURRENCY=1)
    writes = []
    real_execute = drainer.execute

    def execute(session, plan, log):
        with CaptureQueriesContext(connection) as queries:
            outcome = real_execute(session, plan, log)
        writes.extend((plan.row.kind, query["sql"]) for query in queries.captured_queries
                      if query["sql"].lstrip().upper().startswith(WRITES))
        return outcome

    monkeypatch.setattr(drainer, "execute", execute)
    return writes


def test_no_plan_writes_and_what_they_learn_is_recorded_as_their_rows_close(configuration, mailchimp_account,
                                                                           plan_writes):
    emulator, api_key, list_id = mailchimp_account
    group = create_random_contact_group(shop=configuration.shop)
    person = new_person()
    group.members.add(person)
    order, _products = place_order(configuration.shop, person)
    drain()
    mapping = ContactGroupInterest.objects.get(shop_id=configuration.shop_id, group_id=group.pk)
    assert row_of(person).status == SyncStatus.SYNCED and order_row(order).status == SyncStatus.SYNCED
    assert emulator.get_member(api_key, list_id, person.email)["interests"][mapping.interest_id] is True

    group.name = "Renamed"
    group.save()
    drain()
    mapping.refresh_from_db()
    assert mapping.name == "Renamed"

    # The category gone in Mailchimp: created again, and its new id kept on the configuration.
    with MailchimpSession(api_key) as session:
        session.delete(list_path(list_id) + "/interest-categories/" + configuration.interest_category_id)
    group.name = "Renamed again"
    group.save()
    make_all_due()
    drain()
    [category] = emulator.interest_categories(api_key, list_id)
    assert MailchimpConfiguration.objects.get(pk=configuration.pk).interest_category_id == category["id"]
    assert [interest["name"] for interest in category["interests"]] == ["Renamed again"]

    other = create_random_contact_group(shop=configuration.shop)
    drain()
    assert ContactGroupInterest.objects.filter(shop_id=configuration.shop_id, group_id=other.pk).exists()
    other_pk = other.pk
    other.delete()
    drain()
    assert not ContactGroupInterest.objects.filter(shop_id=configuration.shop_id, group_id=other_pk).exists()
    kinds = {kind for kind, _sql in plan_writes}
    assert plan_writes == [], "plans of %s wrote: %s" % (kinds, plan_writes[:3])
