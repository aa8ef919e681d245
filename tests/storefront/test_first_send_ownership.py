"""An account's first send at an address nobody proved: whose the member is, decided in a batch as one by one
(found by independent review aud15, issue 19; each docstring tells what went wrong before the fix)."""
import threading
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from shuup.core.models import PersonContact, get_person_contact

from shoop_mailchimp.models import SyncKind, SyncState, SyncStatus
from shoop_mailchimp.storefront import views
from shoop_mailchimp.sync import bulk
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, new_person, row_of, send_due, wait_for
from tests.storefront.helpers import choose, page_messages, presses_on_account_page, registered_account
from tests.webhooks.helpers import post_event

pytestmark = pytest.mark.django_db


def ann_subscribes_while_the_write_is_held(mailchimp_account, email, reads):
    """One round whose first ``reads`` member requests are answered at once and whose member write after them arrives
    a second later; meanwhile Ann subscribes with ``email`` on Mailchimp's own form. Her member keeps her names."""
    emulator, api_key, list_id = mailchimp_account
    emulator.faults.hang(0.01, path_pattern="*/members*", times=reads)
    emulator.faults.hang(1, path_pattern="*/members*", times=1)
    ann_subscribes = threading.Timer(0.3, lambda: emulator.add_members(
        api_key, list_id, [email], status="subscribed", merge_fields={"FNAME": "Ann"}))
    ann_subscribes.start()
    make_all_due()
    drain()
    ann_subscribes.join()
    member = emulator.get_member(api_key, list_id, email)
    assert (member["status"], member["merge_fields"]["FNAME"]) == ("subscribed", "Ann")


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("sent_by", ["one-by-one", "sync-existing"])
def test_a_strangers_account_sent_in_the_same_batch_cannot_unsubscribe_the_address(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings, sent_by):
    """Ann's account and Mallory's (registered with Ann's address; Shuup verifies nothing) both carry a consent older
    than the integration; neither address is proven. One by one, Ann's first send creates the member (hers) and
    Mallory's finds it (foreign_member): Mallory's *Unsubscribe* ends only her account's consent. "Sync existing"
    sends both in one batch: both reads find no member, both writes are the full 'creating' write, and both rows
    record the member as their own (foreign_member False): Mallory's *Unsubscribe* now unsubscribes Ann, and her
    names overwrite Ann's."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    email = "ann.batch.%s.aud15@fastmail.com" % sent_by
    users = {}
    for name in ("ann", "mallory"):
        users[name] = django_user_model.objects.create_user("%s15%s" % (name, sent_by[:3]), email, "pw")
        contact = PersonContact.objects.create(user=users[name], email=email, first_name=name.title(),
                                               marketing_permission=True)
        contact.add_to_shop(shop)
        if sent_by == "one-by-one":
            send_due(rounds=2)
    if sent_by == "sync-existing":
        SyncState.objects.filter(kind=SyncKind.CONTACT).delete()  # older than the integration
        bulk.sync_existing(configuration.shop_id, poll_interval=0.05, timeout=30)
        send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users["mallory"])
    messages = page_messages(choose(browser, subscribe=False))
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == "subscribed", (
        "a stranger's account sent in the same batch unsubscribed Ann (%s)" % messages)


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("customer_fails", [False, True], ids=["control", "customer-failed-once"])
def test_a_shoppers_unsubscribe_ends_the_subscription_her_own_consent_made_after_a_batch_retry(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, customer_fails, settings):
    """Bea's account (she never clicked its activation link) carries a consent older than the integration; "Sync
    existing" sends it: Mailchimp holds no member of her address, so the batch creates hers, subscribed (her own:
    foreign_member False). If the batch's customer PUT fails once (a 500), the row closes as a retry with
    written_facts, which carry no foreign_member: the row stays "not known" (None) for good (a send that is not an
    arrival never records it). Bea then presses *Unsubscribe* on her account page: it is taken as her account's
    consent only, and the subscription her own consent made stays in Mailchimp: she keeps getting the newsletter."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")  # saves only record
    email = "bea.aud15.%d@fastmail.com" % customer_fails
    bea_user = django_user_model.objects.create_user("bea15%d" % customer_fails, email, "pw")
    bea = PersonContact.objects.create(user=bea_user, email=email, first_name="Bea", marketing_permission=True)
    bea.add_to_shop(configuration.shop)
    SyncState.objects.filter(kind=SyncKind.CONTACT, object_id=bea.pk).delete()  # older than the integration
    assert emulator.get_member(api_key, list_id, email) is None
    if customer_fails:
        emulator.faults.fail("*/customers/*", status=500, method="PUT", times=1)
    bulk.sync_existing(configuration.shop_id, poll_interval=0.05, timeout=30)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    row = SyncState.objects.get(kind=SyncKind.CONTACT, object_id=bea.pk)
    assert row.opt_in is True and row.status == "synced"
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(bea_user)
    messages = page_messages(choose(browser, subscribe=False))
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed", (
        "Bea unsubscribed on her account page and stays subscribed (%s; foreign_member %r)" % (
            messages, SyncState.objects.get(pk=row.pk).foreign_member))
    assert messages == [str(views.UNSUBSCRIBED)]


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("failed_retries", [0, 2], ids=["retried-at-once", "two-failed-retries-between"])
def test_a_first_send_whose_answer_was_lost_keeps_the_member_it_created_as_its_own(
        configuration, mailchimp_account, settings, failed_retries):
    """A shopper's account is sent for the first time: Mailchimp holds no member of the address, the shop reads
    that, and writes the member (with her names). Mailchimp takes the write, but the answer never comes back (the
    read times out). The retry reads the member again, finds the one its own write created, and takes it as a
    stranger's (foreign_member): none of her later edits ever reaches Mailchimp.

    With retries that failed in between (Mailchimp answering 503), the member was recognised by the last claim's
    time only, and the attempt after them took it for a stranger's (review aud16 F5)."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5)
    person = new_person(permission=False, first_name="Lost", email="lost.answer.%d.aud15@fastmail.com" % failed_retries)
    # The member read answers at once; the member write is held until the client gave up on it.
    emulator.faults.hang(0.01, path_pattern="*/members*", times=1)
    emulator.faults.hang(60, path_pattern="*/members*", times=1)
    drain()  # the write times out (TIMEOUT): Mailchimp still holds it
    assert row_of(person).status == SyncStatus.PENDING, "the timed-out write is retried"
    assert emulator.get_member(api_key, list_id, person.email) is None
    emulator.release_hangs()  # Mailchimp takes the write whose answer was lost
    wait_for(emulator, lambda: emulator.get_member(api_key, list_id, person.email), "the write reaching Mailchimp")
    assert emulator.get_member(api_key, list_id, person.email)["merge_fields"]["FNAME"] == "Lost"
    emulator.faults.clear()
    for _attempt in range(failed_retries):
        emulator.faults.fail("*/members/*", status=503, method="GET", times=1)
        make_all_due()
        drain()
        assert row_of(person).status == SyncStatus.PENDING
    make_all_due()
    drain()
    assert row_of(person).status == SyncStatus.SYNCED
    PersonContact.objects.filter(pk=person.pk).update(first_name="Edited")
    PersonContact.objects.get(pk=person.pk).save()
    make_all_due()
    drain()
    member = emulator.get_member(api_key, list_id, person.email)
    assert member["merge_fields"]["FNAME"] == "Edited", "the shopper's own edit never reaches her member"
    assert row_of(person).foreign_member is not True, "the member its own write created is taken as another's"


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "answer-lost"])
def test_an_unproven_shoppers_own_signup_whose_answer_was_lost_is_still_hers_to_unsubscribe(
        configuration, mailchimp_account, settings, django_user_model, newsletter_block, lost):
    """Cay registers (she has not clicked the activation link yet) and subscribes on her account page: a consent
    for an address nobody proved (signup), sent one by one: the member is read (none), then written, subscribed.
    Mailchimp takes the write, but its answer is lost (a read timeout). The retry's signup read finds the member
    her own write created and takes it as a stranger's (foreign_member True): her *Unsubscribe* on the account
    page then ends "her account's consent only", and the subscription her own consent made stays in Mailchimp."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5)
    email = "cay.aud15.%d@fastmail.com" % lost
    user = django_user_model.objects.create_user("cay15%d" % lost, email, "pw")
    cay = PersonContact.objects.create(user=user, email=email, first_name="Cay")
    cay.add_to_shop(configuration.shop)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    choose(browser, subscribe=True)
    assert row_of(cay).consent_request == "signup"
    if lost:
        emulator.faults.hang(0.01, path_pattern="*/members*", times=1)  # the read answers
        emulator.faults.hang(60, path_pattern="*/members*", times=1)  # the write's answer never comes
        make_all_due()
        drain()
        emulator.release_hangs()
        wait_for(emulator, lambda: emulator.get_member(api_key, list_id, email), "the write reaching Mailchimp")
        emulator.faults.clear()
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    assert row_of(cay).status == SyncStatus.SYNCED
    messages = page_messages(choose(browser, subscribe=False))
    for _round in range(3):
        make_all_due()
        drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed", (
        "Cay unsubscribed and stays subscribed: %s (foreign_member %r)" % (messages, row_of(cay).foreign_member))


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("saved_after", [False, True], ids=["activation-alone", "saved-after"])
def test_a_guest_buyer_who_proves_her_address_after_her_accounts_first_send_gets_her_data_on_her_member(
        shop_b, configuration, mailchimp_account, settings, saved_after):
    """Dee bought as a guest (Mailchimp holds her address as a transactional member, named as she typed it at that
    checkout: "D.") in both shops, then registered an account with the address. Its first send in each shop found the
    member and took it as another's (foreign_member): none of her data went there, and the row recorded the member's
    half of the fingerprint as sent. She then clicks the activation link: the address is proven hers, yet nothing
    sent her again, and a later save (nothing of hers changed) skipped the member write as unchanged: her names never
    reached her own member, and the row stayed foreign_member (found by independent review aud15, finding 8)."""
    from tests.storefront.test_registration import activate_account, register

    emulator, api_key, list_id = mailchimp_account
    shop, list_b = shop_b
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    email = "dee.aud15.%d@fastmail.com" % saved_after
    for audience in (list_id, list_b):
        emulator.add_members(api_key, audience, [email], status="transactional", merge_fields={"FNAME": "D."})
    dee = register(Client(), "dee15%d" % saved_after, ticked=False, activate=False, email=email)
    dee.first_name, dee.last_name = "Dee", "Proven"
    dee.save()
    send_due(rounds=2)
    for shop_id, audience in ((configuration.shop_id, list_id), (shop.pk, list_b)):
        assert row_of(dee, shop_id).foreign_member is True
        assert emulator.get_member(api_key, audience, email)["merge_fields"]["FNAME"] == "D."
    activate_account(dee)  # she clicks the link mailed to her address
    if saved_after:
        PersonContact.objects.get(pk=dee.pk).save()  # a later save changing nothing of hers
    send_due(rounds=2)
    for shop_id, audience in ((configuration.shop_id, list_id), (shop.pk, list_b)):
        member = emulator.get_member(api_key, audience, email)
        assert (member["merge_fields"]["FNAME"], member["merge_fields"]["LNAME"]) == ("Dee", "Proven"), (
            "her data never reaches her member (foreign_member %r)" % row_of(dee, shop_id).foreign_member)
        assert member["status"] == "transactional", "her proof is no consent"
        row = row_of(dee, shop_id)
        assert (row.foreign_member, row.status) == (False, SyncStatus.SYNCED)


