"""Django's message functions, made safe for the text this app puts in messages.

Shuup's admin writes messages into a ``<script>`` block through its ``json`` filter, which leaves
``<`` as it is (shuup/admin/templates/shuup/admin/base.jinja), so a message holding
``</script>`` ends the script and whatever follows runs. Our messages carry text that customers
and Mailchimp control: ``"</script><script>alert(1)</script>"@example.com`` is an address Django
accepts, and Mailchimp echoes it in its errors. Shuup's JavaScript shows a message as plain text,
so the angle brackets are swapped for look-alikes: the message reads the same and cannot leave
the script. Every admin view of this app imports these instead of ``django.contrib.messages``.
"""
from django.contrib import messages

SCRIPT_SAFE = str.maketrans({"<": "\u2039", ">": "\u203a"})


def script_safe(text):
    """``text`` with ``<`` and ``>`` replaced by ``‹`` and ``›``."""
    return str(text).translate(SCRIPT_SAFE)


def success(request, text):
    messages.success(request, script_safe(text))


def info(request, text):
    messages.info(request, script_safe(text))


def warning(request, text):
    messages.warning(request, script_safe(text))


def error(request, text):
    messages.error(request, script_safe(text))
