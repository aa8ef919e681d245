"""The address a contact is sent to Mailchimp as, and the key its spellings are compared by
(:func:`shoop_mailchimp.mailchimp.members.mailchimp_email`, :func:`~shoop_mailchimp.mailchimp.members.address_key`):
an internationalized domain in IDNA 2008 (UTS 46 non-transitional) punycode, never IDNA 2003's, which named other
domains (``straße.de`` as ``strasse.de``, ``ς`` as ``σ``, a joiner dropped). Found by review aud9."""
import importlib

import pytest
from django.apps import apps
from shuup.core.models import Contact, PersonContact

from shoop_mailchimp.mailchimp.members import address_forms, address_key, domain_problem, mailchimp_email
from shoop_mailchimp.models import ContactAddressKey, OrderAddressKey, SyncStatus
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import new_person, row_of

rekey_migration = importlib.import_module("shoop_mailchimp.migrations.0032_idna_address_keys")

ZWJ = "\u200d"
#: (address, as Mailchimp gets it, as IDNA 2003 named it: another domain)
DISTINCT_DOMAINS = [
    ("anna@straße.de", "anna@xn--strae-oqa.de", "anna@strasse.de"),
    ("eleni@ςοφία.gr", "eleni@xn--kxae4blv.gr", "eleni@xn--kxae4bpq.gr"),  # final sigma, not σοφία.gr
    ("ravi@क्%sष.in" % ZWJ, "ravi@xn--11b2ezcw70k.in", "ravi@xn--11b2ezc.in"),  # a joiner after a virama, kept
]
#: Addresses whose domain IDNA 2008 refuses (IDNA 2003 named a real domain for each).
INVALID_DOMAINS = [("anna@a%sb.de" % ZWJ, "anna@ab.de"), ("anna@☃.com", "anna@xn--n3h.com")]

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("email,sent,old", DISTINCT_DOMAINS, ids=["eszett", "final-sigma", "zwj"])
def test_an_idn_is_named_in_idna_2008_and_is_not_the_domain_idna_2003_folded_it_into(email, sent, old):
    assert mailchimp_email(email) == sent
    assert address_key(email) == sent
    assert address_key(sent.upper()) == sent
    assert address_key(old) != address_key(email)
    assert email.lower() in address_forms(sent)
    assert domain_problem(email) == ""


@pytest.mark.parametrize("stored,typed", [
    ("vera@b\u00fccher.de", "VERA@XN--BCHER-KVA.DE"),
    ("vera@bu\u0308cher.de", "vera@B\u00dcCHER.de"),
    ("vera@\uff42\u00fccher.de", "vera@bücher.de"),
    ("Vera@FastMail.com", "vera@\uff46astmail.com"),
    ("vera@bücher\u3002de", "vera@bücher.de"),
    ("  vera@bücher.de ", "vera@xn--bcher-kva.de"),
    ("anna@STRAßE.de", "anna@xn--strae-oqa.de"),
], ids=["punycode-upper", "nfd-vs-upper", "fullwidth", "ascii-vs-fullwidth", "ideographic-stop", "padded",
        "upper-ascii-part"])
def test_the_spellings_of_one_mailbox_keep_one_key(stored, typed):
    assert address_key(stored) == address_key(typed)


@pytest.mark.parametrize("email,old", INVALID_DOMAINS, ids=["joiner-out-of-context", "symbol"])
def test_a_domain_idna_2008_refuses_is_named_as_typed_not_as_another_domain(email, old):
    assert mailchimp_email(email) == email
    assert address_key(email) == email.lower() != old
    assert domain_problem(email)
    assert domain_problem("anna@fastmail.com") == domain_problem("plainaddress") == ""