# Found by independent review aud16 (issue 19): a move onto another's member with consent.
@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_stranger_moving_onto_a_subscribers_address_with_consent_does_not_own_her_subscription(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block):
    """Ann subscribed on Mailchimp's own form. Mallory's account (her own address, no consent: its own transactional
    member) types Ann's address into the account and ticks the box in the same save. The move meets Ann's member
    (member exists): Mallory's old member is archived and the consent is written to Ann's, which was subscribed
    already. consent_made compares the answer with the status of Mallory's OLD member (transactional), and records
    Ann's subscription as made by Mallory's consent: Mallory's Unsubscribe then ends Ann's subscription."""
    emulator, api_key, list_id = mailchimp_account
    email = "ann.move.target@fastmail.com"
    emulator.add_members(api_key, list_id, [email], status="subscribed", merge_fields={"FNAME": "Ann"})
    user, mallory = registered_account(shop, django_user_model, "mallory16m", "mallory.own.16m@fastmail.com",
        first_name="Mallory")
    send_due(rounds=3)
    assert SyncState.objects.get(kind=SyncKind.CONTACT, object_id=mallory.pk).member_status == "transactional"
    mallory = get_person_contact(user)
    mallory.email = email
    mallory.marketing_permission = True
    mallory.save()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert (member["status"], member["merge_fields"]["FNAME"]) == ("subscribed", "Ann")
    presses_on_account_page(user, subscribe=False)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", (
        "a stranger who typed Ann's address into its account unsubscribed her (row: %r)" % (
            SyncState.objects.filter(kind=SyncKind.CONTACT, object_id=mallory.pk).values(
                "foreign_member", "consent_made").get(),))


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_stranger_moving_onto_an_unconfirmed_signups_address_with_consent_does_not_confirm_it_for_her(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block):
    """Ann signed up on Mailchimp's own (double opt-in) form and has not confirmed: her member is pending. Mallory's
    account (own address, no consent) types Ann's address into the account and ticks the box in one save (single
    opt-in shop). The move meets Ann's member: its owner should confirm the shop's consent first ("unless subscribed"),
    but a pending member keeps the status change, and the write subscribes Ann on a stranger's word."""
    emulator, api_key, list_id = mailchimp_account
    email = "ann.unconfirmed@fastmail.com"
    emulator.add_members(api_key, list_id, [email], status="pending", merge_fields={"FNAME": "Ann"})
    user, mallory = registered_account(shop, django_user_model, "mallory16n", "mallory.own.16n@fastmail.com")
    send_due(rounds=3)
    mallory = get_person_contact(user)
    mallory.email = email
    mallory.marketing_permission = True
    mallory.save()
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "pending", (
        "a stranger's consent, typed with Ann's address, subscribed her unconfirmed signup")


