"""Fixtures the review probes borrow from their neighbours' conftest files."""
from tests.disconnect.conftest import connected  # noqa: F401
from tests.storefront.conftest import newsletter_block  # noqa: F401
