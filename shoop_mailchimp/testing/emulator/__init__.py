"""A stateful Mailchimp Marketing API v3 emulator over real HTTP, validated against the OpenAPI spec.

    emu = Emulator(require_spec=True).start()
    key = emu.add_account()
    list_id = emu.add_list(key)
    client = MailChimp(mc_api=key)
    client.base_url = emu.base_url

Or run ``python -m shoop_mailchimp.testing.emulator --port 8765`` for a demo server.
"""

from . import rules
from .core import DEMO_API_KEY, DEMO_LIST_ID, Emulator
from .spec import SpecNotFound

__all__ = ["DEMO_API_KEY", "DEMO_LIST_ID", "Emulator", "SpecNotFound", "rules"]
