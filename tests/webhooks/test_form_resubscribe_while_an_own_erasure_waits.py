"""Found by independent review aud55 (issue 19) of 4b7a10d, F2 (fixed: the unsubscribe webhook reaches waiting erasure
rows, ``member_events._erasures_learn``). Review aud55 F2 (consent / data loss): a waiting erasure permanently deletes a
subscription the address's owner made on Mailchimp's own form after unsubscribing; the same signup made before the
erasure was recorded is kept. ``member_events.handle_unsubscribe`` reaches only rows with ``erase=False``: the waiting
erasure's row keeps ``opt_in=True``. ``_erasures_learn_subscribe`` then learns the later form signup (member_status
SUBSCRIBED, consent_made False) but not that the consent the row last sent is gone, so ``ErasePlan._delete_own_member``
takes ``self.row.opt_in`` as "this contact's consent went to it" and deletes the member for good (a permanent delete
bars the address from the API: the owner's explicit signup is lost)."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import owner_resubscribes_on_the_form

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("while_erasure_waits", [False, True],
                         ids=["control-resubscribed-before-vera-is-erased", "resubscribed-while-vera-erasure-waits"])
def test_owners_form_resubscription_survives_a_waiting_erasure(
        configuration, mailchimp_account, settings, while_erasure_waits):
    """Harm (consent, data loss): the owner of the address unsubscribed, then signed up again on Mailchimp's own form;
    the shop deletes that member permanently (the API can never write the address again), on the strength of a
    consent the owner had already withdrawn.

    Steps: Vera (consenting) is sent: her own subscribed member at the address (no other contact has it). Vera's
    account is deleted (erasure recorded, not sent yet). The owner unsubscribes in Mailchimp (webhook), then signs
    up again on Mailchimp's form (webhook). The worker sends Vera's erasure.

    Control ("control-resubscribed-before-vera-is-erased"): the same unsubscribe and signup happen before Vera's
    account is deleted; the erasure keeps the member (subscribed, "its owner subscribed it"). Expected in both: the
    owner's signup stays."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    email = "vera.%d.aud55f2@fastmail.com" % while_erasure_waits
    vera = new_person(permission=True, email=email, first_name="Vera", last_name="Secretname")
    send_due(rounds=2)
    row = row_of(vera)
    assert not row.foreign_member and row.opt_in and row.unique_email_id, "setup: Vera's own member"
    assert emulator.get_member(api_key, list_id, email)["status"] == "subscribed", "setup"
    if not while_erasure_waits:
        owner_resubscribes_on_the_form(configuration, mailchimp_account, email)
    PersonContact.objects.get(pk=vera.pk).delete()  # erasure recorded
    if while_erasure_waits:
        owner_resubscribes_on_the_form(configuration, mailchimp_account, email)
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and member["status"] == "subscribed", (
        "the owner of %s signed up again on Mailchimp's form after unsubscribing; Vera's erasure deleted that "
        "member: %r" % (email, member and member["status"]))
