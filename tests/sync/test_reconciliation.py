"""Reconciliation: with no webhook at all, what was changed in Mailchimp by hand reaches the shop, and the
shop's next sends subscribe nobody."""
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from shuup.core.models import Contact

from shoop_mailchimp.models import (
    JobKind,
    JobStatus,
    MailchimpConfiguration,
    MailchimpJob,
    MailchimpLogEntry,
    SyncKind,
    SyncState,
    SyncStatus,
)
from shoop_mailchimp.sync.drainer import drain
from shoop_mailchimp.sync.rounds import run_due_work
from shoop_mailchimp.sync.state import record
from tests.helpers import make_all_due, new_person, row_of

pytestmark = pytest.mark.django_db


def sent(*contacts):
    drain()
    for contact in contacts:
        assert row_of(contact).status == SyncStatus.SYNCED, row_of(contact).last_error


def reconcile(full=False):
    call_command("mailchimp_reconcile", *(["--full"] if full else []))
    return MailchimpJob.objects.filter(kind=JobKind.RECONCILE).first()


def subscribed_without_consent(emulator, api_key, list_id):
    """Subscribed or pending members that are not the address last sent (or the e-mail) of a contact with
    the shop's consent."""
    consenting = set()
    for contact in Contact.objects.filter(marketing_permission=True):
        consenting.add(contact.email.lower())
        row = SyncState.objects.contacts().filter(object_id=contact.pk).first()
        if row and row.email:
            consenting.add(row.email.lower())
    return [m["email_address"] for m in emulator.members(api_key, list_id)
            if m["status"] in ("subscribed", "pending") and m["email_address"].lower() not in consenting]