# Found by independent review aud16 (issue 19): an erasure clears only data the erased contact wrote.
@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_erasing_one_of_two_contacts_whose_member_is_a_form_subscribers_keeps_her_data(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block):
    """Ann subscribed on Mailchimp's own form (her names are Mailchimp's). Two contacts of the shop carry her address,
    neither proven and neither ever written there (foreign_member: the staff's duplicate contact, an account someone
    registered). Erasing one of them (GDPR) clears 'the erased person's data' from the member it shares with the
    other: the merge fields are sent empty, though none of the erased contact's data was ever on it. The other
    contact, sent again, writes nothing there either (not its member): Ann's names are gone for good."""
    emulator, api_key, list_id = mailchimp_account
    email = "ann.form.names@fastmail.com"
    emulator.add_members(api_key, list_id, [email], status="subscribed",
                         merge_fields={"FNAME": "Ann", "LNAME": "Form"})
    duplicate = PersonContact.objects.create(email=email, first_name="Staff", last_name="Typed")
    duplicate.add_to_shop(shop)
    user, account = registered_account(shop, django_user_model, "other16i", email, first_name="Someone")
    send_due(rounds=3)
    assert (row_of(duplicate).foreign_member, row_of(account).foreign_member) == (True, True)
    assert emulator.get_member(api_key, list_id, email)["merge_fields"]["FNAME"] == "Ann"
    PersonContact.objects.get(pk=duplicate.pk).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == "subscribed"
    assert (member["merge_fields"]["FNAME"], member["merge_fields"]["LNAME"]) == ("Ann", "Form"), (
        "erasing a contact none of whose data was on the member wiped its owner's names: %r" % member["merge_fields"])


