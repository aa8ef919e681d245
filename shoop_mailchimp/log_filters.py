"""Keeps the webhook secret out of Django's request logs.

The secret is a segment of the webhook's path, and Django logs paths: ``django.request`` on
every 4xx and 5xx answer ("Bad Request: /mailchimp/webhook/1/<secret>/", "Method Not Allowed
(PUT): ..."), ``django.server`` (runserver) on every request, ``django.security.*`` on a
suspicious request (a Host not in ``ALLOWED_HOSTS``). :class:`MaskWebhookSecret` masks that
segment wherever such a record carries the path: the message, its arguments, and the request
attached for error e-mails.
"""
import copy
import logging
import re

from django.http import HttpRequest

#: The segment after the shop id; matched anywhere, so prefixes (a language, a script name) do not matter.
SECRET_IN_PATH = re.compile(r"(/mailchimp/webhook/[0-9]+/)[^/?#\s]+")
MASKED = r"\1<secret>"
#: Loggers whose records carry request paths. A logger's filters see only the records logged on it, so
#: the filter also goes on every handler of these and of their parents (``django.security.*`` records
#: are logged on loggers named after the exception and reach the handlers of ``django``).
LOGGERS = ("django.request", "django.server", "django.security", "django", "")
REQUEST_META_PATHS = ("PATH_INFO", "REQUEST_URI", "RAW_URI")


def mask_webhook_secret(text):
    return SECRET_IN_PATH.sub(MASKED, text) if isinstance(text, str) else text


def _masked_request(request):
    masked = copy.copy(request)
    masked.path = mask_webhook_secret(request.path)
    masked.path_info = mask_webhook_secret(request.path_info)
    masked.META = {
        key: mask_webhook_secret(value) if key in REQUEST_META_PATHS else value
        for key, value in request.META.items()
    }
    return masked


class MaskWebhookSecret(logging.Filter):
    def filter(self, record):
        record.msg = mask_webhook_secret(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_webhook_secret(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: mask_webhook_secret(value) for key, value in record.args.items()}
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest) and SECRET_IN_PATH.search(request.path):
            record.request = _masked_request(request)
        return True


def _add_once(filterer):
    if not any(isinstance(existing, MaskWebhookSecret) for existing in filterer.filters):
        filterer.addFilter(MaskWebhookSecret())


def install():
    """Attach the filter to Django's loggers that write request paths and to their handlers (once, however
    often it is called)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        _add_once(logger)
        for handler in logger.handlers:
            _add_once(handler)
