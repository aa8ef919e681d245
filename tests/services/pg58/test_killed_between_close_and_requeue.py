"""Found by independent review pg58 (issue 19) of dcc101d, F1 (open, a strict expected failure; data): a worker killed
between a row's close and the requeue its outcome asks for (``sync/drainer.py: Drainer._close``: ``state.close``
commits, then ``state.requeue`` runs in a statement of its own; the same in ``sync/bulk.py: apply_results``) loses the
requeue for good: the row is closed synced, its token gone, so no later claim retries it, and the rows it should have
queued stay synced.

Harm: the staff choose the contact group "Wholesale" as a Mailchimp interest. The group's send creates the interest in
Mailchimp, records its mapping and closes synced; then the worker dies (a deploy's restart, the OOM killer, a SIGKILL
after the lease) before it queues the group's members. The members are never sent again with the interest: the
marketer's Wholesale segment misses them until each happens to change in the shop.

Steps (PostgreSQL, a real forked worker process killed with SIGKILL as it calls ``state.requeue`` for the contacts; then
a fresh drain, every lease and backoff expired): Ann and Bob are synced members of the group; the group is chosen as an
interest; the worker drains. Expected (the control, the same worker not killed): both members have the group's interest
in Mailchimp. Found: neither does. The second test: the same window when the group's send re-creates a deleted interest
category; every other group's interest is forgotten for good."""
import pytest
from django.db import connection
from shuup.testing.factories import create_random_contact_group

from shoop_mailchimp.models import ContactGroupInterest, MailchimpConfiguration, SyncKind, SyncState, SyncStatus
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, new_person
from tests.services.pg58.helpers import in_a_worker_killed_at, run_inner_on_postgresql

#: Review pg58 F1 (a strict expected failure until fixed).
OPEN = pytest.mark.xfail(strict=True, reason=(
    "pg58 F1, open: a close and its requeue are two commits; a worker killed between them loses the requeue"))


@pytest.mark.services
@pytest.mark.timeout(600)
def test_killed_between_close_and_requeue_on_postgresql(postgres_port):
    run_inner_on_postgresql(__file__, postgres_port, expected_passed=2, expected_xfailed=2)


@pytest.fixture
def worker(configuration, settings):
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    return configuration


def _rounds(count=3):
    for _round in range(count):
        make_all_due()
        drain()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("killed", [False, pytest.param(True, marks=OPEN)],
                         ids=["control-not-killed", "killed-after-the-close"])
def test_a_group_chosen_as_an_interest_reaches_its_members_after_a_worker_dies(worker, mailchimp_account, killed):
    if connection.vendor != "postgresql":
        pytest.skip("run on PostgreSQL by the services test above")
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=worker.pk).update(interest_group_ids=[])  # no group chosen yet
    group = create_random_contact_group(shop=worker.shop)
    people = [new_person(email="%s.pg58.%s@fastmail.com" % (name, killed)) for name in ("ann", "bob")]
    for person in people:
        group.members.add(person)
    _rounds()
    assert all(SyncState.objects.get(kind=SyncKind.CONTACT, object_id=p.pk).status == SyncStatus.SYNCED
               for p in people), "setup"
    assert not ContactGroupInterest.objects.filter(group_id=group.pk).exists(), "setup"
    MailchimpConfiguration.objects.filter(pk=worker.pk).update(interest_group_ids=[group.pk])
    state.record(worker.shop_id, SyncKind.GROUP, [group.pk])  # as the configuration page's save does

    def contacts_requeued(shop_id, kind, object_ids, only_known=False):
        return kind == SyncKind.CONTACT and bool(object_ids)

    died = in_a_worker_killed_at(drain, state, "requeue", contacts_requeued if killed else None)
    assert died == killed, "setup: the worker was%s killed" % ("" if died else " not")
    connection.close()
    # The worker is restarted: every lease and backoff has run out, and it drains again.
    _rounds()
    group_row = SyncState.objects.get(kind=SyncKind.GROUP, object_id=group.pk)
    interest = ContactGroupInterest.objects.get(group_id=group.pk).interest_id
    held = {p.email: emulator.get_member(api_key, list_id, p.email)["interests"].get(interest) for p in people}
    assert held == {p.email: True for p in people}, (
        "the group's interest %s was created (group row %s) but its members never got it: %r" % (
            interest, group_row.status, held))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("killed", [False, pytest.param(True, marks=OPEN)],
                         ids=["control-not-killed", "killed-after-the-close"])
def test_the_other_groups_get_their_interests_again_after_a_worker_dies_recreating_the_category(
        worker, mailchimp_account, killed):
    """The same window, worse: the interest category was deleted in Mailchimp. A group's send creates it again,
    records it, forgets every other group's interest (``group.remember``: their ids were the old category's) and
    closes synced; the worker dies before it queues the other groups. Their rows stay synced with no interest, and
    are never created again: Bob's group has no interest in the audience at all, and every contact of it is sent
    without it from then on. Steps: groups A (Ann) and B (Bob) mapped and synced; the category deleted in
    Mailchimp; group A renamed; the worker drains and is killed as it queues the other groups; a fresh drain.
    Expected (the control, not killed): group B has an interest again and Bob's member has it."""
    if connection.vendor != "postgresql":
        pytest.skip("run on PostgreSQL by the services test above")
    from shoop_mailchimp.mailchimp.resources import list_path
    from shoop_mailchimp.mailchimp.transport import MailchimpSession

    emulator, api_key, list_id = mailchimp_account
    group_a, group_b = create_random_contact_group(shop=worker.shop), create_random_contact_group(shop=worker.shop)
    ann = new_person(email="ann.category.pg58.%s@fastmail.com" % killed)
    bob = new_person(email="bob.category.pg58.%s@fastmail.com" % killed)
    group_a.members.add(ann)
    group_b.members.add(bob)
    _rounds()
    assert ContactGroupInterest.objects.filter(group_id__in=[group_a.pk, group_b.pk]).count() == 2, "setup"
    worker.refresh_from_db()
    with MailchimpSession(api_key) as session:
        session.delete(list_path(list_id) + "/interest-categories/" + worker.interest_category_id)
    group_a.name = "Renamed after the category went"
    group_a.save()

    def others_requeued(shop_id, kind, object_ids, only_known=False):
        return bool(object_ids)

    died = in_a_worker_killed_at(drain, state, "requeue", others_requeued if killed else None)
    assert died == killed, "setup: the worker was%s killed" % ("" if died else " not")
    connection.close()
    _rounds()
    mapping = ContactGroupInterest.objects.filter(group_id=group_b.pk).first()
    group_b_row = SyncState.objects.get(kind=SyncKind.GROUP, object_id=group_b.pk)
    assert mapping is not None, (
        "group B's interest was forgotten with the old category and never created again (its row: %s)" %
        group_b_row.status)
    assert emulator.get_member(api_key, list_id, bob.email)["interests"].get(mapping.interest_id) is True
