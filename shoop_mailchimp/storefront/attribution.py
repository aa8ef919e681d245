"""Campaign attribution: which Mailchimp campaign brought the shopper who orders.

Mailchimp's links carry ``mc_cid`` (the campaign), ``mc_eid`` (the recipient) and sometimes ``mc_tc`` (the
tracking code). :class:`CampaignAttributionMiddleware` remembers them with the landing page for the visit (in the
session) and in a signed first-party cookie (set and read only where the shop's cookie consent allows Mailchimp's
cookies, deleted where it no longer does), both for ``ATTRIBUTION_COOKIE_AGE`` seconds (a later visit still
counts); a newer campaign link replaces them. A basket changed in the visit carries them too, in its public
``extra_data`` (its cart names the campaign; its restore link brings the campaign back, unless the visit knows one
whose link was followed later). When an order is created from the visit, :func:`remember_for_order` keeps them in
an :class:`~shoop_mailchimp.models.OrderAttribution`, sent with the order. Only values in Mailchimp's own format
are kept: a link cannot smuggle text into the shop or into Mailchimp.

The middleware also tells the rest of the addon which storefront request it serves (:data:`STOREFRONT_REQUEST`):
a consent a save gives to that request's own shopper is theirs, given in that shop's storefront (see
:func:`shoop_mailchimp.receivers.contacts.storefront_consent_shop`), not the staff's.
"""
import contextvars
import json
import re
import time
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from django.core import signing
from django.db.models import Q
from django.utils.deprecation import MiddlewareMixin
from shuup.core.models import Order

from shoop_mailchimp.conf import get_setting
from shoop_mailchimp.models import OrderAttribution
from shoop_mailchimp.storefront.site_script import mailchimp_cookies_allowed

SESSION_KEY = "shoop_mailchimp_attribution"
#: Session key: when the session's attribution was remembered (seconds since the epoch); it lasts
#: ATTRIBUTION_COOKIE_AGE from then, as the cookie does.
SESSION_AT_KEY = "shoop_mailchimp_attribution_at"
#: In a basket's ``extra_data`` (Shuup's public place for an addon's data; baskets saved before kept it at the top of
#: their data): the visit's attribution. Its cart names the campaign, and its restore link brings the campaign back
#: to whoever opens it (another browser, days later).
BASKET_KEY = "shoop_mailchimp_attribution"
COOKIE_NAME = "mc_attribution"
COOKIE_SALT = "shoop_mailchimp.attribution"
#: Mailchimp's campaign and recipient ids are ten hexadecimal digits.
MAILCHIMP_ID = re.compile(r"^[0-9a-f]{10}$")
#: The tracking codes Mailchimp's API takes on an order.
TRACKING_CODES = ("prec",)
#: The landing page's address is kept percent-encoded to ASCII that a cookie carries as it is (``;``, ``,``, quotes,
#: backslashes, spaces, control and non-ASCII characters are escaped, so none of them grows in the cookie) and
#: clipped to this many characters: the cookie stays under 1.5 KB (browsers drop one over 4 KB).
MAX_LANDING_SITE = 1000
LANDING_SITE_SAFE = "/:?#[]@!$&'()*+=%-._~"
#: The URL namespace of Shuup's storefront (``shuup.front.urls``, with every addon's ``front_urls``): a request whose
#: view is in it is a storefront request; the admin's (``shuup_admin``), Shuup's API or Django's admin are not.
FRONT_NAMESPACE = "shuup"


class StorefrontRequest:
    """The storefront request being served: its shop, the ids of its shopper's contacts (the person logged in and
    the customer they buy as: their company, if any) and its view's name."""

    def __init__(self, shop_id, contact_ids, view_name):
        self.shop_id = shop_id
        self.contact_ids = frozenset(contact_ids)
        self.view_name = view_name


#: The :class:`StorefrontRequest` the current thread (or task) serves, or None: set by
#: :class:`CampaignAttributionMiddleware` once the request's view is resolved to Shuup's storefront, and reset when
#: the response is made (a worker thread serves one request after another).
STOREFRONT_REQUEST = contextvars.ContextVar("shoop_mailchimp_storefront_request", default=None)


def from_query(request):
    """The attribution a campaign link's query carries, or None."""
    campaign_id = request.GET.get("mc_cid", "").strip().lower()
    if not MAILCHIMP_ID.match(campaign_id):
        return None
    email_id = request.GET.get("mc_eid", "").strip().lower()
    tracking_code = request.GET.get("mc_tc", "").strip().lower()
    return {
        "campaign_id": campaign_id,
        "email_id": email_id if MAILCHIMP_ID.match(email_id) else "",
        "landing_site": landing_site(request),
        "tracking_code": tracking_code if tracking_code in TRACKING_CODES else "",
        # When the link was followed (seconds since the epoch): of two campaigns, the later link counts.
        "landed_at": int(time.time()),
    }


