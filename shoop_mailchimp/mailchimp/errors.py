"""Exceptions for everything that can go wrong talking to Mailchimp.

Each carries the HTTP status, Mailchimp's problem JSON and a description of the request
(method and path only: never the API key), and prints Mailchimp's ``title``/``detail`` so a log
entry explains itself.
"""
import json

import requests
import urllib3

from shoop_mailchimp.conf import SETTING_NAME


class MailchimpError(Exception):
    """Base class: a Mailchimp call did not do what was asked."""

    #: Whether trying the same call again later may succeed.
    transient = False

    def __init__(self, message="", status=None, problem=None, method=None, path=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.problem = problem or {}
        self.method = method
        self.path = path

    @property
    def title(self):
        return self.problem.get("title") or ""

    @property
    def detail(self):
        return self.problem.get("detail") or self.message

    @property
    def field_errors(self):
        return [
            "%s: %s" % (error.get("field") or "-", error.get("message") or "")
            for error in self.problem.get("errors") or ()
        ]

    def describe_request(self):
        return " ".join(part for part in (self.method, self.path) if part)

    def __str__(self):
        parts = []
        if self.status:
            parts.append(str(self.status))
        if self.title:
            parts.append(self.title + ":")
        parts.append(self.detail or self.message or self.__class__.__name__)
        text = " ".join(parts)
        if self.field_errors:
            text += " (" + "; ".join(self.field_errors) + ")"
        if self.describe_request():
            text += " [%s]" % self.describe_request()
        return text

    def as_log_data(self):
        """JSON-safe data for a log entry, with the chain of causes (never the API key)."""
        problem = {key: value for key, value in self.problem.items() if key != "response"}
        data = {"status": self.status, "problem": problem, "request": self.describe_request()}
        if self.__cause__ is not None:
            data["cause"] = "%s: %s" % (self.__cause__.__class__.__name__, self.__cause__)
        return data


class MailchimpAPIError(MailchimpError):
    """Mailchimp answered with an error (``application/problem+json``)."""

    @property
    def transient(self):
        return self.status is None or self.status >= 500 or self.status == 408


class MailchimpRateLimited(MailchimpAPIError):
    """429, or the 403 Mailchimp answers when it throttles an account."""

    transient = True


class MailchimpAuthError(MailchimpAPIError):
    """The API key is wrong, revoked or lacks access: nothing works until an admin fixes it."""

    transient = False


class MailchimpNotFound(MailchimpAPIError):
    """The addressed resource does not exist."""

    transient = False


class MailchimpTransportError(MailchimpError):
    """No usable answer: connection refused or reset, timeout, garbled body, a redirect."""

    transient = True

    def __init__(self, message="", status=None, problem=None, method=None, path=None, unanswered=False):
        super().__init__(message, status=status, problem=problem, method=method, path=path)
        #: The request went out and no answer came back (a read timeout, a connection broken mid-call, an
        #: unreadable body): Mailchimp may have done it (see :func:`may_have_written`).
        self.unanswered = unanswered


class InvalidAPIKey(MailchimpError):
    """The key cannot be a Mailchimp API key; nothing was sent."""


class MailchimpRedirected(MailchimpTransportError):
    """A 3xx answer: something between the shop and Mailchimp (a proxy, a wrong API_BASE_URL)
    redirects. Not followed (the key would go along, or be dropped), never a success; retried
    like any transport failure, since the account itself is fine."""


THROTTLE_MARKERS = ("throttl", "too many", "rate limit")


def error_from_response(status, content, method=None, path=None):
    """Turn an error answer (its status and body) into the matching :class:`MailchimpAPIError` subclass."""
    try:
        problem = json.loads(content)
        if not isinstance(problem, dict):
            problem = {"detail": str(problem)}
    except ValueError:
        problem = {"detail": content.decode("utf-8", "replace")[:500]}
    problem.setdefault("status", status)
    return error_from_status(status, problem, method, path)


def error_from_status(status, problem, method=None, path=None):
    """The MailchimpAPIError subclass for an error status and its problem JSON."""
    text = ("%s %s" % (problem.get("title", ""), problem.get("detail", ""))).lower()
    if status == 429 or (status == 403 and any(marker in text for marker in THROTTLE_MARKERS)):
        cls = MailchimpRateLimited
    elif status == 401 or (status == 403 and "api key" in text):
        cls = MailchimpAuthError
    elif status == 404:
        cls = MailchimpNotFound
    else:
        cls = MailchimpAPIError
    return cls(problem.get("detail") or problem.get("title") or "", status=status, problem=problem,
               method=method, path=path)


def error_from_redirect(status, location, method=None, path=None):
    """A 3xx (or any other non-2xx below 400) as :class:`MailchimpRedirected`, naming where it pointed."""
    message = "Redirected %s instead of answering (not followed): check %s['API_BASE_URL'] and any proxy " \
        "on the way to Mailchimp" % ("to %s" % location[:200] if location else "without a Location", SETTING_NAME)
    return MailchimpRedirected(message, status=status, method=method, path=path)


def error_from_exception(exc, method=None, path=None):
    """Wrap an HTTP failure (``urllib3``'s, or ``requests``' for a batch's result archive) or an undecodable
    body as a transient transport error."""
    unanswered = True
    if isinstance(exc, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError,
                        requests.ConnectTimeout)):  # NewConnectionError: a subclass of the connect timeout
        message, unanswered = "Could not connect to Mailchimp (%s)" % exc.__class__.__name__, False
    elif isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError)):
        message = "Mailchimp did not answer in time (%s)" % exc.__class__.__name__
    elif isinstance(exc, urllib3.exceptions.ProtocolError):
        message = "The connection to Mailchimp broke during the call (%s)" % exc.__class__.__name__
    elif isinstance(exc, urllib3.exceptions.DecodeError):
        message = "Unreadable answer from Mailchimp (%s)" % exc.__class__.__name__
    elif isinstance(exc, (requests.ConnectionError, urllib3.exceptions.HTTPError)):
        message, unanswered = "Could not connect to Mailchimp (%s)" % exc.__class__.__name__, False
    else:
        message = "Unreadable answer from Mailchimp (%s)" % exc.__class__.__name__
    return MailchimpTransportError(message, method=method, path=path, unanswered=unanswered)


