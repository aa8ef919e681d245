"""A cart's restore link: a copy of the basket comes back in a fresh browser without a login (the link's basket is
never shared); the shopper's account data stays behind; an altered or expired link gets a clear message and the
visitor's own basket."""
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core import signing
from django.db import connection
from django.test import Client, RequestFactory
from django.utils import timezone
from shuup.core.basket import get_basket
from shuup.core.models import MutableAddress, ShopProduct
from shuup.front.models import StoredBasket
from shuup.testing.factories import create_product, get_default_supplier
from shuup.testing.utils import apply_request_middleware
from shuup.xtheme import set_current_theme

from shoop_mailchimp import cart_links
from shoop_mailchimp.storefront import views
from tests.cart_helpers import STOREFRONT, add_to_basket, basket_of, order_in, products, shopper, stored
from tests.storefront.helpers import page_messages

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def abandoned_basket(shop, cart_settings):
    set_current_theme("shuup.themes.classic_gray", shop)
    user, person = shopper(email="restore.rita@fastmail.com")
    basket = basket_of(shop, user)
    [product] = products(shop)
    add_to_basket(basket, shop, product, quantity=3)
    return stored(basket), product


def second_storefront(shop):
    """Two storefronts: ``shop`` at one.example.com and a shop two at two.example.com (returned), both themed."""
    from shuup.core.models import Shop, ShopStatus

    set_current_theme("shuup.themes.classic_gray", shop)
    shop.domain = "one.example.com"
    shop.save()
    other = Shop.objects.create(identifier="two", name="Two", public_name="Two", domain="two.example.com",
                                status=ShopStatus.ENABLED, currency=shop.currency,
                                prices_include_tax=shop.prices_include_tax)
    set_current_theme("shuup.themes.classic_gray", other)
    return other


def restore_path(basket):
    url = cart_links.restore_url(basket)
    assert url.startswith(STOREFRONT)
    return url[len(STOREFRONT):]


def own_basket(browser):
    return StoredBasket.objects.get(pk=browser.session["basket_basket_key"]["pk"])


def test_the_link_restores_a_copy_of_the_basket_in_a_fresh_browser(abandoned_basket):
    basket, product = abandoned_basket
    before = basket.data
    browser = Client()
    response = browser.get(restore_path(basket))
    assert response.status_code == 302 and response["Location"].endswith("/basket/")
    page = browser.get(response["Location"])
    assert str(views.CART_RESTORED) in page_messages(page)
    assert product.name in page.content.decode()
    copy = own_basket(browser)
    assert copy.pk != basket.pk, "the visitor gets a basket of their own"
    assert copy.customer_id is None and copy.orderer_id is None, "the link logs nobody in"
    assert [(line["product_id"], line["quantity"]) for line in copy.data["lines"]] == [(product.pk, 3)]
    basket.refresh_from_db()
    assert basket.data == before and not basket.deleted, "the link's basket is left as it was"


