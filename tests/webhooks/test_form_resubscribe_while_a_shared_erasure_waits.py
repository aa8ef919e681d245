"""Found by independent review aud55 (issue 19) of 4b7a10d, F1 (fixed: the unsubscribe webhook reaches waiting erasure
rows, ``member_events._erasures_learn``). Review aud55 F1 (consent): an erasure recorded before the address's owner
unsubscribes and signs up again on Mailchimp's own form unsubscribes that fresh signup.
``member_events.handle_unsubscribe`` reaches only the rows ``matching_states`` finds (``erase=False``): the waiting
erasure's row keeps ``opt_in=True``. The later ``subscribe`` is learnt by ``_erasures_learn_subscribe`` (member_status
SUBSCRIBED, consent_made False) but ``opt_in`` stays True, so ``consent_left_with`` (used by ``plan`` for
``ErasePlan.withdraw``) still takes the erased contact's old consent as the one the member is subscribed with, and
``ErasePlan._keep_member`` -> ``unsubscribe_kept_member`` ends the owner's own signup."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import send_due
from tests.webhooks.helpers import owner_resubscribes_on_the_form, vera_shares_her_member_with_carl

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("while_erasure_waits", [False, True],
                         ids=["control-resubscribed-before-vera-is-erased", "resubscribed-while-vera-erasure-waits"])
def test_owners_form_resubscription_survives_a_waiting_shared_erasure(
        configuration, mailchimp_account, settings, while_erasure_waits):
    """Harm (consent): the owner of family@ unsubscribed and then signed up again on Mailchimp's own form (a new,
    explicit consent of the address's owner); the shop then unsubscribes the member, citing the consent of Vera, a
    contact erased before that signup.

    Steps: Vera (consenting) is sent: her own subscribed member at family@. Carl (no consent) is added with family@
    and sent. Vera's account is deleted (erasure recorded, not sent yet). The owner unsubscribes in Mailchimp (the
    unsubscribe webhook reaches the shop: Carl's row only), then signs up again on Mailchimp's form (subscribe
    webhook). The worker sends Vera's erasure.

    Control ("control-resubscribed-before-vera-is-erased"): the same unsubscribe and signup happen before Vera's
    account is deleted; her erasure then keeps the member subscribed. Expected in both: the owner's signup stays."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    family = "family.%d.aud55f1@fastmail.com" % while_erasure_waits
    vera, carl = vera_shares_her_member_with_carl(mailchimp_account, family)
    if not while_erasure_waits:
        owner_resubscribes_on_the_form(configuration, mailchimp_account, family)
    PersonContact.objects.get(pk=vera.pk).delete()  # erasure recorded
    if while_erasure_waits:
        owner_resubscribes_on_the_form(configuration, mailchimp_account, family)
    send_due(rounds=3)
    assert PersonContact.objects.filter(pk=carl.pk).exists()
    member = emulator.get_member(api_key, list_id, family)
    assert member is not None and member["status"] == "subscribed", (
        "the owner of %s signed up again on Mailchimp's form after Vera's erasure was recorded; the erasure ended "
        "that signup: %r" % (family, member and member["status"]))
