"""Fixtures the review probes borrow from the suite's own directories."""
from tests.disconnect import conftest as disconnect_conftest
from tests.storefront import conftest as storefront_conftest

connected = disconnect_conftest.connected
newsletter_block = storefront_conftest.newsletter_block
front_client = storefront_conftest.front_client