def test_one_reconciliation_applies_twenty_changes_made_by_hand(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    assert not configuration.webhook_id  # no WEBHOOK_BASE_URL: Mailchimp never calls this shop
    people = [new_person(permission=True) for _ in range(24)]
    sent(*people)
    unsubscribed, cleaned, archived, readdressed, untouched = (
        people[:7], people[7:12], people[12:14], people[14:20], people[20:])
    for person in unsubscribed:
        emulator.edit_member_by_hand(api_key, list_id, person.email, status="unsubscribed")
    for person in cleaned:
        emulator.edit_member_by_hand(api_key, list_id, person.email, status="cleaned")
    for person in archived:
        emulator.edit_member_by_hand(api_key, list_id, person.email, status="archived")
    for person in readdressed:
        emulator.edit_member_by_hand(api_key, list_id, person.email, new_email="new." + person.email)

    job = reconcile()

    assert job.status == JobStatus.DONE, job.message
    found = job.result["found"]
    assert (found["unsubscribed"], found["cleaned"], found["archived"], found["email_changed"]) == (7, 5, 2, 6)
    assert job.result["unknown_count"] == 0
    for person in unsubscribed:
        assert Contact.objects.get(pk=person.pk).marketing_permission is False
        assert (row_of(person).member_status, row_of(person).opt_in) == ("unsubscribed", False)
    for person in cleaned:
        assert row_of(person).member_status == "cleaned"
    for person in archived + untouched + cleaned + readdressed:
        assert Contact.objects.get(pk=person.pk).marketing_permission is True  # not the person's choice
    assert {row_of(p).member_status for p in archived} == {"archived"}
    drain()  # the readdressed contacts are sent again, to their new address
    for person in readdressed:
        assert row_of(person).email == "new." + person.email
        assert emulator.get_member(api_key, list_id, person.email) is None  # not re-created at the old one
    assert MailchimpLogEntry.objects.filter(action="reconcile.unsubscribe").count() == 7
    assert subscribed_without_consent(emulator, api_key, list_id) == []

    # Every contact is edited in the shop afterwards: nobody who left is subscribed again.
    for person in people:
        contact = Contact.objects.get(pk=person.pk)
        contact.last_name = "Edited"
        contact.save()
    make_all_due()
    drain()
    statuses = {p.pk: emulator.get_member(api_key, list_id, row_of(p).email)["status"] for p in people}
    assert {statuses[p.pk] for p in unsubscribed} == {"unsubscribed"}
    assert {statuses[p.pk] for p in cleaned} == {"cleaned"}
    assert "subscribed" not in {statuses[p.pk] for p in archived}  # a later write may un-archive, never subscribe
    assert {statuses[p.pk] for p in readdressed + untouched} == {"subscribed"}
    assert subscribed_without_consent(emulator, api_key, list_id) == []

    # A second pass finds nothing new: every fact was applied once.
    job = reconcile()
    assert sum(job.result["found"].values()) == 0, job.result["found"]


def test_a_change_by_hand_older_than_the_shops_own_decision_does_not_win(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=False)
    sent(person)
    person.marketing_permission = True
    person.save()  # the shop's own decision, sent now
    sent(person)
    assert row_of(person).consent_sent_at is not None
    configuration.reconciled_until = timezone.now() - timedelta(hours=3)
    configuration.save()
    emulator.edit_member_by_hand(api_key, list_id, person.email, status="unsubscribed",
                                 last_changed=timezone.now() - timedelta(hours=1))

    job = reconcile()

    assert job.result["found"]["stale"] == 1
    assert job.result["found"]["unsubscribed"] == 0
    assert Contact.objects.get(pk=person.pk).marketing_permission is True
    assert MailchimpLogEntry.objects.filter(action="reconcile.stale").exists()


def test_a_contact_with_a_change_on_the_way_is_left_to_its_send(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=False)
    sent(person)
    emulator.edit_member_by_hand(api_key, list_id, person.email, status="subscribed")  # an admin, by hand
    person.marketing_permission = True
    person.save()  # queued, not yet sent

    job = reconcile()

    assert job.result["found"]["left_for_later"] == 1
    assert row_of(person).status == SyncStatus.PENDING
    assert Contact.objects.get(pk=person.pk).marketing_permission is True


def test_a_subscription_by_hand_gives_no_consent(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=False)
    sent(person)
    emulator.edit_member_by_hand(api_key, list_id, person.email, status="subscribed")

    job = reconcile()

    assert job.result["found"]["subscribed"] == 1
    assert row_of(person).member_status == "subscribed"
    assert Contact.objects.get(pk=person.pk).marketing_permission is False


def test_a_full_pass_re_adds_a_lost_member_unsubscribed_and_counts_strangers(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    lost, forgotten, kept = new_person(permission=True), new_person(permission=True), new_person(permission=False)
    sent(lost, forgotten, kept)
    with emulator.lock:  # a send that never arrived: the member is simply not there
        audience = emulator.accounts[api_key].lists[list_id]
        del audience.members[next(h for h, m in audience.members.items() if m["email_address"] == lost.email)]
    emulator.edit_member_by_hand(api_key, list_id, forgotten.email, delete=True)
    emulator.add_members(api_key, list_id, ["stranger.%d@fastmail.com" % n for n in range(3)])

    job = reconcile(full=True)

    assert job.status == JobStatus.DONE, job.message
    assert job.result["read"] == job.result["total"] == 4  # kept and the three strangers
    assert job.result["found"]["missing_requeued"] == 2
    assert job.result["unknown_count"] == 3
    assert sorted(job.result["unknown_emails"]) == ["stranger.%d@fastmail.com" % n for n in range(3)]
    drain()
    assert emulator.get_member(api_key, list_id, lost.email)["status"] == "transactional"  # never subscribed
    assert row_of(lost).status == SyncStatus.SYNCED
    assert emulator.get_member(api_key, list_id, forgotten.email) is None  # Mailchimp refuses it for good
    assert row_of(forgotten).status == SyncStatus.FAILED
    assert "permanently deleted" in row_of(forgotten).last_error


def test_the_drainer_reconciles_on_schedule(configuration, mailchimp_account, settings):
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=True)
    sent(person)
    emulator.edit_member_by_hand(api_key, list_id, person.email, status="unsubscribed")

    run_due_work(configuration.shop_id)
    assert not MailchimpJob.objects.filter(kind=JobKind.RECONCILE).exists()  # initialized just now

    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(
        reconciled_until=timezone.now() - timedelta(hours=2))
    run_due_work(configuration.shop_id)
    job = MailchimpJob.objects.get(kind=JobKind.RECONCILE)
    assert job.status == JobStatus.DONE
    assert Contact.objects.get(pk=person.pk).marketing_permission is False
    assert MailchimpConfiguration.objects.get(pk=configuration.pk).reconciled_until > timezone.now() - timedelta(
        minutes=1)

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, RECONCILE_INTERVAL=None)
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(
        reconciled_until=timezone.now() - timedelta(days=2))
    run_due_work(configuration.shop_id)
    assert MailchimpJob.objects.filter(kind=JobKind.RECONCILE).count() == 1


