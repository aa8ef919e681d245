"""Found by independent review aud18 (issue 19):
``created_by_an_earlier_attempt`` (contact.py) decides "my earlier attempt's member" by
the row's first claim second, and, where another row of the address shares that second (``stamps_shared``), by the
names. Where neither contact has names (Shuup's registration form asks none; a staff import, a block without name
fields) the names check compares '' with '' and the second alone decides again: a stranger's retry takes the
owner's member for its own."""
from collections import Counter

import pytest
from django.test import Client
from shuup.core.models import PersonContact, get_person_contact

from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.drainer import ShopDelivery
from tests.helpers import row_of, send_due
from tests.storefront.test_account_page import choose

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("ann_named", [True, False], ids=["control-ann-named", "both-nameless"])
def test_a_nameless_strangers_retry_does_not_take_a_nameless_owners_member(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings, ann_named):
    """Ann's contact (consenting; no names: the staff imported only her address) and an account a stranger
    registered with Ann's address (no names, consent ticked, never activated) are taken by one worker round. Ann's
    first send creates her member (timestamp_signup: the round's claim second, FNAME/LNAME empty). The stranger's
    send finds it (another's) but its write is answered 500, and it is retried. The retry reads the member: its
    timestamp_signup is the row's first claim second, another row shares that second, and the names compared are
    '' against '': the stranger's row takes Ann's member for its own (foreign_member False), and the stranger's
    storefront Unsubscribe unsubscribes Ann. (Same steps as tests/storefront/test_nameless_first_sends.py, with Ann
    nameless.)"""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    email = "ann.bothnameless.%d.aud18@fastmail.com" % ann_named
    ann = PersonContact.objects.create(email=email, marketing_permission=True,
                                       **({"first_name": "Ann", "last_name": "Owner"} if ann_named else {}))
    ann.add_to_shop(shop)
    user = django_user_model.objects.create_user("stranger18n%d" % ann_named, email, "pw")
    stranger = get_person_contact(user)
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
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    choose(browser, subscribe=False)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", (
        "a stranger's nameless account took nameless Ann's member for the one its own earlier attempt created "
        "(foreign_member %r) and unsubscribed her" % row_of(stranger).foreign_member)