def landing_site(request):
    """The page a campaign link landed on, as kept: percent-encoded, clipped to MAX_LANDING_SITE characters."""
    url = quote(request.build_absolute_uri(), safe=LANDING_SITE_SAFE)[:MAX_LANDING_SITE]
    return re.sub(r"%[0-9A-Fa-f]?$", "", url)  # no escape cut in half


def current(request):
    """The visit's attribution (the session's, else the cookie's), or None. Both last ATTRIBUTION_COOKIE_AGE
    seconds from the campaign link (0: the browser session); an expired session copy is forgotten."""
    session = getattr(request, "session", None)
    if session is not None and session.get(SESSION_KEY):
        if _fresh(session.get(SESSION_AT_KEY)):
            return session[SESSION_KEY]
        forget(session)
    return from_cookie(request)[0]


def _fresh(remembered_at):
    """Whether a session copy remembered at ``remembered_at`` (seconds since the epoch) is still in its age; one
    without the time (remembered before it was kept) is not."""
    age = get_setting("ATTRIBUTION_COOKIE_AGE")
    if not age:
        return True
    return isinstance(remembered_at, (int, float)) and time.time() - remembered_at <= age


def from_cookie(request):
    """(the attribution the signed cookie holds, when the campaign link set it), or (None, None). Read only while
    the shop's cookie consent allows Mailchimp's cookies: a visitor who withdrew it is no longer tracked by the
    cookie set before (the middleware deletes it)."""
    if COOKIE_NAME not in getattr(request, "COOKIES", {}) or not mailchimp_cookies_allowed(request):
        return None, None
    signer = signing.get_cookie_signer(salt=COOKIE_NAME + COOKIE_SALT)
    try:
        cookie = request.COOKIES[COOKIE_NAME]
        data = json.loads(signer.unsign(cookie, max_age=get_setting("ATTRIBUTION_COOKIE_AGE") or None))
        signed_at = signing.baseconv.base62.decode(signing.Signer.unsign(signer, cookie).rsplit(signer.sep, 1)[1])
    except (KeyError, IndexError, signing.BadSignature, ValueError):
        return None, None
    if isinstance(data, dict) and MAILCHIMP_ID.match(str(data.get("campaign_id", ""))):
        return data, signed_at
    return None, None


def remember(session, data, at=None):
    """Keep an attribution for the visit, with the time its age counts from (now unless given)."""
    session[SESSION_KEY] = data
    session[SESSION_AT_KEY] = int(time.time() if at is None else at)


def forget(session):
    session.pop(SESSION_KEY, None)
    session.pop(SESSION_AT_KEY, None)


class CampaignAttributionMiddleware(MiddlewareMixin):
    """Remembers a campaign link's ids for the visit; add it after Django's SessionMiddleware (docs/carts.rst).
    Also marks a storefront request for as long as it is served (:data:`STOREFRONT_REQUEST`)."""

    def __call__(self, request):
        token = STOREFRONT_REQUEST.set(None)
        try:
            return super().__call__(request)
        finally:
            STOREFRONT_REQUEST.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        """A view of Shuup's storefront (not of its admin) serving a shopper who is logged in: the request is marked
        with its shop and its shopper's contacts (Shuup's front middleware set them when the request came in)."""
        match = getattr(request, "resolver_match", None)
        shop = getattr(request, "shop", None)
        if match is None or FRONT_NAMESPACE not in match.namespaces or getattr(shop, "pk", None) is None:
            return None
        contact_ids = {getattr(getattr(request, name, None), "pk", None) for name in ("person", "customer")} - {None}
        if contact_ids:
            STOREFRONT_REQUEST.set(StorefrontRequest(shop.pk, contact_ids, match.view_name))
        return None

    def process_request(self, request):
        request.mailchimp_attribution_landed = from_query(request)
        if request.mailchimp_attribution_landed and hasattr(request, "session"):
            remember(request.session, request.mailchimp_attribution_landed)
        elif hasattr(request, "session"):
            current(request)  # forgets a session copy past its age
            if not request.session.get(SESSION_KEY):
                remembered, signed_at = from_cookie(request)
                if remembered:
                    remember(request.session, remembered, at=signed_at)

    def process_response(self, request, response):
        """Runs before Shuup's front middleware saves a changed basket: a basket this request changed (``dirty``,
        so loaded already) carries the visit's attribution in its ``extra_data``. A basket the request did not
        change is neither loaded nor saved here."""
        basket = getattr(request, "basket", None)
        if getattr(basket, "dirty", False) and hasattr(request, "session"):
            remembered = request.session.get(SESSION_KEY)
            if remembered:
                extra_data = basket.extra_data
                if extra_data.get(BASKET_KEY) != remembered:
                    basket.extra_data = dict(extra_data, **{BASKET_KEY: remembered})
        landed = getattr(request, "mailchimp_attribution_landed", None)
        age = get_setting("ATTRIBUTION_COOKIE_AGE")
        has_cookie = COOKIE_NAME in request.COOKIES
        if landed or has_cookie:
            allowed = mailchimp_cookies_allowed(request)
            if landed and allowed:
                # A marketing cookie (the recipient's id, 30 days): under the shop's cookie consent, as the site
                # script. The session's copy lives only for the visit.
                response.set_signed_cookie(COOKIE_NAME, json.dumps(landed), salt=COOKIE_SALT, max_age=age or None,
                                           httponly=True, samesite="Lax", secure=request.is_secure())
            elif has_cookie and not allowed:
                response.delete_cookie(COOKIE_NAME, samesite="Lax")  # consent withdrawn since it was set
        return response


