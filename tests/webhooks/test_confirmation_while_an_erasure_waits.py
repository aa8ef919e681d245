"""Found by independent review aud50 (issue 19) of dff38ec, F3 (fixed: the subscribe webhook reaches an erasure of the
address not yet done, ``member_events.handle_subscribe``; consent): a ``subscribe`` webhook (the address's owner
confirming the link, or signing up on Mailchimp's form) makes a subscription its owner's:
``member_events.handle_subscribe`` clears ``SyncState.consent_made`` -- but only on rows ``matching_states`` finds,
which filters ``erase=False``. A contact whose erasure is recorded and not yet sent (the worker's next round, a backoff,
a disconnect) keeps ``consent_made=True``, ``opt_in=True``: its erasure (``plan``: ``withdraw =
subscribed_by_its_consent(row) and consent_left_with(...)``, then
``ErasePlan._keep_member``/``unsubscribe_kept_member``) unsubscribes the subscription its owner confirmed; and
``made_by_a_consent_gone`` (dff38ec) takes the same stale row as proof that it is not its owner's."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import send_due
from tests.webhooks.helpers import anns_consent_asks_bobs_member_to_confirm, owner_confirms

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("confirmed_after_the_erasure", [False, True],
                         ids=["control-confirmed-before-ann-is-erased", "confirmed-while-ann-erasure-waits"])
def test_an_owners_confirmation_is_undone_by_an_erasure_recorded_before_it(
        configuration, mailchimp_account, settings, confirmed_after_the_erasure):
    """Harm (consent): Bob's member at the family mailbox, whose owner confirmed the subscription (the link Mailchimp
    mailed), is unsubscribed by the shop; the owner never unsubscribed.

    Steps: Bob (no consent) is sent: his own transactional member at family@. Ann (consenting) is added with family@:
    her send asks the address to confirm (member pending; Ann's row foreign_member, consent_made). Ann's account is
    deleted (erasure recorded, not sent yet); the owner of family@ then clicks the confirmation link: Mailchimp
    subscribes the member, the subscribe webhook reaches the shop. The worker sends.

    Control ("control-confirmed-before-ann-is-erased"): the owner confirms first, then Ann's account is deleted; the
    worker sends: the member stays subscribed (Ann's erasure: "the member was not this contact's"). Expected in both:
    the owner's confirmed subscription stays."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    family = "family.%d.aud50f3@fastmail.com" % confirmed_after_the_erasure
    bob, ann = anns_consent_asks_bobs_member_to_confirm(mailchimp_account, family)
    if not confirmed_after_the_erasure:
        owner_confirms(configuration, mailchimp_account, family)
    PersonContact.objects.get(pk=ann.pk).delete()  # erasure recorded
    if confirmed_after_the_erasure:
        owner_confirms(configuration, mailchimp_account, family)
    send_due(rounds=3)
    assert PersonContact.objects.filter(pk=bob.pk).exists()
    member = emulator.get_member(api_key, list_id, family)
    assert member is not None and member["status"] == "subscribed", (
        "the owner of %s confirmed the subscription; the shop ended it: %r" % (family, member and member["status"]))