def test_an_altered_link_is_refused_clearly(abandoned_basket):
    basket, product = abandoned_basket
    path = restore_path(basket)
    token = path.rstrip("/").rsplit("/", 1)[1]
    browser = Client()
    response = browser.get(path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB")), follow=True)
    assert str(views.CART_LINK_BAD) in page_messages(response)
    assert product.name not in response.content.decode()


def test_an_expired_link_is_refused_clearly(abandoned_basket, monkeypatch, settings):
    basket, product = abandoned_basket
    lifetime = settings.SHOOP_MAILCHIMP.get("CART_LIFETIME", 14 * 86400)
    made_at = time.time() - lifetime - 60
    monkeypatch.setattr(signing.time, "time", lambda: made_at)
    path = restore_path(basket)
    monkeypatch.undo()
    response = Client().get(path, follow=True)
    assert str(views.CART_LINK_BAD) in page_messages(response)


def test_a_link_to_an_ordered_basket_says_so(abandoned_basket):
    basket, product = abandoned_basket
    path = restore_path(basket)
    basket.deleted = basket.finished = True
    basket.save()
    response = Client().get(path, follow=True)
    assert str(views.CART_GONE) in page_messages(response)


def test_a_link_whose_basket_was_ordered_from_its_copy_says_so(abandoned_basket):
    """Found by review: ordering the copy left the link's basket open, and the same link (a second click, the
    automation's reminder) put the products just bought back in a basket."""
    basket, product = abandoned_basket
    path = restore_path(basket)
    phone = Client()
    phone.get(path)
    assert order_in(phone, email="restore.rita@fastmail.com").lines.filter(product=product).exists()

    page = Client().get(path, follow=True)
    shown = page_messages(page)
    assert str(views.CART_RESTORED) not in shown and str(views.CART_GONE) in shown, shown
    assert product.name not in page.content.decode(), "the products just bought are back in a basket"
    basket.refresh_from_db()
    assert not basket.deleted, "the basket stays as it is in the browser holding it"


def test_the_link_of_a_basket_changed_after_its_copy_was_ordered_restores_it_again(abandoned_basket):
    basket, product = abandoned_basket
    path = restore_path(basket)
    phone = Client()
    phone.get(path)
    order_in(phone, email="restore.rita@fastmail.com")
    basket.refresh_from_db()
    basket.save()  # the shopper changes it in their own browser afterwards
    assert str(views.CART_RESTORED) in page_messages(Client().get(path, follow=True))


def test_the_link_of_an_emptied_basket_says_it_was_emptied(shop, cart_settings):
    """Found by review: a basket emptied line by line (Shuup's remove button keeps the stored basket) greeted the
    link's visitor with "your basket is as you left it" over an empty basket."""
    set_current_theme("shuup.themes.classic_gray", shop)
    user = shopper(email="empty.emma@fastmail.com")[0]
    [product] = products(shop)
    owner = Client()
    owner.force_login(user)
    owner.post("/basket/", {"command": "add", "product_id": product.pk, "quantity": 2})
    basket = own_basket(owner)
    path = restore_path(basket)
    [line] = basket.data["lines"]
    owner.post("/basket/", {"command": "update", "delete_%s" % line["line_id"]: "1"})  # the remove button
    basket.refresh_from_db()
    assert not basket.data["lines"] and not basket.deleted
    for browser in (Client(), owner):
        shown = page_messages(browser.get(path, follow=True))
        assert str(views.CART_RESTORED) not in shown and str(views.CART_GONE) in shown, shown


@pytest.mark.parametrize("owned", [True, False])
def test_a_link_opened_by_someone_else_leaves_the_typed_addresses_behind(shop, cart_settings, owned):
    """Found by review: the addresses the owner typed at checkout (name, e-mail, phone, street) stayed in the
    basket a stranger then held; a guest's basket kept them for anybody."""
    set_current_theme("shuup.themes.classic_gray", shop)
    user = shopper(email="owner.olga@fastmail.com")[0] if owned else None
    basket = basket_of(shop, user)
    add_to_basket(basket, shop, products(shop)[0])
    basket.billing_address = MutableAddress(name="Olga Owner", email="owner.olga@fastmail.com",
                                            phone="+358401234567", street="Secret Street 7", city="Helsinki")
    basket.save()
    holder = stored(basket)
    stranger = Client()
    assert stranger.get(restore_path(holder)).status_code == 302
    copy = own_basket(stranger)
    assert copy.pk != holder.pk and copy.data["lines"]
    assert not {key for key, value in copy.data.items() if key.endswith("address_data") and value}
    holder.refresh_from_db()
    assert holder.data["billing_address_data"]["street"] == "Secret Street 7", "the owner's basket keeps them"


def test_the_logged_in_owner_gets_their_addresses_with_the_copy(abandoned_basket):
    basket, product = abandoned_basket
    data = dict(basket.data, billing_address_data={"name": "Rita", "email": "restore.rita@fastmail.com",
                                                   "street": "Rue 1", "city": "Oulu"})
    StoredBasket.objects.filter(pk=basket.pk).update(data=data)
    browser = Client()
    browser.force_login(basket.customer.user)
    browser.get(restore_path(basket))
    copy = own_basket(browser)
    assert copy.pk != basket.pk and copy.customer_id == basket.customer_id
    assert copy.data["billing_address_data"]["street"] == "Rue 1"


def test_the_logged_in_owner_gets_their_saved_address_and_the_copy_names_the_links_basket(abandoned_basket):
    """The copy is made through Shuup's public basket API: a saved address by its id, and the stored basket the
    link came from in the copy's ``extra_data`` (which Shuup's order creator copies into the order)."""
    basket, product = abandoned_basket
    address = MutableAddress.objects.create(name="Rita", email="restore.rita@fastmail.com", street="Rue 2",
                                            city="Oulu", postal_code="90100", country="FI")
    StoredBasket.objects.filter(pk=basket.pk).update(data=dict(basket.data, shipping_address_id=address.pk))
    browser = Client()
    browser.force_login(basket.customer.user)
    browser.get(restore_path(basket))
    copy = own_basket(browser)
    assert copy.pk != basket.pk and copy.data["shipping_address_id"] == address.pk
    assert copy.data["extra_data"] == {cart_links.RESTORED_FROM: basket.pk}


def test_the_restored_from_basket_is_read_where_older_copies_wrote_it():
    assert cart_links.basket_restored_from({"extra_data": {cart_links.RESTORED_FROM: 7}}) == 7
    assert cart_links.basket_restored_from({cart_links.RESTORED_FROM: 8}) == 8, "a copy made before the public API"
    assert cart_links.basket_restored_from({"extra_data": {cart_links.RESTORED_FROM: True}}) is None
    assert cart_links.basket_restored_from(None) is None and cart_links.restored_from(None) is None


@pytest.mark.parametrize("owned", [True, False])
def test_what_the_owner_types_after_the_link_was_opened_stays_theirs(shop, cart_settings, owned):
    """Found by review: a visitor with an empty basket who opened the link held the owner's stored basket itself,
    live: the owner's address typed afterwards showed in the visitor's checkout."""
    set_current_theme("shuup.themes.classic_gray", shop)
    user = shopper(email="owner.olga@fastmail.com")[0] if owned else None
    basket = basket_of(shop, user)
    add_to_basket(basket, shop, products(shop)[0])
    holder = stored(basket)
    stranger = Client()
    assert stranger.get(restore_path(holder)).status_code == 302
    assert stranger.session["basket_basket_key"]["pk"] != holder.pk

    basket = get_basket(basket.request)  # the owner's next request types the address at checkout
    basket.billing_address = MutableAddress(name="Olga Owner", email="owner.olga@fastmail.com",
                                            phone="+358401234567", street="Secret Street 7", city="Helsinki",
                                            postal_code="00100", country="FI")
    basket.save()
    assert "Secret Street 7" not in str(own_basket(stranger).data)
    html = stranger.get("/checkout/", follow=True).content.decode()
    assert "Secret Street 7" not in html and "+358401234567" not in html


def test_a_stranger_ordering_the_restored_basket_leaves_the_owners_basket(shop, cart_settings):
    """Found by review: the stranger's order finalized the shared stored basket, emptying the owner's."""
    set_current_theme("shuup.themes.classic_gray", shop)
    user = shopper(email="owner.oona@fastmail.com")[0]
    basket = basket_of(shop, user)
    add_to_basket(basket, shop, products(shop)[0], quantity=2)
    holder = stored(basket)
    stranger = Client()
    stranger.get(restore_path(holder))
    request = apply_request_middleware(RequestFactory().get("/"))
    request.session = SessionStore(session_key=stranger.session.session_key)
    get_basket(request).finalize()  # the stranger's checkout

    holder.refresh_from_db()
    assert not holder.finished and not holder.deleted
    owner_request = apply_request_middleware(RequestFactory().get("/"), user=user)
    owner_request.session = basket.request.session
    owner_lines = [line.product.pk for line in get_basket(owner_request).get_lines()]
    assert owner_lines == [holder.data["lines"][0]["product_id"]]


def test_a_link_pushed_onto_another_visitor_does_not_let_its_sender_watch_their_basket(shop, cart_settings):
    """Found by review: a link to the sender's own guest basket, opened by a victim with an empty basket (a GET:
    a plain link or a redirect does it), made the victim fill the sender's basket, visible on the sender's
    basket page."""
    set_current_theme("shuup.themes.classic_gray", shop)
    bait = create_product("bait-sku", shop=shop, supplier=get_default_supplier(), default_price=1)
    private = create_product("private-sku", shop=shop, supplier=get_default_supplier(), default_price=99,
                             name="Pregnancy test kit")
    attacker = Client()
    attacker.post("/basket/", {"command": "add", "product_id": bait.pk, "quantity": 1})
    holder = own_basket(attacker)
    victim = Client()
    victim.force_login(shopper(email="victim.val@fastmail.com")[0])
    victim.get(restore_path(holder))
    victim.post("/basket/", {"command": "add", "product_id": private.pk, "quantity": 1})

    assert "Pregnancy test kit" not in attacker.get("/basket/").content.decode()
    holder.refresh_from_db()
    assert [line["product_id"] for line in holder.data["lines"]] == [bait.pk] and holder.customer_id is None


def test_each_shop_mails_links_to_its_own_storefront(shop, cart_settings):
    """Found by review: the global STOREFRONT_BASE_URL came before the shop's domain, so every shop but one mailed
    restore links to another shop's storefront (where the basket is not found)."""
    from shuup.testing.factories import create_product, get_default_supplier

    other = second_storefront(shop)
    user = shopper(email="two.tina@fastmail.com")[0]
    basket = basket_of(other, user, host="two.example.com")
    [product] = products(other)
    add_to_basket(basket, other, product, quantity=2)
    holder = stored(basket)
    assert holder.shop == other
    url = cart_links.restore_url(holder)
    assert url.startswith("https://two.example.com/basket/restore/")
    first = basket_of(shop, shopper(email="one.oona@fastmail.com")[0])
    add_to_basket(first, shop, create_product("one-sku", shop=shop, supplier=get_default_supplier(), default_price=5))
    assert cart_links.restore_url(stored(first)).startswith("https://one.example.com/basket/restore/")

    browser = Client(HTTP_HOST="two.example.com")
    browser.get(url[len("https://two.example.com"):])
    assert [line["product_id"] for line in own_basket(browser).data["lines"]] == [product.pk]


def test_the_link_holds_no_secret_and_old_links_with_the_key_are_refused(abandoned_basket):
    """Found by review: the basket's key (what Shuup finds a session's basket by) was readable in the signed
    token: signing is not encryption."""
    basket, product = abandoned_basket
    path = restore_path(basket)
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert basket.key not in signing.b64_decode(token.split(":")[0].lstrip(".").encode()).decode("utf-8", "replace")
    assert basket.key not in str(signing.loads(token, salt=cart_links.SALT))

    forged = signing.dumps({"b": basket.pk, "h": cart_links.key_hash(basket.key + "x")}, salt=cart_links.SALT)
    old_style = signing.dumps({"b": basket.pk, "k": basket.key}, salt=cart_links.SALT, compress=True)
    for other in (forged, old_style):
        browser = Client()
        response = browser.get(path.replace(token, other), follow=True)
        assert str(views.CART_LINK_BAD) in page_messages(response)
        assert browser.session.get("basket_basket_key", {}).get("pk") != basket.pk


def test_a_visitor_with_a_basket_keeps_it_and_gets_the_links_products_added(shop, abandoned_basket):
    """Found by review: any valid link replaced the visitor's own basket (their products, typed addresses)."""
    basket, product = abandoned_basket
    [mine] = [create_product("visitor-sku", shop=shop, supplier=get_default_supplier(), default_price=3)]
    browser = Client()
    browser.post("/basket/", {"command": "add", "product_id": mine.pk, "quantity": 1})
    browser.post("/basket/", {"command": "add", "product_id": product.pk, "quantity": 1})
    own = browser.session["basket_basket_key"]["pk"]
    assert own != basket.pk
    response = browser.get(restore_path(basket), follow=True)
    assert str(views.CART_ADDED) in page_messages(response)
    assert browser.session["basket_basket_key"]["pk"] == own, "the visitor's own basket stays theirs"
    own_lines = {(line["product_id"], line["quantity"]) for line in StoredBasket.objects.get(pk=own).data["lines"]}
    assert own_lines == {(mine.pk, 1), (product.pk, 1)}, "the link's product held already keeps its quantity"

    other = create_product("link-only-sku", shop=shop, supplier=get_default_supplier(), default_price=4)
    data = dict(basket.data)
    data["lines"] = data["lines"] + [dict(data["lines"][0], line_id="x2", product_id=other.pk, quantity=2)]
    StoredBasket.objects.filter(pk=basket.pk).update(data=data)
    browser.get(restore_path(basket))
    own_lines = {(line["product_id"], line["quantity"]) for line in StoredBasket.objects.get(pk=own).data["lines"]}
    assert own_lines == {(mine.pk, 1), (product.pk, 1), (other.pk, 2)}
    basket.refresh_from_db()
    assert basket.data == data, "the stored basket (somebody else's) is left as it was"


def test_a_visitor_who_holds_the_basket_already_keeps_it_as_it_is(abandoned_basket):
    basket, product = abandoned_basket
    owner = Client()
    session = owner.session
    session["basket_basket_key"] = {"pk": basket.pk, "key": basket.key}
    session.save()
    response = owner.get(restore_path(basket), follow=True)
    assert str(views.CART_RESTORED) in page_messages(response)
    assert owner.session["basket_basket_key"]["pk"] == basket.pk
    basket.refresh_from_db()
    assert [line["quantity"] for line in basket.data["lines"]] == [3]


def test_a_link_opened_twice_keeps_the_visitors_copy_as_it_is(abandoned_basket):
    basket, product = abandoned_basket
    browser = Client()
    browser.get(restore_path(basket))
    copy = own_basket(browser)
    browser.get(restore_path(basket))
    assert own_basket(browser).pk == copy.pk
    assert [line["quantity"] for line in own_basket(browser).data["lines"]] == [3]


@pytest.mark.parametrize("gone", ["shop product removed", "product deleted"])
def test_a_link_naming_a_product_no_longer_sold_restores_the_others(shop, abandoned_basket, gone):
    """Found by review: a line whose product left the shop (its shop product removed, as a multi-shop catalogue
    does) made the link answer 500: Shuup cannot price it. Such a line, and a deleted product's, is left out."""
    basket, kept = abandoned_basket
    gone_product = create_product("gone-sku", shop=shop, supplier=get_default_supplier(), default_price=4)
    data = dict(basket.data)
    data["lines"] = data["lines"] + [dict(data["lines"][0], line_id="gone", product_id=gone_product.pk, quantity=1)]
    StoredBasket.objects.filter(pk=basket.pk).update(data=data)
    if gone == "shop product removed":
        ShopProduct.objects.filter(shop=shop, product=gone_product).delete()
    else:
        gone_product.soft_delete()

    browser = Client()
    response = browser.get(restore_path(basket))
    assert response.status_code == 302 and response["Location"].endswith("/basket/")
    copy = own_basket(browser)
    assert copy.pk != basket.pk
    assert [(line["product_id"], line["quantity"]) for line in copy.data["lines"]] == [(kept.pk, 3)]


def test_a_link_whose_products_the_visitor_holds_already_still_names_its_basket(abandoned_basket):
    """Shuup's ``extra_data`` setter does not mark the basket changed: a copy that added no line was not saved, and
    its order left the link's cart in Mailchimp."""
    basket, product = abandoned_basket
    browser = Client()
    browser.post("/basket/", {"command": "add", "product_id": product.pk, "quantity": 1})
    own = own_basket(browser)
    response = browser.get(restore_path(basket), follow=True)
    assert str(views.CART_ADDED) in page_messages(response)
    own.refresh_from_db()
    assert cart_links.basket_restored_from(own.data) == basket.pk
    assert [line["quantity"] for line in own.data["lines"]] == [1], "the visitor's quantity stays"


def test_an_order_from_a_copy_never_overwrites_a_save_of_the_links_basket_made_meanwhile(shop, abandoned_basket):
    """Two writers: the checkout notes the order in the link's basket while its holder saves it. The note is a
    compare-and-set on the basket's ``updated_on``: the holder's save (here, between the note's read and its
    write) is kept, and the note is written on top of it."""
    stored_basket, product = abandoned_basket
    request = apply_request_middleware(RequestFactory().get("/"), user=User.objects.get(
        pk=stored_basket.customer.user_id))
    request.session["basket_basket_key"] = {"pk": stored_basket.pk, "key": stored_basket.key}
    holder = get_basket(request)  # the browser holding the link's basket
    other = create_product("meanwhile-sku", shop=shop, supplier=get_default_supplier(), default_price=5)
    table = StoredBasket._meta.db_table
    armed = []

    def holder_saves_first(execute, sql, params, many, context):
        if armed and sql.lstrip().upper().startswith("UPDATE") and table in sql:
            armed.clear()
            add_to_basket(holder, shop, other)  # the holder's save, committed before the checkout's write
        return execute(sql, params, many, context)

    armed.append(True)
    with connection.execute_wrapper(holder_saves_first):
        cart_links.mark_ordered_from_copy(shop.pk, stored_basket.pk, timezone.now())
    assert not armed, "the holder saved between the read and the write"
    stored_basket.refresh_from_db()
    assert {line["product_id"] for line in stored_basket.data["lines"]} == {product.pk, other.pk}, \
        "the holder's save is kept"
    assert cart_links.ORDERED_FROM_COPY in stored_basket.data, "the note is written on top of it"


@pytest.mark.parametrize("gone", ["shop product removed", "product deleted"])
def test_a_link_whose_products_are_all_no_longer_sold_says_the_basket_is_gone(shop, abandoned_basket, gone):
    """Not "your basket is as you left it" over an empty basket."""
    basket, product = abandoned_basket
    if gone == "shop product removed":
        ShopProduct.objects.filter(shop=shop, product=product).delete()
    else:
        product.soft_delete()
    browser = Client()
    shown = page_messages(browser.get(restore_path(basket), follow=True))
    assert str(views.CART_PRODUCTS_GONE) in shown and str(views.CART_RESTORED) not in shown, shown
    assert browser.session.get("basket_basket_key", {}).get("pk") != basket.pk
    assert not StoredBasket.objects.filter(data__contains=cart_links.RESTORED_FROM).exists(), "no copy was made"


def test_a_link_of_another_shops_basket_is_refused(shop, cart_settings):
    """A token of shop two's basket opened in shop one's storefront: refused as a bad link (the basket is shop
    two's: its products, prices and codes), never "gone"."""
    other = second_storefront(shop)
    basket = basket_of(other, shopper(email="two.tom@fastmail.com")[0], host="two.example.com")
    add_to_basket(basket, other, products(other)[0])
    url = cart_links.restore_url(stored(basket))
    browser = Client(HTTP_HOST="one.example.com")
    shown = page_messages(browser.get(url[len("https://two.example.com"):], follow=True))
    assert str(views.CART_LINK_BAD) in shown and str(views.CART_GONE) not in shown, shown
    assert browser.session.get("basket_basket_key", {}).get("pk") != stored(basket).pk
