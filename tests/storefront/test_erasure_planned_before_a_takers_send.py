"""Found by independent review aud22 (issue 19), F6 (data loss): ``members_left_held`` is loaded once per slice of
claimed rows (``Context``, drainer ``_slices``), before any row of the slice is sent. When a contact's send at an
address its owner proved (it takes the member the erased contact left there and writes its names) goes before the
erasure in the same drain, the erasure still sees that contact as one "never sent there" (``taken`` False) and
``ErasePlan._clear_member_left`` PATCHes every mapped merge field empty -- the names the other contact's send has
just written. Nothing queues that contact again (``_clear_member_left`` teaches no ``MemberDataErased``, unlike
``_keep_member``): its row holds the fingerprint as sent, and its member stays nameless until the contact happens to
change something. (ErasePlan names no ``addresses`` either: with DRAIN_CONCURRENCY > 1 the two sends may also
overlap.)"""
import pytest
from shuup.core.models import PersonContact, get_person_contact

from shoop_mailchimp import shop_consent
from tests.helpers import row_of, send_due
from tests.storefront.helpers import bea_leaves_her_member, choose, logged_in_account

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("one_drain", [False, True], ids=["control-xena-sent-first", "one-drain"])
def test_an_erasure_never_clears_the_names_a_taker_wrote_in_the_same_drain(
        shop, configuration, mailchimp_account, settings, django_user_model, newsletter_block, one_drain):
    """Xena has an account at another address (her member there). Bea registers (her member at bea@). The staff add
    Cal; Bea changes her address to Cal's: her member stays at bea@ (members_left). Xena, the real owner of bea@,
    changes her account's address to it, proves it
    (activation link) and subscribes on her account page; a moment later (before the worker runs) Bea has her
    account deleted. The worker sends Xena's row (claimed first), which takes the member at bea@ and writes "Xena
    Owner", then Bea's erasure. Expected: Xena's names stay on her member (as in the control, where the worker ran
    between the two). They are cleared by Bea's erasure, and never written again."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    tag = "%d" % one_drain
    bea_addr, cal_addr = "bea.f6.%s.aud22@fastmail.com" % tag, "cal.f6.%s.aud22@fastmail.com" % tag
    xena, xena_browser = logged_in_account(shop, django_user_model, "xena22f6%s" % tag,
                                           "xena.old.f6.%s.aud22@fastmail.com" % tag)
    xena = PersonContact.objects.get(pk=xena.pk)
    xena.first_name, xena.last_name = "Xena", "Owner"
    xena.save()
    send_due(rounds=2)
    bea_user, bea = bea_leaves_her_member(shop, django_user_model, "bea22f6%s" % tag, bea_addr, cal_addr,
        last_name="Private")
    assert row_of(xena).pk < row_of(bea).pk
    xena = PersonContact.objects.get(pk=xena.pk)
    xena.email = bea_addr
    xena.save()
    shop_consent.record_proof(xena.pk, bea_addr)
    choose(xena_browser, subscribe=True)
    if not one_drain:
        send_due(rounds=3)
    get_person_contact(bea_user).delete()
    send_due(rounds=4)
    assert row_of(xena).foreign_member is False and row_of(xena).email == bea_addr
    member = emulator.get_member(api_key, list_id, bea_addr)
    assert member is not None and (member["merge_fields"].get("FNAME"), member["merge_fields"].get("LNAME")) == (
        "Xena", "Owner"), ("Bea's erasure cleared the names Xena's send had just written on her member at %s: %r"
                           % (bea_addr, member and member["merge_fields"]))


def _browser(user):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    return browser
