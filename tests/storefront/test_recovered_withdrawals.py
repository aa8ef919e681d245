"""Found by independent review aud17 (issue 19): a recovered row (its last worker died, or its lease ran out
mid-send) re-sends "the
withdrawal a lost attempt may have carried" whenever its contact does not consent and ``consent_changed_at`` is set
(ContactPlan.__init__, the ``self.recovered`` branch). consent_changed_at is set by far more than a withdrawal sent to
the member: an own-only storefront withdrawal that sent nothing, a confirmation request from anyone's newsletter-block
press. And the re-sent withdrawal goes to whatever member the address has, also one that is not the contact's
(``foreign_member``)."""
import pytest
from django.test import Client
from shuup.core.models import get_person_contact

from shoop_mailchimp.sync import state
from tests.helpers import make_all_due, row_of, send_due
from tests.storefront.helpers import choose, presses_on_account_page, registered_account

pytestmark = pytest.mark.django_db


def edited_and_lost_with_the_worker(user, worker_dies):
    """The account's contact is edited; if ``worker_dies``, the worker that claims its row dies (a deploy, an OOM
    kill): the next claim takes the row as recovered."""
    contact = get_person_contact(user)
    contact.last_name = "Edited"
    contact.save()
    if worker_dies:
        make_all_due()
        assert contact.pk in {row.object_id for row in state.claim()}



@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("worker_dies", [False, True], ids=["control", "worker-died"])
def test_a_strangers_recovered_send_does_not_unsubscribe_the_form_subscriber(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, settings, worker_dies):
    """Ann subscribed on Mailchimp's own form. A stranger registers an account with her address (never activated):
    its first send finds Ann's member, not its own (foreign_member). The stranger presses Subscribe, then Unsubscribe
    on its account page: the Unsubscribe is its own consent only (the member was left as it is; the row's opt_in is
    cleared, its consent_changed_at set). Later the stranger edits its name; the worker that claimed the row dies
    (a deploy, an OOM kill) and the next claim takes the row as recovered. The recovered plan re-sends "the
    withdrawal a lost attempt may have carried" (permission off, consent_changed_at set, member subscribed): it
    PUTs status unsubscribed to Ann's member, though no attempt of this row ever carried a withdrawal there, and the
    stranger's withdrawal had been ruled its own only."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    email = "ann.recovered.%d.aud17@fastmail.com" % worker_dies
    emulator.add_members(api_key, list_id, [email], status="subscribed", merge_fields={"FNAME": "Ann"})
    user, stranger = registered_account(
        shop, django_user_model, "stranger17d%d" % worker_dies, email, first_name="Stranger")
    send_due(rounds=3)
    assert row_of(stranger).foreign_member is True
    browser = presses_on_account_page(user, subscribe=True)
    choose(browser, subscribe=False)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    edited_and_lost_with_the_worker(user, worker_dies)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", (
        "a stranger's recovered send unsubscribed Ann, who subscribed on Mailchimp's own form (row: foreign_member "
        "%r, opt_in %r)" % (row_of(stranger).foreign_member, row_of(stranger).opt_in))


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("worker_dies", [False, True], ids=["control", "worker-died"])
def test_a_strangers_block_press_then_a_recovered_send_does_not_end_the_owners_form_subscription(
        shop, configuration, mailchimp_account, django_user_model, front_client, settings, worker_dies):
    """Ann has an account (she never ticked the shop's box) and subscribed on Mailchimp's own form; the shop learnt
    it (subscribe webhook: her row knows 'subscribed', its consent never sent). Someone types her address into the
    newsletter block: her row gets a confirmation request, and its consent_changed_at is set. Later Ann edits her
    name; the worker sending it dies, and the next claim takes the row as recovered: "a lost attempt may have
    subscribed the member" (consent_changed_at set), so the withdrawal is "sent again": Ann's own subscription is
    forced to unsubscribed (or, with the confirmation request still on the row, put back to pending), though neither
    she nor anyone in the shop ever withdrew anything."""
    from tests.webhooks.helpers import post_event
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    emulator, api_key, list_id = mailchimp_account
    email = "ann.block.%d.aud17@fastmail.com" % worker_dies
    user, ann = registered_account(shop, django_user_model, "ann17e%d" % worker_dies, email, first_name="Ann")
    send_due(rounds=3)
    emulator.set_member_status(api_key, list_id, email, "subscribed")  # Ann subscribes on Mailchimp's own form
    assert post_event(Client(), configuration, "subscribe", email=email).status_code == 200
    assert row_of(ann).member_status == "subscribed"
    from shoop_mailchimp.storefront.subscriptions import subscribe_address
    subscribe_address(shop, email)  # a stranger's press on the newsletter block
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed"
    edited_and_lost_with_the_worker(user, worker_dies)
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", (
        "Ann's own form subscription was ended by her row's recovered send (row: opt_in %r, consent_request %r)" % (
            row_of(ann).opt_in, row_of(ann).consent_request))
