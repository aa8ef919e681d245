"""Found by independent review aud42 (issue 19) of 76d35b0 (F5; fixed: what a lost attempt carried is noted before it
sends, ``SyncState.consent_unanswered``) (consent):
``lost_consent`` (76d35b0) counts a recovered row as having carried the consent the contact gives now whenever that
consent changed after the row's last *closed* send, even when it was given after the lost attempt was sent (which
therefore cannot have carried it). A contact that moves away from a shared address then takes with it a subscription
it never made: the form subscription of the address's other owner ends."""
import pytest

from tests.helpers import send_due
from tests.webhooks.helpers import renamed_beside_a_form_subscription

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control", "rename-answer-lost"])
def test_consent_given_after_a_lost_rename_does_not_end_a_form_subscription_on_moving_away(
        shop, configuration, mailchimp_account, settings, lost):
    """Paul and Queenie (a family address, neither consents in the shop) share one member, which Paul's send created.
    Queenie subscribes on Mailchimp's own signup form (the shop hears the webhook). Paul's name is corrected; that
    send's member PUT (no consent in it) lands, its answer is lost (a timeout): Paul's row is a lost attempt's. Only
    then does Paul tick the newsletter box and change his address to his own, in one save. The retry's plan asks
    ``consent_left_with(carried=lost_consent(row, paul))``: Paul consents now and his consent changed after the row's
    last closed send, so the lost rename "carried" it; Queenie does not consent in the shop, so the member at the family
    address is unsubscribed: Queenie's own form subscription ends, on a consent that never reached it. Control (the
    rename answered): her subscription stays."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    email = "family.aud42f.%d@fastmail.com" % lost
    paul, _queenie = renamed_beside_a_form_subscription(configuration, mailchimp_account, email, lost)
    paul.marketing_permission = True
    paul.email = "paul.aud42f.%d@fastmail.com" % lost
    paul.save()
    send_due(rounds=4)
    member = emulator.get_member(api_key, list_id, email)
    assert member is not None and member["status"] == "subscribed", (
        "Queenie's own subscription (Mailchimp's form) at %s is %s after Paul, whose lost rename carried no consent, "
        "consented and moved away" % (email, member and member["status"]))
