"""Bad input: the shop's save always succeeds, and each contact, group, order or setting that Mailchimp
cannot take ends with a status and a reason, a clear log entry, and a place in the admin.
"""
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from shuup.core.models import CompanyContact, ContactGroup, OrderLine, OrderLineType, PersonContact
from shuup.testing.factories import create_product, create_random_order, get_default_supplier

from shoop_mailchimp.mailchimp.errors import InvalidAPIKey
from shoop_mailchimp.mailchimp.members import mailchimp_email
from shoop_mailchimp.mailchimp.transport import MailchimpSession, check_api_key_format
from shoop_mailchimp.models import (
    ContactGroupInterest,
    LogKind,
    MailchimpConfiguration,
    MailchimpLogEntry,
    SyncState,
    SyncStatus,
)
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import new_person, order_row
from tests.reliability import registry
from tests.reliability.helpers import assert_nothing_lost

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commits")]

FAKE_DETAIL = "looks fake or invalid, please enter a real email address."

#: (id, e-mail, why it fails or None when it is sent)
EMAIL_CASES = [
    ("no-at", "plainaddress", "not a valid e-mail address"),
    ("no-local-part", "@fastmail.com", "not a valid e-mail address"),
    ("no-domain", "user@", "not a valid e-mail address"),
    ("two-ats", "user@@fastmail.com", "not a valid e-mail address"),
    ("space-inside", "user name@fastmail.com", "not a valid e-mail address"),
    ("trailing-dot", "user.@fastmail.com", "not a valid e-mail address"),
    ("leading-dot", ".user@fastmail.com", "not a valid e-mail address"),
    ("double-dot-domain", "user@example..com", "not a valid e-mail address"),
    ("space-in-domain", "user@exa mple.com", "not a valid e-mail address"),
    ("markup", "<script>alert(1)</script>@fastmail.com", "not a valid e-mail address"),
    ("label-too-long", "user@%s.com" % ("a" * 64), "not a valid e-mail address"),
    ("unicode-local-part", "jöhn@fastmail.com", "not a valid e-mail address"),
    ("unicode-everywhere", "用户@例子.广告", "not a valid e-mail address"),
    ("fake-test", "test@test.com", FAKE_DETAIL),
    ("fake-keyboard", "asdf@asdf.com", FAKE_DETAIL),
    ("fake-with-name", "noreply@mailinator.com", FAKE_DETAIL),
    ("idn-domain", "user@bücher.de", None),
    ("idn-subdomain", "info@shop.münchen.de", None),
    ("padded", "  padded@fastmail.com  ", None),
    ("upper-case", "UPPER.Case@FastMail.COM", None),
    ("plus-tag", "ann+news@fastmail.com", None),
    ("longest", "%s@%s.%s.%s.com" % ("l" * 64, "d" * 60, "e" * 60, "f" * 60), None),
    # Shuup keeps 256 characters, each label and part within its limits: longer than any address (254).
    ("too-long", "%s@%s.%s.%s.com" % ("l" * 64, "d" * 63, "e" * 63, "f" * 58), "not a valid e-mail address"),
    ("too-long-in-punycode", "%s@%s.%s.%s.bücher.de" % ("l" * 64, "d" * 63, "e" * 63, "f" * 47),
     "not a valid e-mail address"),
]

#: (id, contact fields) that Mailchimp must take as they are (names cut to its limits).
NAME_CASES = [
    ("longest-names", dict(first_name="F" * 120, last_name="L" * 120)),
    ("emoji", dict(first_name="😀🎉", last_name="🚀 Rocket")),
    ("right-to-left", dict(first_name="مرحبا", last_name="שלום")),
    ("mixed-direction", dict(first_name="Ann \u202egnirts", last_name="\u200fעברית")),
    ("empty-names", dict(first_name="", last_name="")),
    ("blank-names", dict(first_name="   ", last_name="\t")),
    ("markup-names", dict(first_name="<b>Bold</b>", last_name="O'Brien & \"Sons\"")),
    ("control-characters", dict(first_name="Tab\there", last_name="New\nline")),
    ("combining-marks", dict(first_name="Zoe\u0308", last_name="Ünïcödé")),
]


def count_bad_input():
    registry.tally("bad_inputs")


def failed_page(client):
    response = client.get(reverse("shuup_admin:shoop_mailchimp.failed"))
    assert response.status_code == 200
    return response.content.decode("utf-8")


