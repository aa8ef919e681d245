import pytest
from django.test import Client
from shuup.core.models import get_person_contact

from tests.storefront.helpers import place_newsletter_block


@pytest.fixture
def newsletter_block(shop):
    """The block on the front page, asking for names too."""
    return place_newsletter_block(shop, ask_name=True)


@pytest.fixture
def front_client(newsletter_block):
    """A shopper's browser on the front page with the block: Django's CSRF check enforced, as in a real one."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def shopper_user(shop, django_user_model):
    """A registered shopper of the shop (an address with characters HTML escapes)."""
    user = django_user_model.objects.create_user("shopper", "o'brien&co@fastmail.com", "pw")
    person = get_person_contact(user)
    person.add_to_shop(shop)
    return user


@pytest.fixture
def shopper_client(shopper_user, newsletter_block):
    """The shopper's browser, logged in, with the CSRF check enforced."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper_user)
    return client
