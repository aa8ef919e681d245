"""Found by independent review aud18 (issue 19):
``state.proven_anothers`` (called by ``shop_consent.record_proof``) marks
``consent_made`` on every other row of the address with ``opt_in`` True and a subscribed or pending member, taking
the subscription for "the stranger's consent's". But a subscription the address's owner confirmed herself (the
confirmation link of the stranger's double opt-in signup: the ``subscribe`` webhook, which clears consent_made on
every row of the address, member_events.handle_subscribe) is hers, not the stranger's. When the owner proves the
address *after* confirming, the proof makes it the stranger's to end again: the stranger's Unsubscribe ends the
subscription the owner confirmed. Proven *before* confirming, it stays hers."""
import pytest
from django.test import Client

from shoop_mailchimp import shop_consent
from tests.helpers import row_of, send_due
from tests.storefront.helpers import choose, logged_in_account
from tests.webhooks.helpers import post_event

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("proof_after_confirmation", [False, True], ids=["control-proof-first", "confirmed-first"])
def test_a_strangers_unsubscribe_does_not_end_a_subscription_the_owner_confirmed_before_proving(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings,
        proof_after_confirmation):
    """Double opt-in. A stranger registers an account with Ann's address (never activated) and subscribes on its
    account page: its send creates the member, pending, and Mailchimp mails Ann a confirmation link. Ann registers
    her own account with her address too. Ann clicks the link (the subscribe webhook: the subscription is the
    owner's confirmation, no row's consent_made). Then Ann activates her account (proves the address): the proof
    marks the stranger's row consent_made (opt_in True, member subscribed). The stranger presses Unsubscribe: no
    longer "its own consent only", so its send unsubscribes the member Ann confirmed herself. (Control: Ann proves
    before she clicks the link: the stranger's Unsubscribe leaves her subscription alone.)"""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    configuration.double_opt_in = True
    configuration.save()
    emulator, api_key, list_id = mailchimp_account
    email = "ann.confirmed.%d.aud18@fastmail.com" % proof_after_confirmation
    stranger, stranger_browser = logged_in_account(shop, django_user_model, "str18c%d" % proof_after_confirmation,
                                                   email)
    choose(stranger_browser, subscribe=True)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "pending"
    assert row_of(stranger).foreign_member is False and row_of(stranger).opt_in is True
    ann, _ann_browser = logged_in_account(shop, django_user_model, "ann18c%d" % proof_after_confirmation, email)
    send_due(rounds=3)

    def ann_confirms():
        emulator.set_member_status(api_key, list_id, email, "subscribed")
        assert post_event(Client(), configuration, "subscribe", email=email).status_code == 200

    def ann_proves():
        shop_consent.record_proof(ann.pk, email)
        send_due(rounds=3)

    if proof_after_confirmation:
        ann_confirms()
        ann_proves()
    else:
        ann_proves()
        ann_confirms()
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    send_due(rounds=3)
    made_before = row_of(stranger).consent_made
    choose(stranger_browser, subscribe=False)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", (
        "the stranger's Unsubscribe ended the subscription Ann confirmed herself (stranger's row: foreign_member %r, "
        "consent_made before its Unsubscribe %r)" % (row_of(stranger).foreign_member, made_before))