@pytest.mark.parametrize("email, reason", [case[1:] for case in EMAIL_CASES], ids=[case[0] for case in EMAIL_CASES])
def test_email_addresses(consent_guard, mailchimp_account, admin_client, email, reason):
    emulator, api_key, list_id = mailchimp_account
    count_bad_input()
    if reason == FAKE_DETAIL:
        emulator.faults.fail_email(email)
    person = new_person(email=email)  # the shop's save succeeds whatever Mailchimp thinks
    state = SyncState.objects.contacts().get(object_id=person.pk)
    if reason is None:
        assert state.status == SyncStatus.SYNCED, state.last_error
        member = emulator.get_member(api_key, list_id, mailchimp_email(email))
        assert member["status"] == "subscribed"
        assert state.email == mailchimp_email(email)
        assert emulator.get_customer(api_key, consent_guard.store_id, str(person.pk))["email_address"] == state.email
        return
    assert state.status == SyncStatus.FAILED
    assert reason in state.last_error
    entries = MailchimpLogEntry.objects.filter(contact_id=person.pk, kind=LogKind.ERROR)
    assert entries.exists() and all(reason in entry.message for entry in entries)
    assert "failed-%s" % state.pk in failed_page(admin_client)
    assert mailchimp_email(email) not in {member["email_address"] for member in emulator.members(api_key, list_id)}


def test_idn_domains_are_sent_in_punycode(consent_guard, mailchimp_account):
    """Mailchimp refuses non-ASCII domains; the ASCII form reaches the same mailbox and webhooks still match."""
    emulator, api_key, list_id = mailchimp_account
    count_bad_input()
    person = new_person(email="kunde@bücher.de")
    assert emulator.get_member(api_key, list_id, "kunde@xn--bcher-kva.de")["email_address"] == "kunde@xn--bcher-kva.de"
    assert SyncState.objects.contacts().get(object_id=person.pk).email == "kunde@xn--bcher-kva.de"
    person.first_name = "Changed"
    person.save()
    assert len(emulator.members(api_key, list_id)) == 1, "the stored ASCII form is not mistaken for an e-mail change"


@pytest.mark.parametrize("fields", [case[1] for case in NAME_CASES], ids=[case[0] for case in NAME_CASES])
def test_names(consent_guard, mailchimp_account, fields):
    emulator, api_key, list_id = mailchimp_account
    count_bad_input()
    person = new_person(**fields)
    assert SyncState.objects.contacts().get(object_id=person.pk).status == SyncStatus.SYNCED
    assert_nothing_lost(emulator, api_key, list_id, consent_guard, [person])


@pytest.mark.parametrize("name", ["ACME Ltd", "Ünïcödé GmbH 🏭", "", "C" * 256])
def test_company_contacts(consent_guard, mailchimp_account, name):
    emulator, api_key, list_id = mailchimp_account
    count_bad_input()
    company = CompanyContact.objects.create(name=name, email="office.%d@fastmail.com" % len(name),
                                            marketing_permission=True)
    assert SyncState.objects.contacts().get(object_id=company.pk).status == SyncStatus.SYNCED
    customer = emulator.get_customer(api_key, consent_guard.store_id, str(company.pk))
    assert customer.get("company", "") == name.strip()[:255]
    assert_nothing_lost(emulator, api_key, list_id, consent_guard, [company])


@pytest.mark.parametrize("email", ["", "   ", "\t\n"], ids=["empty", "blank", "whitespace"])
def test_contacts_without_email_are_skipped_with_a_reason(consent_guard, mailchimp_account, email):
    emulator, api_key, list_id = mailchimp_account
    count_bad_input()
    person = PersonContact.objects.create(first_name="No", last_name="Mail", email=email)
    state = SyncState.objects.contacts().get(object_id=person.pk)
    assert state.status == SyncStatus.SKIPPED and state.last_error == "the contact has no e-mail address"
    entries = MailchimpLogEntry.objects.filter(contact_id=person.pk, kind=LogKind.WARNING)
    assert {entry.message for entry in entries} == {"Not sent: the contact has no e-mail address"}
    assert emulator.members(api_key, list_id) == []


def test_contact_deleted_with_work_pending(consent_guard, mailchimp_account, worker_mode):
    emulator, api_key, list_id = mailchimp_account
    count_bad_input()
    person = new_person()
    person_id = person.pk
    person.delete()
    drain()
    state = SyncState.objects.contacts().get(object_id=person_id)
    assert state.status == SyncStatus.SYNCED and state.member_status == "erased"
    assert emulator.members(api_key, list_id) == []
    assert emulator.get_customer(api_key, consent_guard.store_id, str(person_id)) is None