# Found by independent review aud16 (issue 19): a member another row created in the same second is not taken.
@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_member_created_by_another_row_claimed_in_the_same_second_is_not_taken_for_the_strangers_own(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings):
    """Ann's contact and a stranger's account with her address (registered by someone else, never activated, its
    consent ticked) are claimed by the same worker round: one claim time for both. Ann's first send finds no member
    and creates hers (subscribed, her names), its timestamp_signup the round's claim time. The stranger's first send
    finds Ann's member (another's) but Mailchimp answers its write 500 (or 429): it is tried again. Its retry reads
    the member, whose timestamp_signup equals the row's previous claim time, and takes it for the member its own lost
    attempt created: it writes the stranger's names over Ann's and records the member as its own (foreign_member
    False). The stranger's storefront Unsubscribe then unsubscribes Ann."""
    from collections import Counter

    from shuup.core.models import PersonContact

    from shoop_mailchimp.sync import state
    from shoop_mailchimp.sync.drainer import ShopDelivery

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    email = "ann.same.second@fastmail.com"
    ann = PersonContact.objects.create(email=email, first_name="Ann", marketing_permission=True)
    ann.add_to_shop(shop)
    user, stranger = registered_account(shop, django_user_model, "stranger16d", email, first_name="Stranger",
        marketing_permission=True)
    rows = state.claim()  # one round takes both rows
    by_contact = {row.object_id: row for row in rows}
    assert {ann.pk, stranger.pk} <= set(by_contact)
    ShopDelivery(configuration.shop_id, Counter()).deliver([by_contact[ann.pk]])
    assert emulator.get_member(api_key, list_id, email)["merge_fields"]["FNAME"] == "Ann"
    emulator.faults.fail("*/members/*", status=500, method="PUT", times=1)  # the stranger's write fails once
    ShopDelivery(configuration.shop_id, Counter()).deliver([by_contact[stranger.pk]])
    emulator.faults.clear()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member["merge_fields"]["FNAME"] == "Ann", (
        "the stranger's retry took Ann's member for its own lost attempt's and renamed it %r"
        % member["merge_fields"]["FNAME"])
    presses_on_account_page(user, subscribe=False)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", (
        "a stranger's account unsubscribed Ann (its row took her member for its own: foreign_member %r)"
        % row_of(stranger).foreign_member)


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("consent_by", ["staff-tick", "storefront-subscribe"])
def test_a_skipped_claim_in_the_second_another_row_created_the_member_does_not_make_it_the_strangers(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings, consent_by):
    """The shop sends only people who consented (send_unconsented off). Ann's contact (consenting) and a stranger's
    account registered with her address (no consent) are taken by one worker round: Ann's send creates her member
    (timestamp_signup: the round's claim time); the stranger's is skipped (no consent), its row keeping that claim
    time. Later the stranger's account consents: its first send reads Ann's member, whose timestamp_signup is the
    row's previous claim time, and takes it for one its own lost attempt created. No attempt of the stranger's ever
    wrote anything. It renames Ann's member and its Unsubscribe then unsubscribes her."""
    from collections import Counter

    from shuup.core.models import PersonContact

    from shoop_mailchimp.sync import state
    from shoop_mailchimp.sync.drainer import ShopDelivery

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    configuration.send_unconsented = False
    configuration.save()
    emulator, api_key, list_id = mailchimp_account
    email = "ann.skipped.%s@fastmail.com" % consent_by
    ann = PersonContact.objects.create(email=email, first_name="Ann", marketing_permission=True)
    ann.add_to_shop(shop)
    user, stranger = registered_account(shop, django_user_model, "stranger16g" + consent_by[:3], email,
        first_name="Stranger")
    rows = state.claim()  # one round takes both rows
    assert {ann.pk, stranger.pk} <= {row.object_id for row in rows}
    ShopDelivery(configuration.shop_id, Counter()).deliver(rows)
    assert emulator.get_member(api_key, list_id, email)["merge_fields"]["FNAME"] == "Ann"
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    if consent_by == "staff-tick":
        stranger = get_person_contact(user)
        stranger.marketing_permission = True
        stranger.save()
    else:
        choose(browser, subscribe=True)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member["merge_fields"]["FNAME"] == "Ann", (
        "the stranger's first send took Ann's member for its own and renamed it %r (foreign_member %r)"
        % (member["merge_fields"]["FNAME"], row_of(stranger).foreign_member))
    choose(browser, subscribe=False)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", (
        "a stranger's account unsubscribed Ann")


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_sync_existing_skipping_a_stranger_does_not_make_the_member_another_row_created_the_strangers(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings):
    """The previous probe through "Sync existing" (send_unconsented off): every row of the bulk run is leased at one
    moment, so Ann's member (created by the run) carries the very claim time the stranger's skipped row keeps. When
    the stranger's account later presses Subscribe, its signup read takes Ann's member for its own."""
    from shuup.core.models import PersonContact

    from shoop_mailchimp.sync import bulk

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    configuration.send_unconsented = False
    configuration.save()
    emulator, api_key, list_id = mailchimp_account
    email = "ann.sync.existing@fastmail.com"
    ann = PersonContact.objects.create(email=email, first_name="Ann", marketing_permission=True)
    ann.add_to_shop(shop)
    user, stranger = registered_account(shop, django_user_model, "stranger16k", email, first_name="Stranger")
    SyncState.objects.filter(kind=SyncKind.CONTACT).delete()  # older than the integration
    bulk.sync_existing(configuration.shop_id, poll_interval=0.05, timeout=30)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["merge_fields"]["FNAME"] == "Ann"
    browser = presses_on_account_page(user, subscribe=True)
    choose(browser, subscribe=False)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert (member["status"], member["merge_fields"]["FNAME"]) == ("subscribed", "Ann"), (
        "the stranger's account took Ann's member for its own (foreign_member %r): %r"
        % (row_of(stranger).foreign_member, member))