# The one classification: every module asks these (and batches.operation_*) rather than reading an error's
# status, title or detail itself (tests/test_structure.py checks it).


def may_have_written(error):
    """A write (not a read) went out and its answer never came: Mailchimp may have done it, and what the shop
    holds of the object may be out of date (a member moved to the address the write named)."""
    return (isinstance(error, MailchimpTransportError) and error.unanswered
            and (error.method or "GET").upper() not in ("GET", "HEAD"))


def is_transient(error):
    """Trying the same call again later may succeed (an outage, a timeout, a 5xx, a 408, a throttle)."""
    return isinstance(error, MailchimpError) and error.transient


def is_rate_limited(error):
    """Mailchimp asks the shop to slow down (429, or its throttling 403): sending is held back, nothing paused."""
    return isinstance(error, MailchimpRateLimited)


def is_auth_problem(error):
    """The key is refused or cannot be a key: nothing works until an admin repairs it."""
    return isinstance(error, (MailchimpAuthError, InvalidAPIKey))


def is_refused_for_good(error):
    """Mailchimp answered and refused this request (a 4xx about the request itself): asking again will not help,
    but the account works and other requests may still pass (not a passing failure, not the key's problem)."""
    return isinstance(error, MailchimpAPIError) and not (is_transient(error) or is_auth_problem(error))


def is_not_found(error):
    """The addressed resource does not exist (404)."""
    return isinstance(error, MailchimpNotFound)


def _refusal(error):
    """(status, title, detail lowercased) of an error answer; None for anything else."""
    if not isinstance(error, MailchimpAPIError):
        return None
    return error.status, (error.title or "").lower(), (error.detail or "").lower()


def already_exists(error):
    """A POST of something Mailchimp already has (a product, an order, a cart, a promo rule or code)."""
    refusal = _refusal(error)
    return refusal is not None and refusal[0] == 400 and "already exists" in refusal[2]


