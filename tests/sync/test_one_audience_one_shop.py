"""One audience serves one shop of the installation (docs/configuration.rst, *One audience, one shop*).

Two shops sending the same person to one audience overwrite each other's facts of the member (total spent, the
customer tag): found by review aud7 of issue 19, whose two probes are the first two tests here, inverted.
"""
import pytest
from django.core.management import call_command
from django.utils import timezone
from shuup.core.models import PersonContact, Shop, ShopStatus
from shuup.testing.factories import create_product, create_random_order, get_default_supplier

from shoop_mailchimp.initialization import InitializationError, initialize
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.sync.drainer import drain
from tests.helpers import member_writes, new_person, place_order, send_due
from tests.sync.test_audience_data import member_of, read_audience_fields, tag_names

pytestmark = pytest.mark.django_db


@pytest.fixture
def south(settings, shop, fresh_configuration):
    """The default shop, South (south.example.com), connected to the account's audience."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, WEBHOOK_BASE_URL="https://hooks.example.net")
    shop.domain = "south.example.com"
    shop.save()
    initialize(fresh_configuration)
    fresh_configuration.refresh_from_db()
    return fresh_configuration


@pytest.fixture
def north(south, mailchimp_account):
    """A second shop, North, of the same installation, its configuration naming South's audience, not initialized."""
    emulator, api_key, list_id = mailchimp_account
    shop = Shop.objects.create(identifier="north", name="North", public_name="North", currency=south.shop.currency,
                               domain="north.example.com", status=ShopStatus.ENABLED)
    return MailchimpConfiguration.objects.create(shop=shop, api_key=api_key, enabled=True, list_id=list_id,
                                                 store_id="shuup-shop-north")


def refused(configuration):
    with pytest.raises(InitializationError) as refusal:
        initialize(configuration)
    configuration.refresh_from_db()
    assert configuration.initialized_on is None
    return str(refusal.value)


def test_a_second_shop_cannot_connect_to_the_audience_so_it_never_clears_the_first_shops_total_spent(
        south, north, mailchimp_account):
    """(aud7's probe) South and North both map Total spent to SPENT; Ann, one contact (Shuup shares contacts
    between shops by default), spent 30 in South. North would send her with SPENT "" (a shop-owned fact that does
    not hold in North), flipping the member's SPENT with whichever shop wrote last. North's Initialize is refused,
    naming South, before anything reaches Mailchimp: the audience has South's store only, and SPENT stays."""
    emulator, api_key, list_id = mailchimp_account
    emulator.add_merge_field(api_key, list_id, "SPENT", type="number")
    read_audience_fields(south)
    MailchimpConfiguration.objects.update(merge_field_map={"first_name": "FNAME", "total_spent": "SPENT"})
    message = refused(north)
    assert list_id in message and "(%d)" % south.shop_id in message and "North" not in message
    assert emulator.get_store(api_key, "shuup-shop-north") is None
    assert [store["id"] for store in emulator.stores(api_key)] == [south.store_id]
    person = PersonContact.objects.create(first_name="Ann", email="ann.both@fastmail.com", marketing_permission=True)
    order, _products = place_order(south.shop, person)
    send_due(rounds=3)
    sent = [put["body"]["merge_fields"].get("SPENT") for put in member_writes(emulator, person.email)]
    spent = emulator.get_member(api_key, list_id, person.email)["merge_fields"]["SPENT"]
    assert spent and float(spent) == float(order.taxful_total_price.value), sent
    assert all(value not in ("", None) for value in sent), sent