def test_a_wrong_key_or_a_missing_audience_fails_clearly_and_keeps_the_starting_point(
        configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    before = MailchimpConfiguration.objects.get(pk=configuration.pk).reconciled_until
    emulator.delete_list(api_key, list_id)
    with pytest.raises(CommandError):
        reconcile()
    job = MailchimpJob.objects.get(kind=JobKind.RECONCILE)
    assert job.status == JobStatus.FAILED
    assert "does not exist" in job.message
    assert MailchimpConfiguration.objects.get(pk=configuration.pk).reconciled_until == before

    emulator.revoke_key(api_key)
    with pytest.raises(CommandError):
        reconcile()
    assert "refused the API key" in MailchimpJob.objects.filter(kind=JobKind.RECONCILE).first().message
    assert api_key not in "".join(MailchimpJob.objects.values_list("message", flat=True))


def test_a_reconciliation_mailchimp_throttles_throttles_the_shop(configuration, mailchimp_account):
    """The same classification as the drainer's: a 429 leaves Mailchimp alone for a while, sends included."""
    from shoop_mailchimp.mailchimp import limits

    emulator, api_key, list_id = mailchimp_account
    emulator.faults.fail("/lists/*/members", status=429, times=1)
    with pytest.raises(CommandError):
        reconcile()
    job = MailchimpJob.objects.get(kind=JobKind.RECONCILE)
    assert job.status == JobStatus.FAILED and "try again later" in job.message
    assert limits.shop_throttled_for(configuration.shop_id) > 0
    person = new_person()
    drain()
    assert row_of(person).status == SyncStatus.PENDING, "nothing is sent while the shop is throttled"


def test_the_command_names_a_shop_that_cannot_be_reconciled(db):
    with pytest.raises(CommandError, match="no active Mailchimp configuration"):
        call_command("mailchimp_reconcile", "--shop", "999")


def test_the_pending_consent_of_a_queued_row_survives(configuration, mailchimp_account):
    """A row queued by the shop (new consent) while Mailchimp still shows the old unsubscribe: left alone."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=True)
    sent(person)
    emulator.edit_member_by_hand(api_key, list_id, person.email, status="unsubscribed")
    record(configuration.shop_id, SyncKind.CONTACT, [person.pk])
    reconcile()
    assert Contact.objects.get(pk=person.pk).marketing_permission is True


def test_a_consent_recorded_while_a_page_is_applied_is_not_withdrawn(configuration, mailchimp_account):
    """The page's rows are read at its start; a row queued meanwhile is read again before its fact applies."""
    from django.db.models.signals import post_save

    emulator, api_key, list_id = mailchimp_account
    first, second = new_person(permission=True), new_person(permission=True)
    sent(first, second)
    for person in (first, second):
        emulator.edit_member_by_hand(api_key, list_id, person.email, status="unsubscribed")
    queued = []

    def shop_changes_the_other(sender, instance, created, **kwargs):
        if created and instance.action == "reconcile.unsubscribe" and not queued:
            other = second if instance.contact_id == first.pk else first
            record(configuration.shop_id, SyncKind.CONTACT, [other.pk])  # e.g. the person ticked the box again
            queued.append(other)

    post_save.connect(shop_changes_the_other, sender=MailchimpLogEntry, dispatch_uid="test-concurrent-consent")
    try:
        job = reconcile()
    finally:
        post_save.disconnect(dispatch_uid="test-concurrent-consent", sender=MailchimpLogEntry)

    assert queued and (job.result["found"]["unsubscribed"], job.result["found"]["left_for_later"]) == (1, 1)
    assert Contact.objects.get(pk=queued[0].pk).marketing_permission is True


def test_an_address_changed_in_mailchimp_while_the_shop_sends_is_followed(configuration, mailchimp_account):
    """The e-mail change is Mailchimp's alone: applied even while the contact has a send on its way, so the
    send and a later withdrawal reach the person's real member."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=True, email="first.address@fastmail.com")
    sent(person)
    emulator.edit_member_by_hand(api_key, list_id, person.email, new_email="second.address@fastmail.com")
    emulator.faults.fail("/lists/*/members/*", status=503, method="PUT", times=1)
    person.last_name = "Renamed"
    person.save()
    drain()
    assert row_of(person).status == SyncStatus.PENDING

    job = reconcile()

    assert job.result["found"]["email_changed"] == 1
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, "first.address@fastmail.com") is None, "no second member"
    person.marketing_permission = False
    person.save()
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, "second.address@fastmail.com")["status"] == "unsubscribed"


def test_a_status_left_for_a_send_on_its_way_is_read_again_by_the_next_pass(configuration, mailchimp_account,
                                                                             settings):
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=True)
    sent(person)
    emulator.edit_member_by_hand(api_key, list_id, person.email, status="cleaned")
    record(configuration.shop_id, SyncKind.CONTACT, [person.pk])  # a change of the shop's, not yet sent
    assert reconcile().result["found"]["left_for_later"] == 1
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    SyncState.objects.filter(pk=row_of(person).pk).update(status=SyncStatus.SYNCED)  # sent, as a drain would
    job = reconcile()
    assert job.result["found"]["cleaned"] == 1, "the pass after reads the member again"


def test_a_consent_the_shop_failed_to_send_outranks_an_older_unsubscribe(configuration, mailchimp_account,
                                                                          settings):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, MAX_ATTEMPTS=1)
    person = new_person(permission=False)
    sent(person)
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(
        reconciled_until=timezone.now() - timedelta(hours=3))
    emulator.edit_member_by_hand(api_key, list_id, person.email, status="unsubscribed",
                                 last_changed=timezone.now() - timedelta(hours=1))
    emulator.faults.fail_email(person.email, status=500, title="Internal Server Error")
    person.marketing_permission = True
    person.save()  # a newer decision of the person's, which Mailchimp never got
    drain()
    assert row_of(person).status == SyncStatus.FAILED
    emulator.faults.clear()

    job = reconcile()

    assert job.result["found"]["left_for_later"] == 1 and job.result["found"]["unsubscribed"] == 0
    assert Contact.objects.get(pk=person.pk).marketing_permission is True


def test_members_swapping_addresses_in_mailchimp_keep_their_contacts(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    first = new_person(permission=True, email="aaa@fastmail.com")
    second = new_person(permission=False, email="bbb@fastmail.com")
    sent(first, second)
    ids = {first.pk: row_of(first).unique_email_id, second.pk: row_of(second).unique_email_id}
    for old, new in (("aaa", "tmp"), ("bbb", "aaa"), ("tmp", "bbb")):
        emulator.edit_member_by_hand(api_key, list_id, old + "@fastmail.com", new_email=new + "@fastmail.com")

    reconcile()

    addresses = {m["unique_email_id"]: m["email_address"] for m in emulator.members(api_key, list_id)}
    assert row_of(first).email == addresses[ids[first.pk]] == "bbb@fastmail.com"
    assert row_of(second).email == addresses[ids[second.pk]] == "aaa@fastmail.com"


def test_a_member_changed_while_the_pages_are_read_shifts_no_other_out_of_them(configuration, mailchimp_account):
    from shoop_mailchimp import reconciliation
    from shoop_mailchimp.mailchimp.transport import open_session

    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=True)
    sent(person)
    # The person consented before the others joined and unsubscribed an hour ago (an unsubscribe fired before the
    # shop's consent would not undo it).
    SyncState.objects.filter(pk=row_of(person).pk).update(consent_changed_at=timezone.now() - timedelta(hours=3))
    long_ago = (timezone.now() - timedelta(hours=2)).replace(microsecond=0).isoformat()
    emulator.add_members(api_key, list_id, ["other.%d@fastmail.com" % n for n in range(1000)], last_changed=long_ago)
    emulator.edit_member_by_hand(api_key, list_id, person.email, status="unsubscribed",
                                 last_changed=timezone.now() - timedelta(hours=1))

    def a_member_of_the_first_page_changes(report):
        if report["read"] == 1000:
            emulator.edit_member_by_hand(api_key, list_id, "other.0@fastmail.com", status="unsubscribed")

    with open_session(configuration) as session:
        report = reconciliation.reconcile(configuration, session, full=True,
                                          progress=a_member_of_the_first_page_changes)

    assert report["found"]["unsubscribed"] == 1 and report["found"]["missing_requeued"] == 0
    assert Contact.objects.get(pk=person.pk).marketing_permission is False


def test_a_failing_reconciliation_is_tried_again_an_interval_later_not_every_round(configuration,
                                                                                    mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(
        reconciled_until=timezone.now() - timedelta(hours=2))
    emulator.faults.fail("/lists/*/members", status=503, method="GET")
    for _ in range(4):
        run_due_work(configuration.shop_id)
    assert list(MailchimpJob.objects.filter(kind=JobKind.RECONCILE).values_list("status", flat=True)) == [
        JobStatus.FAILED]
    MailchimpJob.objects.update(created_on=timezone.now() - timedelta(hours=2))
    run_due_work(configuration.shop_id)
    assert MailchimpJob.objects.filter(kind=JobKind.RECONCILE).count() == 2


def test_the_command_says_when_no_shop_can_be_reconciled(configuration, capsys):
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(paused_reason="Mailchimp refused the key")
    call_command("mailchimp_reconcile")
    assert "nothing was reconciled" in capsys.readouterr().err


def test_a_new_member_at_an_address_a_contact_left_is_not_that_contact(configuration, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=True, email="moving@fastmail.com")
    sent(person)
    emulator.edit_member_by_hand(api_key, list_id, "moving@fastmail.com", new_email="moved@fastmail.com")
    emulator.add_members(api_key, list_id, ["moving@fastmail.com"], status="unsubscribed")  # someone else

    job = reconcile()

    assert (job.result["found"]["email_changed"], job.result["found"]["unsubscribed"]) == (1, 0)
    assert row_of(person).email == "moved@fastmail.com"
    assert Contact.objects.get(pk=person.pk).marketing_permission is True


def test_ended_reconciliations_are_kept_a_month_and_the_newest_full_one_longer(configuration):
    def ended(days_ago, full, status=JobStatus.DONE):
        moment = timezone.now() - timedelta(days=days_ago)
        job = MailchimpJob.objects.create(shop_id=configuration.shop_id, kind=JobKind.RECONCILE, status=status,
                                          params={"full": full}, finished_on=moment)
        MailchimpJob.objects.filter(pk=job.pk).update(created_on=moment)
        return job.pk

    newest_full, recent = ended(35, True), ended(1, False)
    ended(40, True), ended(40, False), ended(40, False, JobStatus.FAILED)
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(
        reconciled_until=timezone.now() - timedelta(hours=2))

    run_due_work(configuration.shop_id)

    kept = set(MailchimpJob.objects.filter(kind=JobKind.RECONCILE).values_list("pk", flat=True))
    assert {newest_full, recent} < kept and len(kept) == 3, "and the pass just made"


def test_a_full_pass_gives_rows_sent_before_ids_were_kept_their_members_id(configuration, mailchimp_account):
    """Rows sent by older versions have no ``unique_email_id``: a full pass finds their members by address
    and keeps the id (in one UPDATE per 200 rows), so a later address change is followed."""
    from shoop_mailchimp.sync import state

    emulator, api_key, list_id = mailchimp_account
    people = [new_person() for _ in range(5)]
    sent(*people)
    ids = {person.pk: row_of(person).unique_email_id for person in people}
    assert all(ids.values())
    SyncState.objects.filter(kind="contact").update(unique_email_id="")
    reconcile(full=True)
    assert {person.pk: row_of(person).unique_email_id for person in people} == ids
    # A row that learnt its id meanwhile (a send) keeps it.
    assert state.remember_member_ids({row_of(people[0]).pk: "another"}) == 0
    assert row_of(people[0]).unique_email_id == ids[people[0].pk]


def test_the_command_waits_for_a_job_of_the_shop_that_runs(monkeypatch, configuration, mailchimp_account, capsys):
    """``mailchimp_reconcile`` while a drainer runs another job of the shop (an account check, as it could be an
    Initialize or a Disconnect): its reconciliation does not run beside it (the jobs of one shop run one at a time)
    but stays queued, and the drainer runs it after (third review of issue 19)."""
    from shoop_mailchimp.sync import jobs

    emulator, api_key, list_id = mailchimp_account
    original = jobs.resources.ping
    during = []

    def ping_while_the_command_runs(session):
        answer = original(session)
        if not during:
            emulator.clear_requests()
            during.append(reconcile())
            during.append([r["path"] for r in emulator.requests if "/members" in r["path"]])
        return answer

    monkeypatch.setattr(jobs.resources, "ping", ping_while_the_command_runs)
    jobs.request_job(configuration.shop_id, JobKind.CHECK_ACCOUNT)
    ran = jobs.run_due_jobs(configuration.shop_id)
    job, members_read = during
    assert (job.status, members_read) == (JobStatus.QUEUED, []), "the reconciliation ran beside the account check"
    assert ran == 2
    assert "another Mailchimp job of this shop is running" in capsys.readouterr().out
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    assert job.started_on >= MailchimpJob.objects.get(kind=JobKind.CHECK_ACCOUNT).finished_on


def test_a_page_read_before_a_send_moved_the_member_does_not_take_the_row_back(configuration, mailchimp_account):
    """Found by the reconciliation chaos test on PostgreSQL: a reconciliation asked for a page of members, the shop's
    send then moved a contact's member to its new address, and the page (read before the move) showed the member
    at the old one. Taken as an address changed in Mailchimp, it pointed the row back at the old address, and the
    next send re-created a member there, subscribed without anybody's consent. A row sent after the page was asked
    for is left for the next pass."""
    from shoop_mailchimp import reconciliation

    person = new_person(permission=True, email="before.move@fastmail.com")
    sent(person)
    asked_at = timezone.now()
    person.email = "after.move@fastmail.com"
    person.save()
    sent(person)
    row = row_of(person)
    assert row.email == "after.move@fastmail.com" and row.unique_email_id
    stale_page = [{"email_address": "before.move@fastmail.com", "unique_email_id": row.unique_email_id,
                   "status": "subscribed", "last_changed": (asked_at - timedelta(seconds=1)).isoformat()}]
    report = reconciliation.new_report(True, None)
    deferred = []

    reconciliation._apply_page(configuration, stale_page, report, deferred, asked_at)

    assert row_of(person).email == "after.move@fastmail.com"
    assert report["found"]["left_for_later"] == 1 and deferred
    report = reconcile(full=True)
    assert row_of(person).email == "after.move@fastmail.com"