# Found by independent review aud16 (issue 19): an owner proving her address takes the member from a stranger.
@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_an_owner_who_proves_her_address_keeps_her_data_against_the_stranger_whose_send_created_the_member(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block):
    """Mallory registers an account with Ann's address first (never activated): Mailchimp holds no member, so her
    send creates one and takes it as her own (foreign_member False). Ann registers later: her first send finds
    Mallory's member (foreign). Ann clicks her activation link (record_proof): her next send takes the member as her
    own and writes her names. Nothing tells Mallory's row the member is no longer hers: Mallory's next edit writes
    her names over Ann's proven member."""
    from shoop_mailchimp import shop_consent

    emulator, api_key, list_id = mailchimp_account
    email = "ann.proves.later@fastmail.com"
    mallory_user, mallory = registered_account(shop, django_user_model, "mallory16c", email, first_name="Mallory")
    send_due(rounds=3)
    assert row_of(mallory).foreign_member is False
    assert emulator.get_member(api_key, list_id, email)["merge_fields"]["FNAME"] == "Mallory"
    ann_user, ann = registered_account(shop, django_user_model, "ann16c", email, first_name="Ann")
    send_due(rounds=3)
    assert row_of(ann).foreign_member is True
    shop_consent.record_proof(ann.pk, email)  # Ann clicks the activation link mailed to her address
    send_due(rounds=3)
    assert row_of(ann).foreign_member is False
    assert emulator.get_member(api_key, list_id, email)["merge_fields"]["FNAME"] == "Ann"
    mallory = get_person_contact(mallory_user)
    mallory.last_name = "Edited"
    mallory.save()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert (member["merge_fields"]["FNAME"], member["merge_fields"].get("LNAME", "")) == ("Ann", ""), (
        "an unproven stranger's edit overwrote the names of the member Ann proved hers: %r" % member["merge_fields"])


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_an_owner_who_proved_her_address_and_subscribed_is_not_unsubscribed_by_the_stranger_whose_send_created_it(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block):
    """As above (Mallory's send created the member, Ann proved the address hers and took it), then Ann subscribes on
    Mailchimp's own form. Mallory's account gets a consent (the staff's tick) and then presses Unsubscribe on its
    account page: Mallory's row still records the member as its own (foreign_member False), so the withdrawal is
    taken as the address's and Ann, who proved the address hers and subscribed herself, is unsubscribed."""
    from shoop_mailchimp import shop_consent

    emulator, api_key, list_id = mailchimp_account
    email = "ann.proves.subscribes@fastmail.com"
    mallory_user, mallory = registered_account(shop, django_user_model, "mallory16f", email, first_name="Mallory")
    send_due(rounds=3)
    ann_user, ann = registered_account(shop, django_user_model, "ann16f", email, first_name="Ann")
    send_due(rounds=3)
    shop_consent.record_proof(ann.pk, email)
    send_due(rounds=3)
    assert row_of(ann).foreign_member is False
    emulator.set_member_status(api_key, list_id, email, "subscribed")  # Ann subscribes on Mailchimp's form
    assert post_event(Client(), configuration, "subscribe", email=email).status_code == 200
    mallory = get_person_contact(mallory_user)
    mallory.marketing_permission = True  # the staff's tick
    mallory.save()
    send_due(rounds=3)
    presses_on_account_page(mallory_user, subscribe=False)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", (
        "an unproven stranger's Unsubscribe ended the subscription of Ann, who proved the address hers")