def test_emails_differing_only_in_case_share_one_member(consent_guard, mailchimp_account):
    """Mailchimp addresses members by the lower-cased e-mail: both contacts reach the same member. The second, without
    consent, is sent first after the consenting one holds the member: its names are not written onto it (as a
    stranger's account typed with a subscriber's address would rename their member; review aud9)."""
    emulator, api_key, list_id = mailchimp_account
    count_bad_input()
    first = new_person(email="Twin@FastMail.com", first_name="First")
    second = new_person(email="twin@fastmail.com", first_name="Second", permission=False)
    assert set(SyncState.objects.values_list("status", flat=True)) == {SyncStatus.SYNCED}
    [member] = emulator.members(api_key, list_id)
    assert member["merge_fields"]["FNAME"] == "First", "a contact without consent renamed another's member"
    assert member["status"] == "subscribed", "one contact's consent is kept; a first sync changes no status"
    for person in (first, second):
        assert emulator.get_customer(api_key, consent_guard.store_id, str(person.pk))["email_address"] == person.email


@pytest.mark.parametrize("names, expected", [
    (["Grüße 🎉", "Grüße 🎉"], ["Grüße 🎉", "Grüße 🎉 ({second})"]),
    (["VIP", "VIP"], ["VIP", "VIP ({second})"]),
    (["G" * 150], ["G" * 100]),
    (["   "], ["Group {first}"]),
    (["عملاء مميزون"], ["عملاء مميزون"]),
], ids=["unicode-duplicates", "duplicates", "too-long", "blank", "right-to-left"])
def test_group_names(consent_guard, mailchimp_account, names, expected):
    emulator, api_key, list_id = mailchimp_account
    count_bad_input()
    groups = [ContactGroup.objects.create(name=name, shop=consent_guard.shop) for name in names]
    ids = {"first": groups[0].pk, "second": groups[-1].pk}
    interests = {i["name"] for i in emulator.interest_categories(api_key, list_id)[0]["interests"]}
    assert {name.format(**ids) for name in expected} <= interests
    mapped = ContactGroupInterest.objects.filter(group_id__in=[group.pk for group in groups])
    assert mapped.count() == len(groups)
    person = new_person()
    groups[-1].members.add(person)
    assert_nothing_lost(emulator, api_key, list_id, consent_guard, [person])


def order_for(shop, person, price=10, count=1):
    products = [create_product("rel-%s-%d-%d" % (person.pk, price, number), shop=shop,
                               supplier=get_default_supplier(), default_price=price) for number in range(count)]
    return create_random_order(customer=person, products=products, shop=shop, random_products=False)

def test_order_without_product_lines_is_skipped(consent_guard, shop, worker_mode):
    count_bad_input()
    order = order_for(shop, new_person())
    order.lines.filter(type=OrderLineType.PRODUCT).delete()
    drain()
    state = order_row(order)
    assert state.status == SyncStatus.SKIPPED and "no lines with an existing product" in state.last_error
    assert MailchimpLogEntry.objects.filter(order_id=order.pk, kind=LogKind.WARNING).exists()


def test_order_whose_products_were_deleted_is_skipped(consent_guard, shop, worker_mode):
    count_bad_input()
    order = order_for(shop, new_person(), count=2)
    OrderLine.objects.filter(order=order).update(product=None)
    drain()
    assert order_row(order).status == SyncStatus.SKIPPED


def test_order_with_a_soft_deleted_product_is_sent(consent_guard, shop, mailchimp_account, worker_mode):
    emulator, api_key, _ = mailchimp_account
    count_bad_input()
    order = order_for(shop, new_person())
    order.lines.filter(type=OrderLineType.PRODUCT).first().product.soft_delete()
    drain()
    assert order_row(order).status == SyncStatus.SYNCED
    assert [sent["id"] for sent in emulator.orders(api_key, consent_guard.store_id)] == [str(order.pk)]


def test_order_with_zero_total_is_sent(consent_guard, shop, mailchimp_account):
    emulator, api_key, _ = mailchimp_account
    count_bad_input()
    order = order_for(shop, new_person(), price=0)
    assert order_row(order).status == SyncStatus.SYNCED
    [sent] = emulator.orders(api_key, consent_guard.store_id)
    assert sent["order_total"] == 0


