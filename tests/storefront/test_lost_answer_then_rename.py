"""Found by independent review aud17 (issue 19): the aud16 names check of created_by_an_earlier_attempt compares the
member's FNAME/LNAME
with the names the row writes *now*. A contact whose names changed between its lost attempt and the retry (a shopper
who registered, then filled in her name) no longer recognises the member her own attempt created."""
import pytest
from django.test import Client
from shuup.core.models import PersonContact

from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, row_of, wait_for
from tests.storefront.helpers import choose

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("renamed", [False, True], ids=["control", "name-filled-in-meanwhile"])
def test_a_shoppers_own_signup_whose_answer_was_lost_stays_hers_after_she_fills_in_her_name(
        configuration, mailchimp_account, settings, django_user_model, newsletter_block, renamed):
    """Cay registers (no names: Shuup's form asks none; not activated) and subscribes on her account page: the
    signup read finds no member, the write creates hers, subscribed (timestamp_signup: the attempt's claim). Its
    answer is lost (a read timeout): the row is retried. Meanwhile Cay fills in her name on the account page. The
    retry's signup read finds the member her own write created, with the claim's second, but its FNAME ('') is not
    the name the row writes now ('Cay'): it is taken for a stranger's (foreign_member True). Her names never reach
    her own member, and her Unsubscribe on the account page ends "her account's consent only": the subscription her
    own consent made stays, and she keeps getting the newsletter."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5)
    email = "cay.renamed.%d.aud17@fastmail.com" % renamed
    user = django_user_model.objects.create_user("cay17%d" % renamed, email, "pw")
    cay = PersonContact.objects.create(user=user, email=email)
    cay.add_to_shop(configuration.shop)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    choose(browser, subscribe=True)
    assert row_of(cay).consent_request == "signup"
    emulator.faults.hang(0.01, path_pattern="*/members*", times=1)  # the read answers
    emulator.faults.hang(60, path_pattern="*/members*", times=1)  # the write's answer never comes
    make_all_due()
    drain()
    emulator.release_hangs()
    wait_for(emulator, lambda: emulator.get_member(api_key, list_id, email), "the write reaching Mailchimp")
    emulator.faults.clear()
    assert row_of(cay).status == SyncStatus.PENDING
    if renamed:
        cay = PersonContact.objects.get(pk=cay.pk)
        cay.first_name = "Cay"
        cay.save()
    make_all_due()
    drain()
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    choose(browser, subscribe=False)
    for _round in range(3):
        make_all_due()
        drain()
    member = emulator.get_member(api_key, list_id, email)
    assert member["status"] == "unsubscribed", (
        "Cay unsubscribed on her account page and stays subscribed: the member her own attempt created was taken for "
        "a stranger's (foreign_member %r; FNAME %r)" % (
            row_of(cay).foreign_member, member["merge_fields"].get("FNAME")))