def product_missing(error):
    """An order or a cart refused because Mailchimp lacks a product (or a variant) one of its lines names:
    someone deleted it there while the shop holds it sent. Mailchimp answers a 400 whose detail says "A product
    (variant) with the provided ID ... does not exist", and names the line's ``product_id`` or
    ``product_variant_id`` field."""
    refusal = _refusal(error)
    if refusal is None or refusal[0] != 400:
        return False
    fields = {(item.get("field") or "").lower() for item in error.problem.get("errors") or ()
              if isinstance(item, dict)}
    if fields & {"lines.product_id", "lines.product_variant_id"}:
        return True
    return "product" in refusal[2] and "does not exist" in refusal[2]


def campaign_refused(error):
    """An order or cart naming a campaign the account does not have (deleted since the shopper followed its link,
    or of another account): Mailchimp answers 400 "A campaign with the provided ID does not exist in the account
    for this list." (or names the ``campaign_id`` field). The order goes again without it."""
    refusal = _refusal(error)
    if refusal is None or refusal[0] != 400:
        return False
    fields = {(item.get("field") or "").lower() for item in error.problem.get("errors") or () if isinstance(item, dict)}
    return "campaign_id" in fields or ("campaign" in refusal[2] and "does not exist" in refusal[2])


def interest_missing(error):
    """A member write naming an interest Mailchimp no longer has (someone deleted it there)."""
    refusal = _refusal(error)
    return refusal is not None and refusal[0] == 400 and "interest" in refusal[2]


def merge_fields_invalid(error):
    """A member write whose merge field values the audience refused ("Your merge fields were invalid."): a value
    of the wrong type, or a field the shop maps that a marketer replaced in Mailchimp by one of another type."""
    refusal = _refusal(error)
    return refusal is not None and refusal[0] == 400 and "merge fields were invalid" in refusal[2]


def member_exists(error):
    """An address change to an address that already has a member of its own."""
    refusal = _refusal(error)
    return refusal is not None and refusal[1] == "member exists"


def in_compliance_state(error):
    """Mailchimp refused to subscribe someone who unsubscribed or bounced (only their confirmation can)."""
    refusal = _refusal(error)
    return refusal is not None and refusal[1] == "member in compliance state"


def was_transient(error_data):
    """Whether an error stored as :meth:`MailchimpError.as_log_data` said "not now" rather than "not this"
    (no answer, Mailchimp down, slow or throttling)."""
    status = (error_data or {}).get("status")
    return status is None or error_from_status(status, dict((error_data or {}).get("problem") or {})).transient
#: Words of a 400's ``detail`` saying a promo code's text is a store's already (see :func:`promo_code_taken`).
PROMO_CODE_TAKEN_MARKERS = ("already exists", "already in use", "already been taken", "already taken", "duplicate",
                            "must be unique")


def promo_code_taken(error):
    """Whether Mailchimp refused a promo code because another promo code of the store has its code text (a
    store takes each code text once). Mailchimp answers a 400 titled "Invalid Resource" whose detail names
    the code as a duplicate; its exact wording is not documented (the emulator says "A promo code with the
    code '…' already exists in this store."), so any detail naming a code and one of
    ``PROMO_CODE_TAKEN_MARKERS`` counts, except one naming an id (``with the id '…' already exists``: the
    same promo code, or rule, sent twice) and one whose field errors name only other fields than ``code``."""
    if getattr(error, "status", None) != 400:
        return False
    title = (getattr(error, "title", "") or "").strip().lower()
    if title and title != "invalid resource":
        return False
    detail = (getattr(error, "detail", "") or "").lower()
    if "with the id" in detail:
        return False
    fields = {(item.get("field") or "").lower() for item in (getattr(error, "problem", None) or {}).get("errors") or ()
              if isinstance(item, dict)}
    if fields and "code" not in fields:
        return False
    texts = [detail] + [(item.get("message") or "").lower()
                        for item in (getattr(error, "problem", None) or {}).get("errors") or ()
                        if isinstance(item, dict) and (item.get("field") or "").lower() == "code"]
    return any("code" in text and any(marker in text for marker in PROMO_CODE_TAKEN_MARKERS) for text in texts)