def test_order_in_another_currency_is_sent_in_its_currency(consent_guard, shop, mailchimp_account, worker_mode):
    emulator, api_key, _ = mailchimp_account
    count_bad_input()
    order = order_for(shop, new_person())
    type(order).objects.filter(pk=order.pk).update(currency="SEK")
    drain()
    assert order_row(order).status == SyncStatus.SYNCED
    [sent] = emulator.orders(api_key, consent_guard.store_id)
    assert sent["currency_code"] == "SEK"


def test_guest_orders_subscribe_only_the_guest_who_ticked_the_box(consent_guard, shop, mailchimp_account,
                                                                  worker_mode):
    """The consent guard (afterwards) counts a guest's ticked box as consent, and nothing else."""
    from tests.sync.test_guest_orders import guest_order

    emulator, api_key, list_id = mailchimp_account
    count_bad_input()
    guest_order(shop, "ticked@fastmail.com", marketing_permission=True)
    guest_order(shop, "unticked@fastmail.com", marketing_permission=False)
    drain()
    assert emulator.get_member(api_key, list_id, "ticked@fastmail.com")["status"] == "subscribed"
    assert emulator.get_member(api_key, list_id, "unticked@fastmail.com")["status"] == "transactional"


def test_guest_order_without_an_email_is_skipped(consent_guard, shop, worker_mode):
    count_bad_input()
    order = order_for(shop, new_person())
    type(order).objects.filter(pk=order.pk).update(customer=None, email="")
    drain()
    state = order_row(order)
    assert state.status == SyncStatus.SKIPPED and "guest order without an e-mail address" in state.last_error


@pytest.mark.parametrize("key", [
    "not-a-key",
    "FEDCBA9876543210FEDCBA9876543210-us1",
    "fedcba9876543210fedcba9876543210",
    "fedcba9876543210fedcba987654321-us1",
    "fedcba9876543210fedcba9876543210-",
], ids=["words", "upper-case", "no-datacenter", "short", "empty-datacenter"])
def test_wrong_key_format_pauses_with_a_clear_message(consent_guard, mailchimp_account, key):
    emulator, api_key, list_id = mailchimp_account
    count_bad_input()
    with pytest.raises(InvalidAPIKey):
        check_api_key_format(key)
    configuration = MailchimpConfiguration.objects.get(pk=consent_guard.pk)
    configuration.api_key = key
    configuration.save()
    emulator.clear_requests()
    person = new_person()
    configuration.refresh_from_db()
    assert "This is not a Mailchimp API key" in configuration.paused_reason
    assert key not in configuration.paused_reason
    assert SyncState.objects.contacts().get(object_id=person.pk).status == SyncStatus.PENDING
    assert emulator.requests == [], "a malformed key is never sent anywhere"


def test_key_for_another_data_centre(consent_guard, mailchimp_account, settings):
    emulator, _, _ = mailchimp_account
    count_bad_input()
    key = emulator.add_account(dc="eu7")
    list_id = emulator.add_list(key)
    configuration = MailchimpConfiguration.objects.get(pk=consent_guard.pk)
    configuration.api_key, configuration.list_id = key, list_id
    configuration.save()
    from shoop_mailchimp.initialization import initialize

    initialize(configuration)
    person = new_person()
    assert emulator.get_member(key, list_id, person.email)["status"] == "subscribed"
    # Without the emulator's base URL the client would address the key's own data centre (no request here).
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, API_BASE_URL=None)
    base_url = urlsplit(MailchimpSession(key).base_url)
    assert (base_url.scheme, base_url.hostname.split(".")[0], base_url.path) == ("https", "eu7", "/3.0/")


def test_audience_that_does_not_exist(consent_guard, mailchimp_account):
    emulator, api_key, list_id = mailchimp_account
    count_bad_input()
    # The audience the shop was initialized with is not there (an id mistyped in the database, an account
    # whose audience went): its member facts are of that audience, so the shop does send, and pauses.
    MailchimpConfiguration.objects.filter(pk=consent_guard.pk).update(list_id="nosuchlist",
                                                                     members_list_id="nosuchlist")
    person = new_person()
    configuration = MailchimpConfiguration.objects.get(pk=consent_guard.pk)
    assert "no longer exists" in configuration.paused_reason and "nosuchlist" in configuration.paused_reason
    assert SyncState.objects.contacts().get(object_id=person.pk).status == SyncStatus.PENDING
    assert MailchimpLogEntry.objects.filter(action="sync.paused", kind=LogKind.ERROR).exists()
