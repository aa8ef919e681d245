"""A stateful Mailchimp Marketing API v3 emulator over real HTTP, validated against the OpenAPI spec."""

from .core import DEMO_API_KEY, DEMO_LIST_ID, Emulator
from .spec import SpecNotFound

__all__ = ["DEMO_API_KEY", "DEMO_LIST_ID", "Emulator", "SpecNotFound"]