def test_a_second_shop_cannot_connect_to_the_audience_so_it_never_takes_the_first_shops_tag_away(
        south, north, mailchimp_account):
    """(aud7's probe) South and North both with the customer rule "customer", one person buying in both: North would
    find South's tag and record it as hand-made, and South remove it at its order's cancelling though the person
    is still North's customer. North cannot connect to the audience: the audience's tags are South's facts only,
    and North sends nothing there."""
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.update(customer_tag="customer")
    assert "North" not in refused(north)
    ann = PersonContact.objects.create(first_name="Ann", email="ann.both@fastmail.com", marketing_permission=True)
    south_order, _products = place_order(south.shop, ann)
    drain()
    assert tag_names(member_of(mailchimp_account, ann)) == ["customer"]
    requests_before = len(emulator.requests)
    north_ann = PersonContact.objects.create(first_name="Ann", email="ann.both@fastmail.com",
                                             marketing_permission=True)
    north_ann.add_to_shop(north.shop)
    north_product = create_product("north-sku", shop=north.shop, supplier=get_default_supplier(north.shop),
                                   default_price=10)
    create_random_order(customer=north_ann, products=[north_product], shop=north.shop, random_products=False)
    send_due(rounds=2)
    assert all("shuup-shop-north" not in request["path"] for request in emulator.requests[requests_before:])
    south_order.set_canceled()
    send_due(rounds=3)
    # South's only order is cancelled: South's tag goes, as in a shop with an audience of its own.
    assert tag_names(member_of(mailchimp_account, ann)) == []
    assert emulator.get_store(api_key, "shuup-shop-north") is None


def test_the_shop_form_refuses_an_audience_another_shop_is_connected_to(admin_client, south, north,
                                                                       mailchimp_account):
    from tests.admin.conftest import field_error, post_shop_form, saved
    emulator, api_key, list_id = mailchimp_account
    MailchimpConfiguration.objects.filter(pk=north.pk).update(list_id="")
    response = post_shop_form(admin_client, north.shop, list_id=list_id, initialize=True)
    assert not saved(response)
    error = field_error(response, "list_id")
    assert list_id in error and "(%d)" % south.shop_id in error, error
    assert MailchimpConfiguration.objects.get(pk=north.pk).list_id == ""
    # Another audience of the account is taken.
    other = emulator.add_list(api_key, name="North audience")
    assert saved(post_shop_form(admin_client, north.shop, list_id=other))
    assert MailchimpConfiguration.objects.get(pk=north.pk).list_id == other


def test_the_first_shop_initializes_again_and_a_shop_with_its_own_audience_connects(south, north,
                                                                                   mailchimp_account):
    emulator, api_key, _list_id = mailchimp_account
    initialize(south)
    MailchimpConfiguration.objects.filter(pk=north.pk).update(list_id=emulator.add_list(api_key, name="North"))
    north.refresh_from_db()
    initialize(north)
    north.refresh_from_db()
    assert north.is_initialized and north.is_active and south.is_active
    assert emulator.get_store(api_key, "shuup-shop-north") is not None


def test_a_database_where_two_shops_share_an_audience_is_flagged_and_the_later_one_sends_nothing(
        south, north, mailchimp_account):
    """A database from before: North was connected to South's audience too. `check --tag database` (run by
    migrate) says so under shoop_mailchimp.W009; North is paused with a banner naming South; South sends on."""
    from shoop_mailchimp.admin_module.health import shop_health_for
    from shoop_mailchimp.checks import check_shared_audiences
    emulator, api_key, list_id = mailchimp_account
    now = timezone.now()
    MailchimpConfiguration.objects.filter(pk=north.pk).update(initialized_on=now, reconciled_until=now,
                                                              members_list_id=list_id)
    north.refresh_from_db()
    [warning] = check_shared_audiences()
    assert warning.id == "shoop_mailchimp.W009"
    assert "Shop %d" % north.shop_id in warning.msg and list_id in warning.msg
    assert "which shop %d was connected to first" % south.shop_id in warning.msg
    call_command("check", "--tag", "database")  # a warning: a deploy's migrate is not stopped by it
    assert not north.is_active and south.is_active
    assert set(MailchimpConfiguration.objects.active().values_list("pk", flat=True)) == {south.pk}
    health = shop_health_for(north.shop, north, 0, 0)
    assert health.key == "audience-taken" and "(%d)" % south.shop_id in health.detail
    assert shop_health_for(south.shop, south, 0, 0).key != "audience-taken"
    requests_before = len(emulator.requests)
    person = new_person()
    person.add_to_shop(north.shop)
    send_due(rounds=3)
    assert all("shuup-shop-north" not in request["path"] for request in emulator.requests[requests_before:])
    assert "(%d)" % south.shop_id in refused_again(north)


def refused_again(configuration):
    with pytest.raises(InitializationError) as refusal:
        initialize(configuration)
    return str(refusal.value)
