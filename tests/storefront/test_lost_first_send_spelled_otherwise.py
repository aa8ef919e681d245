"""Tried by independent review aud46 (issue 19) of e87e05c (held): the follow and the erasure of a lost first send where
another contact registers the address under another spelling (letter case, Unicode domain)."""
import pytest
from shuup.core.models import PersonContact

from tests.helpers import first_send_answer_lost, new_person, row_of, send_due

pytestmark = pytest.mark.django_db

SPELLINGS = {"case": ("Zoe.Aud46s@Fastmail.com", "zoe.aud46s@fastmail.com"),
             "idna": ("zoe.aud46s@bücher.de", "zoe.aud46s@xn--bcher-kva.de")}


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_erasure_after_a_lost_first_send_at_an_address_spelled_otherwise(
        shop, configuration, mailchimp_account, settings, spelling):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    configuration.double_opt_in = False
    configuration.save()
    anns, carls = SPELLINGS[spelling]
    ann = new_person(permission=True, first_name="Ann", last_name="Erasedname", email=anns)
    first_send_answer_lost(emulator, api_key, list_id, carls)
    assert not row_of(ann).email and row_of(ann).move_sent_to, "setup: a lost first send"
    new_person(permission=False, first_name="Carl", last_name="Other", email=carls)
    PersonContact.objects.get(pk=ann.pk).delete()  # erasure
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, carls)
    assert member is not None and member["merge_fields"].get("LNAME") != "Erasedname" and (
        member["status"] != "subscribed"), (member and member["status"], member and member["merge_fields"])


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_follow_of_a_lost_first_send_at_an_address_spelled_otherwise(
        shop, configuration, mailchimp_account, settings, spelling):
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    configuration.double_opt_in = False
    configuration.save()
    typo, carls = SPELLINGS[spelling]
    ann = new_person(permission=True, first_name="Ann", last_name="Typo", email=typo)
    first_send_answer_lost(emulator, api_key, list_id, carls)
    carl = new_person(permission=False, first_name="Carl", email=carls)
    ann = PersonContact.objects.get(pk=ann.pk)
    ann.email = "ann.aud46s.%s@fastmail.com" % spelling
    ann.save()
    send_due(rounds=3)
    assert row_of(carl).email
    member = emulator.get_member(api_key, list_id, carls)
    assert member is not None and member["status"] != "subscribed", (member and member["status"])
