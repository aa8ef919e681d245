"""Found by independent review aud41 (issue 19) of 030f1c5, F1 (consent; fixed: only a consent the contact gives now
counts, never an erasure's or a withdrawal's change); (item 3: ``consent_left_with`` counts a recovered row whose
consent changed since its last send as carrying consent). An erasure itself stamps ``consent_changed_at``
(``state.erase``): every erased row that is recovered (a lost attempt's) passes as "carried a consent", whatever the
lost attempt sent. An erased contact that never consented, sharing its address with another contact, then
unsubscribes the member: a subscription its mailbox owner made on Mailchimp's own form ends."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import send_due
from tests.webhooks.helpers import renamed_beside_a_form_subscription

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "rename-answer-lost"])
def test_erasing_a_never_consenting_duplicate_after_a_lost_write_leaves_the_form_subscription(
        shop, configuration, mailchimp_account, settings, lost):
    """Paul (a contact the staff made, no consent ever) and Queenie (registered later with the same family address,
    no consent in the shop either) share one member. Queenie subscribes on Mailchimp's own signup form; the shop hears
    the webhook. Paul's name is corrected; that send's member PUT (no consent in it: Paul never gave one) lands, its
    answer is lost (a timeout), so Paul's row is a lost attempt's (recovered). The admin then deletes Paul's duplicate
    contact (an erasure). The erasure's plan asks ``consent_left_with``: Paul's row is recovered and its
    ``consent_changed_at`` (stamped by the erasure itself) is after its last send, so it counts as carrying consent,
    and since Queenie does not consent in the shop the member is unsubscribed: Queenie's own form subscription is
    ended by the deletion of a contact that never consented. Control: the same with the rename answered: her
    subscription stays (as test_a_contact_without_consent_leaving_a_member_subscribed_on_mailchimps_form_...)."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    email = "family.aud41.%d@fastmail.com" % lost
    paul, _queenie = renamed_beside_a_form_subscription(configuration, mailchimp_account, email, lost)
    PersonContact.objects.get(pk=paul.pk).delete()
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and member["status"] == "subscribed", (
        "Queenie's own subscription (Mailchimp's form) at %s is %s after the never-consenting duplicate Paul was "
        "deleted" % (email, member and member["status"]))
