"""Handlers for the Marketing API resources, registered by spec path template."""

from . import batches, campaigns, carts, ecommerce, lists, merge_fields, promos  # noqa: F401 (registers the handlers)
from .registry import HANDLERS

__all__ = ["HANDLERS"]