@pytest.mark.usefixtures("commits")
def test_an_eszett_domain_is_sent_as_its_own_mailbox_not_as_the_ss_domain(shop, configuration, mailchimp_account):
    """A customer's address is anna@straße.de (a German IDN: DENIC registers straße.de as xn--strae-oqa.de since
    2010, browsers and mail clients resolve it so: IDNA 2008 / UTS 46 non-transitional). The shop converts domains
    with Python's ``idna`` codec (IDNA 2003), which maps ß to "ss": Mailchimp gets anna@strasse.de, another
    domain and another person's mailbox. The consenting customer is never mailed; a stranger at strasse.de is
    subscribed with her name. The address key merges the two as well (a block press typed anna@strasse.de is
    taken for her contact's address)."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=True, email="anna@straße.de")
    drain()
    wrong = emulator.get_member(api_key, list_id, "anna@strasse.de")
    right = emulator.get_member(api_key, list_id, "anna@xn--strae-oqa.de")
    assert wrong is None, "anna@straße.de was sent as anna@strasse.de (%s, FNAME %s)" % (
        wrong["status"], wrong["merge_fields"].get("FNAME"))
    assert right is not None and right["status"] == "subscribed"
    assert PersonContact.objects.get(pk=person.pk).marketing_permission


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("email,sent,old", DISTINCT_DOMAINS[1:], ids=["final-sigma", "zwj"])
def test_a_final_sigma_or_joiner_domain_is_sent_as_its_own_mailbox(shop, configuration, mailchimp_account, email,
                                                                     sent, old):
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=True, email=email)
    drain()
    assert emulator.get_member(api_key, list_id, old) is None
    assert emulator.get_member(api_key, list_id, sent)["status"] == "subscribed"
    assert row_of(person).email == sent
    assert ContactAddressKey.objects.get(pk=person.pk).key == sent


@pytest.mark.usefixtures("commits")
def test_an_internationalized_top_level_domain_is_sent_in_punycode(shop, configuration, mailchimp_account):
    """пример.рф: the top-level domain is internationalized too; Mailchimp is assumed to take its punycode."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=True, email="kontakt@пример.рф")
    drain()
    assert row_of(person).status == SyncStatus.SYNCED, row_of(person).last_error
    assert emulator.get_member(api_key, list_id, "kontakt@xn--e1afmkfd.xn--p1ai")["status"] == "subscribed"


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("email,old", INVALID_DOMAINS, ids=["joiner-out-of-context", "symbol"])
def test_a_domain_idna_2008_refuses_fails_the_contact_with_a_reason_and_mails_nobody(
        shop, configuration, mailchimp_account, email, old):
    """IDNA 2003 named another, real domain for these (``a‍b.de`` as ``ab.de``): a stranger's mailbox subscribed.
    Now the address is refused as invalid: the contact's sync fails with the reason, shown to the admin; the contact
    and its consent are kept, and nobody is mailed."""
    emulator, api_key, list_id = mailchimp_account
    person = new_person(permission=True, email=email)
    drain()
    row = row_of(person)
    assert row.status == SyncStatus.FAILED, row.last_error
    assert "is not a valid e-mail address (its domain: " in row.last_error, row.last_error
    assert emulator.requests == [] or all(email not in str(r) for r in emulator.requests)
    assert emulator.get_member(api_key, list_id, old) is None
    assert emulator.members(api_key, list_id) == []
    person = PersonContact.objects.get(pk=person.pk)
    assert (person.email, person.marketing_permission) == (email, True)


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("stored,typed", [
    ("anna@straße.de", "anna@strasse.de"),
    ("vera@fastmail.com", "vera+news@fastmail.com"),
], ids=["ss-for-eszett", "plus-tag"])
def test_a_block_press_of_another_address_is_not_taken_for_the_contact(shop, configuration, mailchimp_account,
                                                                        stored, typed):
    """anna@strasse.de typed in the newsletter block is another person than the contact anna@straße.de (IDNA 2008),
    and a plus tag is an address of its own: a person of its own is created, the contact's consent untouched."""
    from shoop_mailchimp.storefront.subscriptions import subscribe_address

    new_person(permission=False, email=stored)
    drain()
    before = PersonContact.objects.count()
    subscribe_address(shop, typed)
    assert PersonContact.objects.count() == before + 1
    assert PersonContact.objects.get(email=stored).marketing_permission is False


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("stored,typed", [
    ("vera@b\u00fccher.de", "VERA@XN--BCHER-KVA.DE"),
    ("vera@bu\u0308cher.de", "vera@B\u00dcCHER.de"),
    ("vera@\uff42\u00fccher.de", "vera@bücher.de"),
    ("Vera@FastMail.com", "vera@\uff46astmail.com"),
    ("anna@xn--strae-oqa.de", "Anna@Straße.de"),
], ids=["punycode-upper", "nfd-vs-upper", "fullwidth", "ascii-vs-fullwidth", "eszett-punycode"])
def test_a_block_press_in_another_spelling_finds_the_contact(shop, configuration, mailchimp_account, stored, typed):
    """The newsletter block typed with another spelling of a contact's address: no second person is created."""
    from shoop_mailchimp.storefront.subscriptions import subscribe_address

    new_person(permission=False, email=stored)
    drain()
    before = PersonContact.objects.count()
    subscribe_address(shop, typed)
    assert PersonContact.objects.count() == before


