"""Found by independent review aud51 (issue 19) of f3e1d45, F4 (fixed: a kept member gone from the address is found by
its id, ``ErasePlan._keep_member``; GDPR): the ``upemail`` webhook never reaches an erasure row not yet sent
(``member_events.matching_states``: ``erase=False``; f3e1d45 made only ``subscribe`` reach erasure rows). A member the
erased contact shares with another contact, moved in Mailchimp while the erasure waits, is looked for at the old address
only (``ErasePlan._keep_member``: a 404 is passed over), and keeps the erased person's names."""
import pytest
from django.test import Client
from shuup.core.models import PersonContact

from tests.helpers import new_person, row_of, send_due
from tests.webhooks.helpers import post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("moved", [False, True], ids=["control-not-moved", "moved-while-the-erasure-waits"])
def test_a_shared_member_moved_while_the_erasure_waits_keeps_the_erased_names(
        configuration, mailchimp_account, settings, moved):
    """Harm (GDPR): Paul's account is deleted; his names stay for good on the member he shared with Queenie.

    Steps: Paul ("Paul Private", no consent) is sent: his own member at family@, with his names. Queenie (no consent)
    is added with family@ (she shares it). Paul's account is deleted (erasure recorded, not sent). The member's owner
    changes its address in Mailchimp to home@ ("moved-while-the-erasure-waits"; the upemail webhook reaches the shop).
    The worker sends.

    Control ("control-not-moved"): no move: the member at family@ is cleared of Paul's names. Expected in both: no
    member of the audience carries "Private"."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker")
    tag = "%d.aud51l1@fastmail.com" % moved
    family, home = "family." + tag, "home." + tag
    paul = new_person(permission=False, email=family, first_name="Paul", last_name="Private")
    send_due(rounds=2)
    new_person(permission=False, email=family, first_name="Queenie", last_name="Real")
    send_due(rounds=2)
    assert emulator.get_member(api_key, list_id, family)["merge_fields"].get("LNAME") == "Private", "setup"
    PersonContact.objects.get(pk=paul.pk).delete()
    if moved:
        emulator.fire_event(api_key, list_id, "upemail", family, new_email=home)
        member = emulator.get_member(api_key, list_id, home)
        assert post_event(Client(), configuration, "upemail", old_email=family, new_email=home,
                          new_id=member["unique_email_id"]).status_code == 200
    send_due(rounds=3)
    left = {m["email_address"]: m["merge_fields"] for m in emulator.members(api_key, list_id)
            if "Private" in (m.get("merge_fields") or {}).values()}
    assert not left, "Paul was erased; his names stay on %r (row %s)" % (left, row_of(paul).status)
