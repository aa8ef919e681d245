"""Found by independent review aud56 (issue 19) of 243957f, F3 (fixed: a ``subscribe`` fired after an attempt whose end
the row never learnt makes the subscription its owner's on a waiting erasure's row; consent): an erasure whose
unsubscribe of a shared member lands but whose answer is lost (a timeout) closes with nothing done
(``ErasePlan.written``: ``address_done`` only once the whole step returned), so its row keeps ``opt_in=True``. The owner
of the address then signs up on Mailchimp's own form (the ``subscribe`` webhook reaches the erasure row,
``member_events._erasures_learn``, but only sets member_status/consent_made); the erasure's retry takes the erased
contact's consent as still on the member (``plan`` -> ``consent_left_with``) and ``ErasePlan._keep_member`` unsubscribes
the owner's fresh signup. Nothing notes, before the write, that the erasure sent the withdrawal (as
``SyncState.consent_unanswered`` does for a contact's send), nor does a subscribe fired after the erasure's attempt
count as the owner's own signup."""
import time

import pytest
from django.test import Client
from shuup.core.models import PersonContact

from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, row_of, send_due, wait_for
from tests.webhooks.helpers import post_event, vera_shares_her_member_with_carl

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]


@pytest.mark.parametrize("lost", [False, True], ids=["control-answered", "withdrawal-answer-lost"])
def test_owners_signup_after_a_lost_withdrawal_survives_the_erasures_retry(
        configuration, mailchimp_account, settings, lost):
    """Harm (consent): the owner of family@ subscribed on Mailchimp's own form after the shop had unsubscribed the
    member; the shop unsubscribes that fresh signup again, citing the consent of Vera, who was erased before it.

    Steps: Vera (consenting, "Vera Secretname") is sent: her own subscribed member at family@. Carl (no consent) is
    added with family@. Vera's account is deleted; the worker sends the erasure: its PATCH (unsubscribed, Vera's
    names cleared) lands, with ``lost`` its answer is lost (TIMEOUT=2: the row is retried). The owner signs up
    again on Mailchimp's form (subscribe webhook delivered). The worker sends again.

    Control ("control-answered", passes on 243957f): the PATCH answered, the erasure done; the owner's later signup
    stays. Expected in both: family@ subscribed at the end."""
    emulator, api_key, list_id = mailchimp_account
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=2)
    family = "family.%d.aud56f3@fastmail.com" % lost
    vera, _carl = vera_shares_her_member_with_carl(mailchimp_account, family)
    PersonContact.objects.get(pk=vera.pk).delete()  # erasure recorded
    if lost:
        emulator.faults.hang(60, path_pattern="*/members/*", times=1, method="PATCH")
        make_all_due()
        drain(max_rounds=1)
        emulator.release_hangs()
        wait_for(emulator, lambda: emulator.get_member(api_key, list_id, family)["status"] == "unsubscribed",
                 "the erasure's unsubscribe landing")
        emulator.faults.clear()
        assert row_of(vera).erase and row_of(vera).opt_in, "setup: the erasure's answer lost, retried"
    else:
        send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, family)["status"] == "unsubscribed", "setup: Vera's consent ended"
    assert "Secretname" not in emulator.get_member(api_key, list_id, family)["merge_fields"].values(), "setup"
    time.sleep(1.1)
    emulator.fire_event(api_key, list_id, "subscribe", family, merges={"FNAME": "Fam", "LNAME": "Owner"})
    assert post_event(Client(), configuration, "subscribe", email=family).status_code == 200
    send_due(rounds=3)
    member = emulator.get_member(api_key, list_id, family)
    assert member is not None and member["status"] == "subscribed", (
        "the owner of %s signed up on Mailchimp's form after the erasure had unsubscribed it; the erasure's retry "
        "ended that signup: %r" % (family, member and member["status"]))