@pytest.mark.usefixtures("commits")
def test_a_contact_moving_onto_another_spelling_of_a_held_address_leaves_its_member(
        shop, configuration, mailchimp_account):
    from tests.helpers import make_all_due

    emulator, api_key, list_id = mailchimp_account
    p = new_person(permission=True, email="p.key@fastmail.com")
    q = new_person(permission=False, email="q.key@fastmail.com")
    drain()
    q = PersonContact.objects.get(pk=q.pk)
    q.email = "P.KEY@\uff46astmail.com"
    q.save()
    for _ in range(3):
        make_all_due()
        drain()
    assert emulator.get_member(api_key, list_id, p.email)["status"] == "subscribed"
    assert PersonContact.objects.get(pk=p.pk).marketing_permission is True


def test_the_migration_rekeys_the_addresses_that_are_not_ascii_with_idna_2008(shop):
    """Keys stored by IDNA 2003 (``anna@strasse.de`` for anna@straße.de) are recomputed; an all-ASCII address's key is
    not read or written (its key is the same under both); reversed, the IDNA 2003 keys come back."""
    from tests.sync.test_guest_orders import guest_order

    eszett, sigma = new_person(email="Anna@Straße.de"), new_person(email="eleni@ςοφία.gr")
    plain, local = new_person(email="plain@fastmail.com"), new_person(email="jöhn@bücher.de")
    order = guest_order(shop, "anna@straße.de")
    old = {eszett.pk: "anna@strasse.de", sigma.pk: "eleni@xn--kxae4bpq.gr", plain.pk: "left@as.is",
           local.pk: "jöhn@xn--bcher-kva.de"}
    for pk, key in old.items():
        ContactAddressKey.objects.filter(pk=pk).update(key=key)
    OrderAddressKey.objects.filter(pk=order.pk).update(key="anna@strasse.de")
    ContactAddressKey.objects.filter(pk=sigma.pk).delete()  # a row the receivers never wrote

    rekey_migration.forwards(apps, None)
    keys = dict(ContactAddressKey.objects.values_list("pk", "key"))
    assert [keys.get(person.pk) for person in (eszett, sigma, plain, local)] == [
        "anna@xn--strae-oqa.de", "eleni@xn--kxae4blv.gr", "left@as.is", "jöhn@xn--bcher-kva.de"]
    assert OrderAddressKey.objects.get(pk=order.pk).key == "anna@xn--strae-oqa.de"
    assert all(keys[contact.pk] == address_key(contact.email) for contact in Contact.objects.exclude(pk=plain.pk))

    rekey_migration.backwards(apps, None)
    keys = dict(ContactAddressKey.objects.values_list("pk", "key"))
    assert [keys[person.pk] for person in (eszett, sigma, plain)] == [
        "anna@strasse.de", "eleni@xn--kxae4bpq.gr", "left@as.is"]


@pytest.mark.usefixtures("commits")
def test_a_contact_sent_under_idna_2003_is_moved_to_its_own_mailbox_by_the_migration(
        shop, configuration, mailchimp_account, monkeypatch):
    """A contact sent and keyed before the upgrade (as anna@strasse.de, a stranger's mailbox): the migration re-keys
    it and queues it again, and its next send readdresses the member to its own mailbox; a contact whose address is
    the same under both is not queued."""
    from shoop_mailchimp.mailchimp import members
    from tests.helpers import make_all_due

    emulator, api_key, list_id = mailchimp_account
    with monkeypatch.context() as patch:
        patch.setattr(members, "ascii_domain", lambda domain: domain.encode("idna").decode("ascii"))
        person = new_person(permission=True, email="anna@straße.de")
        same = new_person(permission=True, email="vera@bücher.de")
        drain()
    assert emulator.get_member(api_key, list_id, "anna@strasse.de")["status"] == "subscribed"
    assert ContactAddressKey.objects.get(pk=person.pk).key == "anna@strasse.de"
    version = row_of(same).version

    rekey_migration.forwards(apps, None)
    assert ContactAddressKey.objects.get(pk=person.pk).key == "anna@xn--strae-oqa.de"
    assert (row_of(person).status, row_of(same).status, row_of(same).version) == (
        SyncStatus.PENDING, SyncStatus.SYNCED, version)
    for _ in range(3):
        make_all_due()
        drain()
    assert row_of(person).email == "anna@xn--strae-oqa.de", row_of(person).last_error
    assert [(member["email_address"], member["status"]) for member in emulator.members(api_key, list_id)
            if member["email_address"].startswith("anna")] == [("anna@xn--strae-oqa.de", "subscribed")]
