"""Found by independent review aud17 (issue 19): the aud16 fix "an earlier attempt's member carries the row's names
as well as its claim's
second" compares only the names the row *writes*. A contact without names (Shuup's registration form asks none; a
newsletter-block signup without the name fields) writes no FNAME/LNAME at all, so the names check is vacuous and the
claim's second alone decides again."""
from collections import Counter

import pytest
from shuup.core.models import PersonContact, get_person_contact

from shoop_mailchimp.models import SyncKind, SyncState
from shoop_mailchimp.sync import bulk, state
from shoop_mailchimp.sync.drainer import ShopDelivery
from tests.helpers import row_of, send_due
from tests.storefront.helpers import choose, presses_on_account_page

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("ann_named, stranger_named", [(True, True), (True, False), (False, False)],
                         ids=["control-named", "nameless", "both-nameless"])
def test_a_nameless_strangers_retry_in_the_claims_second_does_not_take_anns_member(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings, ann_named,
        stranger_named):
    """Ann's contact (named, consenting) and an account a stranger registered with Ann's address (Shuup's
    registration form asks no names; consent ticked, never activated) are taken by one worker round. Ann's first
    send creates her member (timestamp_signup: the round's claim second, her names). The stranger's send finds it
    (another's) but its write is answered 500 and is retried. The retry reads the member: its timestamp_signup is
    the row's previous claim second, and the names check compares only the names the stranger's row writes: none.
    So the stranger's row takes Ann's member for its own (foreign_member False), and its storefront Unsubscribe
    unsubscribes Ann. (The aud16 probe passes only because its stranger is named "Stranger".) With Ann nameless too
    (the staff imported only her address), comparing names cannot tell them apart at all (review aud18): a second
    shared with another row of the address recognises nothing."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    email = "ann.nameless.%d%d.aud17@fastmail.com" % (ann_named, stranger_named)
    ann = PersonContact.objects.create(email=email, marketing_permission=True,
                                       **({"first_name": "Ann", "last_name": "Owner"} if ann_named else {}))
    ann.add_to_shop(shop)
    user = django_user_model.objects.create_user("stranger17a%d%d" % (ann_named, stranger_named), email, "pw")
    stranger = get_person_contact(user)
    if stranger_named:
        stranger.first_name = "Stranger"
    stranger.marketing_permission = True
    stranger.save()
    stranger.add_to_shop(shop)
    rows = state.claim()  # one round takes both rows
    by_contact = {row.object_id: row for row in rows}
    assert {ann.pk, stranger.pk} <= set(by_contact)
    ShopDelivery(configuration.shop_id, Counter()).deliver([by_contact[ann.pk]])
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    emulator.faults.fail("*/members/*", status=500, method="PUT", times=1)  # the stranger's write fails once
    ShopDelivery(configuration.shop_id, Counter()).deliver([by_contact[stranger.pk]])
    emulator.faults.clear()
    send_due(rounds=3)
    presses_on_account_page(user, subscribe=False)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", (
        "a stranger's nameless account took Ann's member for the one its own lost attempt created (foreign_member "
        "%r) and unsubscribed her" % row_of(stranger).foreign_member)


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("stranger_named", [True, False], ids=["control-named", "nameless"])
def test_sync_existing_skipping_a_nameless_stranger_does_not_give_it_anns_member(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings, stranger_named):
    """The shop sends only people who consented. "Sync existing" leases every row at one moment: Ann's send
    creates her member with that second as timestamp_signup; the stranger's account (registered with Ann's address,
    no names, no consent) is skipped and keeps that claim time. The stranger then presses Subscribe on its account
    page: its signup read finds Ann's member, signed up in the row's previous claim second, and (no names to
    compare) takes it for its own. It then presses Unsubscribe: Ann, who consented herself, is unsubscribed."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    configuration.send_unconsented = False
    configuration.save()
    emulator, api_key, list_id = mailchimp_account
    email = "ann.sync.nameless.%d.aud17@fastmail.com" % stranger_named
    ann = PersonContact.objects.create(email=email, first_name="Ann", marketing_permission=True)
    ann.add_to_shop(shop)
    user = django_user_model.objects.create_user("stranger17b%d" % stranger_named, email, "pw")
    stranger = get_person_contact(user)
    if stranger_named:
        stranger.first_name = "Stranger"
    stranger.save()
    stranger.add_to_shop(shop)
    SyncState.objects.filter(kind=SyncKind.CONTACT).delete()  # older than the integration
    bulk.sync_existing(configuration.shop_id, poll_interval=0.05, timeout=30)
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    browser = presses_on_account_page(user, subscribe=True)
    choose(browser, subscribe=False)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", (
        "a nameless stranger's account took Ann's member for its own (foreign_member %r) and unsubscribed her"
        % row_of(stranger).foreign_member)
