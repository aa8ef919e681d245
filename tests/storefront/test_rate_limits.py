"""Rate limits of the newsletter block, per address and per client IP: over either, a polite refusal and
nothing recorded."""
import pytest
from django.test import Client
from shuup.core.models import Contact

from shoop_mailchimp.models import SyncState
from shoop_mailchimp.storefront import views
from tests.storefront.helpers import page_messages, signup_url


def post_from(ip, email):
    return Client().post(signup_url(), {"email": email, "next": "/"}, REMOTE_ADDR=ip, follow=True)


@pytest.fixture
def limits(settings, newsletter_block, configuration):
    """A shop that uses Mailchimp (one without says only that the subscription is recorded)."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, SIGNUP_LIMIT_PER_ADDRESS=(2, 3600),
                                    SIGNUP_LIMIT_PER_IP=(3, 3600))


@pytest.mark.django_db
def test_one_address_is_refused_after_its_limit_from_any_ip(shop, limits):
    for number in range(2):
        answer = page_messages(post_from("10.0.0.%d" % number, "target@fastmail.com"))
        assert answer == [str(views.SUBSCRIBED_BY_ADDRESS)]
    Contact.objects.filter(email="target@fastmail.com").update(marketing_permission=False)
    rows_before = list(SyncState.objects.values_list("pk", "version"))

    refused = post_from("10.0.0.9", "Target@fastmail.com")

    assert page_messages(refused) == [str(views.TOO_MANY_ATTEMPTS)]
    assert Contact.objects.get(email="target@fastmail.com").marketing_permission is False, "recorded anyway"
    assert list(SyncState.objects.values_list("pk", "version")) == rows_before


@pytest.mark.django_db
def test_one_ip_is_refused_after_its_limit_whatever_the_address(shop, limits):
    for number in range(3):
        post_from("192.0.2.1", "reader.%d@fastmail.com" % number)
    refused = post_from("192.0.2.1", "reader.last@fastmail.com")
    assert page_messages(refused) == [str(views.TOO_MANY_ATTEMPTS)]
    assert not Contact.objects.filter(email="reader.last@fastmail.com").exists()
    assert page_messages(post_from("192.0.2.2", "reader.last@fastmail.com")) == [str(views.SUBSCRIBED_BY_ADDRESS)]


@pytest.mark.django_db
def test_an_ipv6_client_is_counted_by_its_network_not_by_each_address(shop, limits):
    """One machine commonly holds a whole /64: a new address per attempt must not reset its limit."""
    for number in range(3):
        post_from("2001:db8:1:2::%x" % (number + 1), "v6.reader.%d@fastmail.com" % number)
    refused = post_from("2001:db8:1:2:ffff::9", "v6.reader.last@fastmail.com")
    assert page_messages(refused) == [str(views.TOO_MANY_ATTEMPTS)]
    other_network = post_from("2001:db8:1:3::1", "v6.reader.last@fastmail.com")
    assert page_messages(other_network) == [str(views.SUBSCRIBED_BY_ADDRESS)]


@pytest.mark.django_db
def test_invalid_attempts_count_toward_the_ip_limit(shop, limits):
    for _ in range(3):
        post_from("198.51.100.7", "not-an-address")
    assert page_messages(post_from("198.51.100.7", "real@fastmail.com")) == [str(views.TOO_MANY_ATTEMPTS)]


@pytest.mark.django_db
def test_a_forged_forwarded_header_does_not_escape_the_ip_limit(shop, limits):
    def post(email, forwarded_for):
        return Client().post(signup_url(), {"email": email}, REMOTE_ADDR="203.0.113.5",
                             HTTP_X_FORWARDED_FOR=forwarded_for, follow=True)

    for number in range(3):
        post("x%d@fastmail.com" % number, "1.2.3.%d" % number)
    assert page_messages(post("x9@fastmail.com", "1.2.3.99")) == [str(views.TOO_MANY_ATTEMPTS)]


@pytest.mark.django_db
def test_other_spellings_of_one_mailbox_do_not_reset_its_limit(shop, limits):
    """The per-address limit (2 an hour here) protects the owner of an address from a flood of confirmation
    e-mails. Once it is reached for ``target@fastmail.com``, the same mailbox spelt with a fullwidth letter
    (``target@ｆastmail.com``: Django's validator accepts it, and the shop sends it to Mailchimp as
    ``target@fastmail.com``) is refused too: the limit counts the address Mailchimp mails, not the text typed
    (third review of issue 19, finding 4)."""
    for number in range(2):
        post_from("10.0.0.%d" % number, "target@fastmail.com")
    assert page_messages(post_from("10.0.0.8", "target@fastmail.com")) == [str(views.TOO_MANY_ATTEMPTS)]

    answer = page_messages(post_from("10.0.0.9", "target@\uff46astmail.com"))

    assert answer == [str(views.TOO_MANY_ATTEMPTS)], "the limit of the mailbox was reset by another spelling"
    assert Contact.objects.filter(email__icontains="target@").count() == 1


@pytest.mark.django_db
def test_a_domain_in_unicode_and_in_punycode_share_one_limit(shop, limits):
    post_from("10.0.0.1", "vera@bücher.de")
    post_from("10.0.0.2", "Vera@XN--BCHER-KVA.DE")
    assert page_messages(post_from("10.0.0.3", "vera@xn--bcher-kva.de")) == [str(views.TOO_MANY_ATTEMPTS)]


@pytest.mark.django_db
@pytest.mark.parametrize("spellings", [
    ("target+1@fastmail.com", "target+2@fastmail.com", "target+3@fastmail.com"),
    ("jo.doe@gmail.com", "jodoe+news@gmail.com", "J.o.Doe@googlemail.com"),
], ids=["sub-addresses", "gmail-dots"])
def test_the_addresses_one_mailbox_receives_share_its_limit(shop, limits, spellings):
    """Found by review aud25 (issue 19): sub-addresses (``target+1@...``, delivered to ``target@``'s mailbox by most
    providers) and Gmail's dotted spellings each counted as a fresh address, so a visitor rotating IPs and the
    spelling could flood one mailbox with confirmation e-mails. They share the mailbox's limit (2 here) now."""
    answers = [page_messages(post_from("10.0.1.%d" % number, email)) for number, email in enumerate(spellings)]
    assert answers[2] == [str(views.TOO_MANY_ATTEMPTS)], "a third sign-up for one mailbox went through: %r" % (
        answers,)
    assert Contact.objects.filter(email__in=spellings).count() == 2