def fired(seconds_ago):
    """A webhook's ``fired_at``, ``seconds_ago`` before now."""
    return (timezone.now() - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%d %H:%M:%S")


# Found by independent review aud16 (issue 19): a consent for a member not the contact's reads its status first.
@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("ends_by", ["storefront-unsubscribe", "deleted", "moved"])
def test_a_late_subscribe_webhook_of_the_owners_resubscription_leaves_it_the_strangers_to_end(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, ends_by):
    """Ann subscribed on Mailchimp's own form. A stranger registers an account with her address (never activated):
    its first send finds Ann's member, not its own. Ann unsubscribes in Mailchimp (webhook delivered: the row knows
    'unsubscribed'), then re-subscribes on Mailchimp's form 30 seconds later; that subscribe webhook is delivered
    late (Mailchimp's deliveries are queued). Meanwhile the staff tick the stranger's consent: its send sends the
    consent as a change to a member the row believes unsubscribed, the answer says subscribed, and the row records
    consent_made (the stranger's consent "made" Ann's own subscription). Ann's webhook then arrives, older than the
    send, and is ignored as stale: consent_made stays. The stranger's storefront Unsubscribe ends Ann's subscription."""
    emulator, api_key, list_id = mailchimp_account
    email = "ann.formsubscriber.%s@fastmail.com" % ends_by
    emulator.add_members(api_key, list_id, [email], status="subscribed", merge_fields={"FNAME": "Ann"})
    user, account = registered_account(shop, django_user_model, "stranger16a" + ends_by[:3], email,
        first_name="Stranger")
    send_due(rounds=3)
    row = row_of(account)
    assert (row.foreign_member, row.member_status) == (True, "subscribed")
    # Ann unsubscribes in Mailchimp; its webhook arrives in time.
    emulator.set_member_status(api_key, list_id, email, "unsubscribed")
    assert post_event(Client(), configuration, "unsubscribe", email=email, fired_at=fired(60)).status_code == 200
    assert row_of(account).member_status == "unsubscribed"
    # Ann subscribes again on Mailchimp's own form (30 s ago); its webhook is still in Mailchimp's queue.
    emulator.set_member_status(api_key, list_id, email, "subscribed")
    # The staff tick the stranger's account's consent; it is sent.
    account = get_person_contact(user)
    account.marketing_permission = True
    account.save()
    send_due(rounds=3)
    # Ann's subscribe webhook arrives now.
    post_event(Client(), configuration, "subscribe", email=email, fired_at=fired(30))
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    if ends_by == "storefront-unsubscribe":
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(user)
        choose(browser, subscribe=False)
    elif ends_by == "deleted":
        get_person_contact(user).delete()
    else:  # the stranger corrects the address of the account
        account = get_person_contact(user)
        account.email = "stranger.own.%s@fastmail.com" % ends_by
        account.save()
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", (
        "a stranger's unproven account unsubscribed Ann, who subscribed on Mailchimp's own form (%s)" % ends_by)


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_the_owners_subscribe_webhook_arriving_while_the_strangers_consent_is_out_clears_consent_made(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings):
    """As above, but Ann's subscribe webhook is delivered while the stranger's consent send is out (claimed, not yet
    closed): the webhook clears consent_made, and the send's close writes it back (consent_made is not a guarded
    fact). The stranger's Unsubscribe then ends Ann's subscription."""
    from collections import Counter

    from shoop_mailchimp.sync import state
    from shoop_mailchimp.sync.drainer import ShopDelivery

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    email = "ann.inflight@fastmail.com"
    emulator.add_members(api_key, list_id, [email], status="subscribed", merge_fields={"FNAME": "Ann"})
    user, account = registered_account(shop, django_user_model, "stranger16b", email)
    send_due(rounds=3)
    assert row_of(account).foreign_member is True
    emulator.set_member_status(api_key, list_id, email, "unsubscribed")
    assert post_event(Client(), configuration, "unsubscribe", email=email, fired_at=fired(60)).status_code == 200
    account = get_person_contact(user)
    account.marketing_permission = True  # the staff's tick
    account.save()
    rows = state.claim()  # the worker takes the stranger's row ...
    emulator.set_member_status(api_key, list_id, email, "subscribed")  # ... Ann subscribes again on the form ...
    assert post_event(Client(), configuration, "subscribe", email=email, fired_at=fired(0)).status_code == 200
    ShopDelivery(configuration.shop_id, Counter()).deliver(rows)  # ... and the send completes
    send_due(rounds=3)
    presses_on_account_page(user, subscribe=False)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", (
        "a stranger's unproven account unsubscribed Ann, whose subscribe webhook came while its consent was sent")


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_under_double_opt_in_a_strangers_consent_does_not_make_the_owners_fresh_subscription_pending(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block):
    """The first probe's story under double opt-in: the stranger's row believes Ann's member unsubscribed (her
    re-subscription's webhook is still on its way), and the consent the staff tick is sent as a change to pending. Ann's
    subscribed member is put back to pending (her newsletter stops until she confirms again) by a stranger's account,
    and the row records the subscription as the stranger's consent's (consent_made)."""
    configuration.double_opt_in = True
    configuration.save()
    emulator, api_key, list_id = mailchimp_account
    email = "ann.resubscribed.doi@fastmail.com"
    emulator.add_members(api_key, list_id, [email], status="subscribed", merge_fields={"FNAME": "Ann"})
    user, account = registered_account(shop, django_user_model, "stranger16j", email)
    send_due(rounds=3)
    emulator.set_member_status(api_key, list_id, email, "unsubscribed")
    assert post_event(Client(), configuration, "unsubscribe", email=email, fired_at=fired(60)).status_code == 200
    emulator.set_member_status(api_key, list_id, email, "subscribed")  # Ann re-subscribes (and confirms) on the form
    account = get_person_contact(user)
    account.marketing_permission = True  # the staff's tick
    account.save()
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", (
        "a stranger's unproven account's consent put Ann's subscription back to pending")


