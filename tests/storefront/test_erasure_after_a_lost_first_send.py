"""Found by independent review aud36 (issue 19), F5 (data, GDPR; fixed: a first send notes its address before it goes
out, ``SyncState.move_sent_to``, and the erasure looks there): an erasure after a first send whose answer was lost (the
row knows no address nor member id) left the member that send created."""
import pytest

from shoop_mailchimp.models import SyncStatus
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import first_send_answer_lost, make_all_due, new_person, row_of, send_due


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("lost", [False, True], ids=["control-answer-arrived", "answer-lost"])
def test_erasure_after_a_lost_first_send_deletes_the_member_it_created(
        shop, configuration, mailchimp_account, settings, lost):
    """Harm (GDPR data loss): Vera is erased in the shop, and the member her first send created (her names,
    subscribed by her consent) stays in Mailchimp for good.

    Steps: Vera consents; her first send's member write lands in Mailchimp but its answer is lost (a timeout): the
    row stays a first send (email "", unique_email_id ""), to be retried. Before the retry, her account is deleted
    (erasure). ``ErasePlan.run`` deletes only a member named by ``row.email`` (then by ``unique_email_id``), both
    empty: no member is read or deleted, and the row closes ERASED. The member (created with the row's
    ``first_claimed_at`` as ``timestamp_signup``, which the shop uses elsewhere to recognise exactly this) keeps her
    data. Control: the answer arrives; the erasure deletes the member."""
    from shuup.core.models import PersonContact

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5)
    emulator, api_key, list_id = mailchimp_account
    email = "vera.lost36.%d@fastmail.com" % lost
    vera = new_person(permission=True, email=email, first_name="Vera", last_name="Secretname")
    if lost:
        first_send_answer_lost(emulator, api_key, list_id, email)
        assert row_of(vera).status == SyncStatus.PENDING and not row_of(vera).email, "setup: a first send to retry"
    else:
        make_all_due()
        drain()
    assert emulator.get_member(api_key, list_id, email)["merge_fields"].get("LNAME") == "Secretname", "setup"
    PersonContact.objects.get(pk=vera.pk).delete()  # erasure
    send_due(rounds=3)
    left = emulator.get_member(api_key, list_id, email)
    assert left is None, "Vera was erased; the member her first send created keeps her data: %r" % (
        {key: left.get(key) for key in ("status", "merge_fields", "timestamp_signup")},)


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("since", ["another-contact-has-the-address", "owner-subscribed-on-the-form"])
def test_erasure_after_a_lost_first_send_keeps_a_member_someone_has_since(
        shop, configuration, mailchimp_account, settings, since):
    """The member a lost first send created stays when someone has it since: another contact of the shop registered
    with the address (the member is theirs too), or its owner subscribed on Mailchimp's own form (the first send
    carried no consent: the subscription is theirs). The erasure deletes nothing then."""
    from shuup.core.models import PersonContact

    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DELIVERY="worker", TIMEOUT=5)
    configuration.send_unconsented = True
    configuration.save()
    emulator, api_key, list_id = mailchimp_account
    email = "vera.kept36.%s@fastmail.com" % since[:5]
    vera = new_person(permission=False, email=email, first_name="Vera")
    first_send_answer_lost(emulator, api_key, list_id, email)
    assert row_of(vera).move_sent_to == email and not row_of(vera).email, "setup: a first send to retry"
    if since == "another-contact-has-the-address":
        new_person(permission=False, email=email, first_name="Wanda")
    else:
        emulator.set_member_status(api_key, list_id, email, "subscribed")
    PersonContact.objects.get(pk=vera.pk).delete()  # erasure
    send_due(rounds=3)
    assert emulator.get_member(api_key, list_id, email) is not None, "the member someone has since was deleted"