def remember_for_order(order, request):
    """Keep the visit's attribution with an order created in it (in the checkout's transaction)."""
    data = current(request) if request is not None else None
    if not data:
        return
    OrderAttribution.objects.update_or_create(order=order, defaults={
        "campaign_id": data["campaign_id"], "email_id": data.get("email_id", ""),
        "landing_site": data.get("landing_site", "")[:MAX_LANDING_SITE],
        "tracking_code": data.get("tracking_code", "")})


def without_recipient(url):
    """A landing page's address without its ``mc_eid`` (the recipient's Mailchimp id): what stays of it once the
    shopper was erased."""
    parts = urlsplit(url)
    kept = [piece for piece in parts.query.split("&") if piece and _parameter_name(piece) != "mc_eid"]
    return urlunsplit(parts._replace(query="&".join(kept)))


def _parameter_name(piece):
    """A query piece's parameter name as the storefront reads it: decoded (``mc%5Feid``), and without the ``amp;`` an
    HTML-escaped link leaves before it."""
    name = unquote_plus(piece.split("=", 1)[0]).lower()
    while name.startswith("amp;"):
        name = name[len("amp;"):]
    return name


def forget_recipient(contact_ids):
    """A GDPR anonymization of these contacts: their orders' attribution keeps its campaign (no personal data) but
    no longer the recipient's Mailchimp id (``email_id``, ``mc_eid`` in the landing page), which would link the
    anonymized orders back to the person in Mailchimp's reports and exports. The copy in the orders'
    ``extra_data`` (Shuup's order creator copies the basket's) goes too. In the caller's transaction; written
    with UPDATEs, so that no order save is signalled."""
    orders = Order.objects.filter(Q(customer_id__in=contact_ids) | Q(orderer_id__in=contact_ids))
    for attribution in OrderAttribution.objects.filter(order__in=orders).exclude(email_id="", landing_site=""):
        OrderAttribution.objects.filter(pk=attribution.pk).update(
            email_id="", landing_site=without_recipient(attribution.landing_site))
    for order in orders.only("pk", "extra_data"):  # (the field decodes the JSON; values_list would not)
        extra_data = order.extra_data
        remembered = extra_data.get(BASKET_KEY) if isinstance(extra_data, dict) else None
        if isinstance(remembered, dict):
            remembered = dict(remembered, email_id="", landing_site=without_recipient(
                str(remembered.get("landing_site") or "")))
            Order.objects.filter(pk=order.pk).update(extra_data=dict(extra_data, **{BASKET_KEY: remembered}))


def restore_from_basket(request, basket_data):
    """A restored basket brings its campaign back to the visit, unless the visit came with its own link or knows a
    campaign whose link was followed later (a basket saved before links kept that time brings its campaign only to
    a visit that knows none)."""
    remembered = of_basket(basket_data)
    if not remembered or getattr(request, "mailchimp_attribution_landed", None) or not hasattr(request, "session"):
        return
    present = current(request)
    if present and not _landed_after(remembered, present, request.session.get(SESSION_AT_KEY)):
        return
    remember(request.session, remembered)  # its age counts from this visit


def _landed_after(remembered, present, present_remembered_at):
    """Whether the link of ``remembered`` was followed after that of the visit's ``present`` attribution (whose
    time is its link's, else when the visit remembered it)."""
    landed_at = remembered.get("landed_at")
    if not isinstance(landed_at, (int, float)):
        return False
    present_at = present.get("landed_at")
    if not isinstance(present_at, (int, float)):
        present_at = present_remembered_at if isinstance(present_remembered_at, (int, float)) else 0
    return landed_at > present_at


def of_basket(basket_data):
    """The attribution a stored basket's data carries (in its ``extra_data``, or at the top where baskets saved
    before kept it), or None."""
    basket_data = basket_data if isinstance(basket_data, dict) else {}
    extra_data = basket_data.get("extra_data")
    for remembered in ((extra_data if isinstance(extra_data, dict) else {}).get(BASKET_KEY),
                       basket_data.get(BASKET_KEY)):
        if isinstance(remembered, dict) and MAILCHIMP_ID.match(str(remembered.get("campaign_id", ""))):
            return remembered
    return None
