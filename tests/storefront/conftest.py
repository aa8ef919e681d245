import pytest
from django.test import Client

from tests.storefront.helpers import place_newsletter_block


@pytest.fixture
def newsletter_block(shop):
    """The block on the front page, asking for names too."""
    return place_newsletter_block(shop, ask_name=True)


@pytest.fixture
def front_client(newsletter_block):
    """A shopper's browser on the front page with the block: Django's CSRF check enforced, as in a real one."""
    return Client(enforce_csrf_checks=True)