@pytest.mark.usefixtures("commits")
def test_a_member_created_between_a_first_sends_read_and_its_write_is_left_alone(
        configuration, mailchimp_account, settings):
    """Mallory's contact is sent for the first time: the read finds no member of the address. Before the write
    arrives, Ann subscribes on Mailchimp's own form (or another worker's send creates the member). The write was a
    PUT, which overwrote Ann's names with Mallory's and recorded the member as Mallory's own: her withdrawal or
    erasure then ended Ann's. The write only creates (a POST): refused, the member is left to its owner."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    email = "ann.between.read.and.write@fastmail.com"
    mallory = new_person(permission=False, first_name="Mallory", email=email)
    ann_subscribes_while_the_write_is_held(mailchimp_account, email, reads=1)
    assert row_of(mallory).foreign_member is True


@pytest.mark.usefixtures("commits")
def test_a_member_created_at_the_new_address_between_a_moves_read_and_its_write_is_left_alone(
        configuration, mailchimp_account, settings):
    """Mallory's member was deleted in Mailchimp; she then changes her address: the move finds no member to move,
    reads the new address (none there) and writes her own member there. Before the write arrives, Ann subscribes
    with that address on Mailchimp's own form: the PUT overwrote Ann's names and made the member Mallory's. The write
    only creates (a POST): refused, Ann's member is left to her."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    mallory = new_person(permission=False, first_name="Mallory", email="mallory.moves.own@fastmail.com")
    make_all_due()
    drain()
    assert row_of(mallory).foreign_member is False
    emulator.edit_member_by_hand(api_key, list_id, mallory.email, delete=True)
    new_address = "ann.new.address.between@fastmail.com"
    mallory = PersonContact.objects.get(pk=mallory.pk)
    mallory.email = new_address
    mallory.save()
    ann_subscribes_while_the_write_is_held(mailchimp_account, new_address, reads=2)  # the new address, the old
    assert row_of(mallory).foreign_member is True
