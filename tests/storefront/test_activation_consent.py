"""The consent of the registration box recorded at activation (commit 147f6ae / da7a322)."""
import pytest
from django.test import Client
from django.urls import reverse
from shuup.core.models import CompanyContact, PersonContact

from shoop_mailchimp.storefront import subscriptions
from shoop_mailchimp.sync.drainer import drain
from tests.storefront.test_registration import activate_account, register, register_company


def _set_active(admin_client, company, state):
    """The company's admin page: Activate ("1") or Deactivate ("0")."""
    response = admin_client.post(reverse("shuup_admin:contact.detail", kwargs={"pk": company.pk}),
                                 {"set_is_active": state})
    assert response.status_code == 302


def _reactivate(admin_client, company):
    for state in ("0", "1"):
        _set_active(admin_client, company, state)


def _assert_unsubscribed(emulator, api_key, list_id, person):
    """Once the queue is drained: no marketing permission in the shop, unsubscribed in Mailchimp."""
    drain()
    assert PersonContact.objects.get(pk=person.pk).marketing_permission is False
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "unsubscribed"


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_reactivating_a_company_does_not_resubscribe_a_member_who_unsubscribed(
        shop, configuration, mailchimp_account, admin_client, settings):
    """A business registers with the box ticked, its person activates the account by the mailed link, the company is
    approved, the person is subscribed and later
    unsubscribes on the account page. Months later the admin deactivates and re-activates the company (a
    credit hold, say): the person is subscribed again, in the shop and in Mailchimp, without consenting.
    The "awaiting activation" log entry is never consumed (subscriptions.subscribe_after_activation)."""
    from shuup import configuration as shuup_configuration

    settings.SHUUP_REGISTRATION_REQUIRES_ACTIVATION = True
    emulator, api_key, list_id = mailchimp_account
    shuup_configuration.set(shop, "allow_company_registration", True)
    shuup_configuration.set(shop, "company_registration_requires_approval", True)
    person = register_company(Client(), "ceo3", ticked=True)
    activate_account(person)  # the mailed link: the address is theirs
    company = CompanyContact.objects.get(members=person)
    _reactivate(admin_client, company)
    person = PersonContact.objects.get(pk=person.pk)
    assert person.marketing_permission is True
    drain()
    assert emulator.get_member(api_key, list_id, person.email)["status"] == "subscribed"

    subscriptions.withdraw_consent(shop, person)  # what the account page's "unsubscribe" does
    _assert_unsubscribed(emulator, api_key, list_id, person)

    _reactivate(admin_client, company)
    _assert_unsubscribed(emulator, api_key, list_id, person)


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_a_person_who_unsubscribed_is_not_resubscribed_when_a_company_of_theirs_is_activated(
        shop, configuration, mailchimp_account, admin_client, settings):
    """A shopper registered with the box, activated their account (subscribed), then unsubscribed. Later the shop
    adds them to a company contact and activates it: they are subscribed again without consenting."""
    settings.SHUUP_REGISTRATION_REQUIRES_ACTIVATION = True
    emulator, api_key, list_id = mailchimp_account
    person = register(Client(), "later.member", ticked=True)
    assert person.marketing_permission is True
    subscriptions.withdraw_consent(shop, person)
    drain()
    company = CompanyContact.objects.create(name="Employer Oy", is_active=False)
    company.add_to_shop(shop)
    company.members.add(person)
    _set_active(admin_client, company, "1")
    _assert_unsubscribed(emulator, api_key, list_id, person)


@pytest.mark.django_db
@pytest.mark.usefixtures("commits")
def test_approving_a_company_does_not_subscribe_an_address_its_registrant_never_proved(
        shop, configuration, mailchimp_account, admin_client, settings):
    """A stranger registers a business on /register/company/ with somebody else's e-mail as the contact person and
    ticks the box; they never click the activation link mailed to that address (the user stays inactive). The shop
    approves the company (it checks the business, not the mailbox): the address is subscribed under single opt-in.
    The module's own rule (registration.py docstring) is that only the activation link proves the address."""
    from shuup import configuration as shuup_configuration

    settings.SHUUP_REGISTRATION_REQUIRES_ACTIVATION = True
    emulator, api_key, list_id = mailchimp_account
    shuup_configuration.set(shop, "allow_company_registration", True)
    shuup_configuration.set(shop, "company_registration_requires_approval", True)
    person = register_company(Client(), "victim.co", ticked=True)
    assert person.user.is_active is False
    company = CompanyContact.objects.get(members=person)
    _set_active(admin_client, company, "1")
    person = PersonContact.objects.get(pk=person.pk)
    assert person.user.is_active is False  # the mailed link was never clicked
    drain()
    member = emulator.get_member(api_key, list_id, person.email)
    assert person.marketing_permission is False
    assert member is None or member["status"] != "subscribed", member
