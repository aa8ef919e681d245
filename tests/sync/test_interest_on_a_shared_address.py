"""Found by independent review aud33 (issue 19), F3 (data): e3b2394 queues the address's other sent contacts when a
group change touches one of them (``receivers/recording.py: record_facts_changed``): the member two contacts of the shop
share is written -- tags, interests, merge fields of them all -- by the contact that owns it. A group chosen as an
interest after it has members does not pass there: the group's plan creates the interest and requeues the group's
members only (``sync/kinds/group.py``: ``outcome.requeue ... group_member_ids(group_id)``), not the contact that owns
the member a group member shares, so that member never gets the group's interest (and a marketer's segment on it misses
the person). Set-up as tests/sync/test_tags_on_a_shared_address.py."""
import pytest
from shuup.core.models import PersonContact
from shuup.testing.factories import create_random_contact_group

from shoop_mailchimp.models import ContactGroupInterest, MailchimpConfiguration, SyncKind
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, new_person

pytestmark = pytest.mark.django_db


def _rounds(count=3):
    for _round in range(count):
        make_all_due()
        drain()


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("when", ["chosen-before-joining-control", "chosen-after-joining"])
def test_a_group_chosen_as_an_interest_reaches_the_member_a_group_member_shares(configuration, mailchimp_account,
                                                                                  when):
    """Harm: Ann is in the shop's "Wholesale" group; the staff choose that group as a Mailchimp interest (the
    configuration page's groups). Ann's member never gets the interest, so the marketer's Wholesale segment and
    campaigns miss her. Steps: Ann subscribes in the newsletter block (contact B owns the member), registers an account
    A with the address; A is in the group; the group is chosen as an interest. Expected (as when the group was chosen
    before A joined it, the control): the shared member has the group's interest. Found: only A is sent again, whose
    sends leave the member's groups alone."""
    from shoop_mailchimp.storefront.subscriptions import subscribe_address
    emulator, api_key, list_id = mailchimp_account
    group = create_random_contact_group(shop=configuration.shop)
    chosen = [] if when == "chosen-after-joining" else [group.pk]
    MailchimpConfiguration.objects.filter(pk=configuration.pk).update(interest_group_ids=chosen)
    state.record(configuration.shop_id, SyncKind.GROUP, [group.pk])
    email = "shared.interest.%s.aud33@fastmail.com" % when[:6]
    subscribe_address(configuration.shop, email, first_name="Ann")
    _rounds()
    block_contact = PersonContact.objects.get(email=email)
    account = new_person(email=email, permission=True)
    _rounds()
    group.members.add(account)
    _rounds()
    if when == "chosen-after-joining":
        assert not ContactGroupInterest.objects.filter(group_id=group.pk).exists(), "setup"
        MailchimpConfiguration.objects.filter(pk=configuration.pk).update(interest_group_ids=[group.pk])
        state.record(configuration.shop_id, SyncKind.GROUP, [group.pk])  # as the configuration page's save does
        _rounds()
    interest = ContactGroupInterest.objects.get(group_id=group.pk)
    member = emulator.get_member(api_key, list_id, email)
    assert block_contact.pk != account.pk
    assert member["interests"].get(interest.interest_id) is True, (
        "the member Ann's two contacts share lacks the interest of the group her account is in: %r" % (
            member["interests"],))
