"""Found by independent review aud44 (issue 19) of 89842ba, F5 (data/privacy; fixed: ``state.forget_audience`` forgets
the token and the notes too): a row's lost attempt of the old audience survives the move to another audience: a row
whose write's answer was lost keeps a token (``claimed_by``; since 89842ba also a row that gave up FAILED), and
``state.forget_audience`` (Initialize with another audience) forgets every fact of the old audience but not the token
nor the notes (``consent_unanswered``, ``move_sent_to``). The first claim in the new audience takes the row as
recovered, and a recovered row is never left out (``ContactPlan.__init__``: ``left_out`` ... ``or self.recovered``): a
person who withdrew their consent is written into the new audience, with their names, although the shop sends only
people who consented (``send_unconsented`` unticked)."""
import pytest
from shuup.core.models import PersonContact

from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.drainer import drain
from tests.disconnect.helpers import move_to_another_audience
from tests.helpers import make_all_due, new_person, row_of, send_due, wait_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("lost", [False, True], ids=["control", "rename-answer-lost"])
def test_a_withdrawn_contact_is_not_sent_to_the_new_audience(admin_client, connected, mailchimp_account, settings,
                                                            lost):
    """The shop sends only people who consented. Nora consented (subscribed), then withdrew (unsubscribed: still a
    member the shop knows, so her renames are sent). She renames herself; that PUT lands and its answer is lost. The
    shop then moves to a new audience (disconnect deleting the store, another audience, Initialize). Expected: Nora, who
    does not consent, is not sent to the new audience (control: without the lost rename she is left out). Found: she is
    created there (transactional) with her names."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    MailchimpConfiguration.objects.filter(pk=connected.pk).update(send_unconsented=False)
    email = "nora.aud44audience.%d@fastmail.com" % lost
    nora = new_person(permission=True, first_name="Nora", email=email)
    send_due(rounds=2)
    nora = PersonContact.objects.get(pk=nora.pk)
    nora.marketing_permission = False
    nora.save()
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, email)["status"] == "unsubscribed", "setup"
    nora = PersonContact.objects.get(pk=nora.pk)
    nora.last_name = "Renamed"
    nora.save()
    if lost:
        emulator.faults.hang(60, path_pattern="*/members/*", times=1, method="PUT")
        make_all_due()
        drain()
        emulator.release_hangs()
        wait_for(emulator, lambda: emulator.get_member(api_key, list_id, email)["merge_fields"].get("LNAME")
                 == "Renamed", "the lost rename landing")
        emulator.faults.clear()
        assert row_of(nora).claimed_by, "setup: a lost attempt's row"
    else:
        send_due(rounds=2)
    other_list = move_to_another_audience(admin_client, connected, emulator)
    send_due(rounds=3)
    row = row_of(nora)
    member = emulator.get_member(api_key, other_list, email)
    assert member is None, (
        "Nora withdrew her consent and the shop sends only people who consented, yet the new audience has her: %s %s "
        "(row: status %s, claimed_by %r, consent_unanswered %r)" % (
            member["status"], member["merge_fields"], row.status, row.claimed_by, row.consent_unanswered))
