"""Storefront views: the newsletter block's signup, the account page, the link of a promo code in a Mailchimp
e-mail and a cart's restore link. They only change the shop (consent through :mod:`.subscriptions`, the
visitor's basket and its codes); Mailchimp hears of it from the drainer after the commit."""
from django.shortcuts import redirect
from django.utils.http import is_safe_url
from django.utils.translation import ugettext_lazy as _
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import TemplateView
from shuup.core.models import MutableAddress
from shuup.core.order_creator import is_code_usable
from shuup.front.basket.storage import DatabaseBasketStorage
from shuup.front.models import StoredBasket
from shuup.front.views.dashboard import DashboardViewMixin

from shoop_mailchimp import cart_links, shop_consent
from shoop_mailchimp.admin_module import messages  # script-safe: a message may be shown next in the admin
from shoop_mailchimp.models import MailchimpConfiguration
from shoop_mailchimp.storefront import attribution, rate_limits, subscriptions
from shoop_mailchimp.storefront.forms import NewsletterSignupForm, names_asked
from shoop_mailchimp.sync.kinds.cart import product_quantities, sold_product_ids

SIGNUP_URL_NAME = "shoop_mailchimp_newsletter_signup"
#: Session key: what the shopper typed into a newsletter block that was refused, shown again once.
REJECTED_INPUT = "shoop_mailchimp_newsletter_input"
PROMO_URL_NAME = "shoop_mailchimp_promo_redeem"
ACCOUNT_URL_NAME = "shoop_mailchimp_newsletter_account"
SIGNUP_VIEW_NAME = "shuup:" + SIGNUP_URL_NAME
ACCOUNT_VIEW_NAME = "shuup:" + ACCOUNT_URL_NAME

#: One message per outcome, the same whether the address was known or not (no leak of who is a customer).
CHECK_YOUR_INBOX = _("Almost done: check your inbox and click the link in our e-mail to confirm your "
                     "subscription.")
SUBSCRIBED = _("Thank you for subscribing to our newsletter. If you had unsubscribed before, we will e-mail "
               "you a link to confirm.")
#: The newsletter block under single opt-in: an address the shop knew already is confirmed by e-mail first.
SUBSCRIBED_BY_ADDRESS = _("Thank you for subscribing to our newsletter. If we knew your address already, or you "
                          "had unsubscribed before, we will e-mail you a link to confirm.")
TOO_MANY_ATTEMPTS = _("We received too many subscription requests from you or for this address. Please try "
                      "again later.")


#: While the shop sends nothing to Mailchimp (disconnected, paused): no e-mail is promised that is not on its way.
RECORDED = _("Thank you: your subscription is recorded. If we need you to confirm it, we will e-mail you a link.")


UNSUBSCRIBED = _("You are unsubscribed: we will not send you our newsletter.")
#: An Unsubscribe by an account whose address nobody proved theirs while another of the shop's customers proved it
#: and subscribed, or someone else subscribed the member (anyone can register an account with any address): this
#: account's consent only is withdrawn.
UNSUBSCRIBED_ACCOUNT_ONLY = _("Your account is unsubscribed: we will not send our newsletter on its behalf. If "
                              "this address still receives our newsletter, every newsletter e-mail has a link to "
                              "unsubscribe it.")
#: The account page's Subscribe for an account without an e-mail address: nothing is recorded.
NO_ADDRESS = _("Your account has no e-mail address, so our newsletter cannot reach you. Add one in your account "
               "details, then subscribe.")
#: An Unsubscribe while the shop sends nothing to Mailchimp, which still holds the member subscribed.
UNSUBSCRIBE_RECORDED = _("Your unsubscribe is recorded. Our newsletter service learns of it as soon as our shop "
                         "sends to it again: until then you may still receive our newsletter.")


def consent_given_message(shop, by_address_alone=False):
    configuration = MailchimpConfiguration.objects.filter(shop=shop).first()
    if configuration is None or not configuration.is_active:
        return RECORDED  # (a shop without Mailchimp set up thanks for no subscription either)
    if configuration.double_opt_in:
        return CHECK_YOUR_INBOX
    return SUBSCRIBED_BY_ADDRESS if by_address_alone else SUBSCRIBED


def _back_url(request):
    """The page the block was on; only a URL of this site (no open redirect)."""
    url = request.POST.get("next", "")
    if url and is_safe_url(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return "/"


@require_POST
def newsletter_signup(request):
    """The newsletter block's POST (CSRF-checked by Django's middleware): consent for an address, no
    account needed. Over a rate limit nothing is recorded."""
    back = _back_url(request)
    if not rate_limits.allow_attempt(rate_limits.PER_IP, rate_limits.client_ip(request)):
        messages.warning(request, TOO_MANY_ATTEMPTS)
        return redirect(back)
    form = NewsletterSignupForm(request.POST, ask_name=names_asked(request.POST, request.shop))
    if not form.is_valid():
        messages.error(request, form.first_error())
        request.session[REJECTED_INPUT] = form.input_to_show_again()
        return redirect(back)
    email = form.cleaned_data["email"]
    if not rate_limits.allow_attempt(rate_limits.PER_ADDRESS, email):
        messages.warning(request, TOO_MANY_ATTEMPTS)
        return redirect(back)
    subscriptions.subscribe_address(request.shop, email, form.cleaned_data.get("first_name", ""),
                                    form.cleaned_data.get("last_name", ""))
    messages.success(request, consent_given_message(request.shop, by_address_alone=True))
    return redirect(back)


#: Shuup's coupon codes are at most 12 characters; anything longer names no code.
MAX_CODE_LENGTH = 12
CODE_APPLIED = _("The code %(code)s is in your basket: its discount shows there once what is in the basket "
                 "meets the offer's conditions.")
CODE_UNUSABLE = _("The code %(code)s cannot be used: it does not exist, has ended or has been used up.")


@require_GET
def redeem_promo_code(request):
    """A promo code's redemption link in a Mailchimp e-mail: the code goes into the shopper's basket (as
    Shuup's own code field does it), and the shopper to the basket page, the only destination (no open
    redirect). A code that cannot be used says so there; the basket is left as it was."""
    code = request.GET.get("code", "").strip()
    basket = request.basket
    if code and len(code) <= MAX_CODE_LENGTH and is_code_usable(basket, code):
        basket.add_code(code)  # saved by Shuup's front middleware with the response
        messages.success(request, CODE_APPLIED % {"code": code})
    else:
        messages.warning(request, CODE_UNUSABLE % {"code": code[:MAX_CODE_LENGTH * 2]})
    return redirect("shuup:basket")


class AccountNewsletterView(DashboardViewMixin, TemplateView):
    """The shopper's own subscription, in Shuup's customer account area: see it, withdraw it, give it again."""

    template_name = "shoop_mailchimp/storefront/account_newsletter.jinja"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        person = self.request.person
        context.update(
            person=person,
            status=subscriptions.newsletter_status(self.request.shop, person),
            consents=shop_consent.consents_in(self.request.shop.pk, person),
            SUBSCRIBED=subscriptions.SUBSCRIBED,
            AWAITING_CONFIRMATION=subscriptions.AWAITING_CONFIRMATION,
            NOT_SUBSCRIBED=subscriptions.NOT_SUBSCRIBED,
            SUBSCRIBED_ELSEWHERE=subscriptions.SUBSCRIBED_ELSEWHERE,
            UNDELIVERABLE=subscriptions.UNDELIVERABLE,
            CONFIRMATION_MAILED=subscriptions.CONFIRMATION_MAILED,
            CONFIRMATION_LAPSED=subscriptions.CONFIRMATION_LAPSED,
            NO_ADDRESS=subscriptions.NO_ADDRESS,
            ARCHIVED=subscriptions.ARCHIVED,
            RECORDED=subscriptions.RECORDED,
            UNSUBSCRIBE_RECORDED=subscriptions.UNSUBSCRIBE_RECORDED,
        )
        return context

    def post(self, request, *args, **kwargs):
        person = request.person
        if request.POST.get("subscribe") == "1":
            # As the newsletter block: an address subscribed too often (here or there) records nothing more.
            if not (person.email or "").strip():
                messages.error(request, NO_ADDRESS)
            elif not rate_limits.allow_attempt(rate_limits.PER_ADDRESS, person.email):
                messages.warning(request, TOO_MANY_ATTEMPTS)
            else:
                subscriptions.subscribe_person(request.shop, person, subscriptions.ACCOUNT_PAGE)
                # An address the shopper never proved theirs is told as the block tells one: a known one confirms.
                messages.success(request, consent_given_message(
                    request.shop, by_address_alone=subscriptions.address_unproven(person)))
        elif request.POST.get("subscribe") == "0":
            if not subscriptions.withdraw_consent(request.shop, person):
                # The address's subscription is not this unproven account's to end (withdrawal_own_only).
                messages.success(request, UNSUBSCRIBED_ACCOUNT_ONLY)
                return redirect(ACCOUNT_VIEW_NAME)
            recorded = subscriptions.newsletter_status(request.shop, person) == subscriptions.UNSUBSCRIBE_RECORDED
            messages.success(request, UNSUBSCRIBE_RECORDED if recorded else UNSUBSCRIBED)
        return redirect(ACCOUNT_VIEW_NAME)


BASKET_VIEW_NAME = "shuup:basket"
CART_RESTORED = _("Welcome back: your basket is as you left it.")
CART_ADDED = _("Welcome back: the products of your saved basket were added to your basket.")
CART_LINK_BAD = _("This basket link is not valid or has expired. Your current basket is shown instead.")
CART_GONE = _("This basket was ordered or emptied since the link was sent. Your current basket is shown instead.")
CART_PRODUCTS_GONE = _("This basket is gone: its products are no longer sold. Your current basket is shown instead.")


def restore_cart(request, token):
    """A cart's ``checkout_url``. The link's stored basket is never handed over (it may be somebody else's, and a
    shared basket would be shared live, both ways): a visitor who holds it already keeps it as it is; anybody
    else gets the link's products their own basket lacks copied into it (an empty basket: all its lines and
    codes), and the stored basket is left as it was. The basket page shows the result. No login: the owner's
    addresses are copied only for that shopper logged in."""
    try:
        basket_id, hashed_key = cart_links.read_token(token)
    except cart_links.BadLink:
        messages.error(request, CART_LINK_BAD)
        return redirect(BASKET_VIEW_NAME)
    stored = StoredBasket.objects.filter(pk=basket_id).first()
    if stored is not None and (not cart_links.names_basket(hashed_key, stored) or stored.shop_id != request.shop.pk):
        # Altered, or a basket of another shop's storefront (its products, prices and codes are that shop's).
        messages.error(request, CART_LINK_BAD)
        return redirect(BASKET_VIEW_NAME)
    basket = request.basket
    storage = basket.storage
    if stored is None or stored.deleted or not product_quantities(stored) or cart_links.ordered_from_copy(stored) \
            or not isinstance(storage, DatabaseBasketStorage):
        # Ordered (here, or from a copy a link made: receivers note it), deleted, or emptied line by line.
        messages.error(request, CART_GONE)
        return redirect(BASKET_VIEW_NAME)
    sold = sold_product_ids(request.shop.pk, product_quantities(stored))
    if not sold:
        messages.error(request, CART_PRODUCTS_GONE)  # not an empty basket "as you left it"
        return redirect(BASKET_VIEW_NAME)
    attribution.restore_from_basket(request, stored.data)
    if storage.get_basket_kwargs(basket).get("pk") == stored.pk:
        messages.success(request, CART_RESTORED)  # the visitor holds that basket already: nothing changes
        return redirect(BASKET_VIEW_NAME)
    own_products = {line.product.pk for line in list(basket.get_lines()) + list(basket.get_unorderable_lines())
                    if line.product}
    _add_products_lacking(basket, stored, own_products, sold)  # saved by Shuup's front middleware
    # Its order ends the link's cart (receivers.carts); the order creator copies it into the order's extra_data.
    basket.extra_data = dict(basket.extra_data or {}, **{cart_links.RESTORED_FROM: stored.pk})
    basket.dirty = True  # Shuup's extra_data setter does not mark it: a copy that added no line must be saved too
    if not own_products:
        _copy_codes(basket, stored)
        owners = {stored.customer_id, stored.orderer_id} - {None}
        if owners and getattr(request.customer, "pk", None) in owners:
            _copy_owner_addresses(basket, stored)
    messages.success(request, CART_ADDED if own_products else CART_RESTORED)
    return redirect(BASKET_VIEW_NAME)


def _copy_owner_addresses(basket, stored):
    """The billing and shipping addresses of the stored basket, into the owner's (empty) copy, through Shuup's
    address setters: a saved address by its id (if it still exists), else the typed one (``*_address_data``)."""
    data = stored.data or {}
    for name in ("billing_address", "shipping_address"):
        address = None
        if data.get(name + "_id"):
            address = MutableAddress.objects.filter(pk=data[name + "_id"]).first()
        if address is None and isinstance(data.get(name + "_data"), dict):
            try:
                address = MutableAddress.from_data(data[name + "_data"])
            except (TypeError, ValueError):  # fields of another Shuup version: the owner types it again
                address = None
        if address is not None:
            setattr(basket, name, address)
            basket.dirty = True


def _add_products_lacking(basket, stored, own_products, sold):
    """The stored basket's product lines (with their sub-lines) whose product the visitor's basket lacks, added to
    it as they were; a product it holds keeps the visitor's quantity. A line whose product is no longer sold in
    the shop (not in ``sold``: deleted, or its shop product removed) is left out, with its sub-lines: Shuup cannot
    price it."""
    lines = [line for line in (stored.data or {}).get("lines") or [] if isinstance(line, dict)]
    added = set()
    for line in lines:
        parent = line.get("parent_line_id")
        if parent:
            if parent not in added:
                continue
        elif not line.get("product_id") or line["product_id"] in own_products:
            continue
        if line.get("product_id") and line["product_id"] not in sold:
            continue
        basket.update_line(dict(line))
        added.add(line.get("line_id"))


def _copy_codes(basket, stored):
    """The stored basket's codes that can still be used, into the visitor's (empty) basket."""
    for code in (stored.data or {}).get("codes") or []:
        if isinstance(code, str) and is_code_usable(basket, code):
            basket.add_code(code)
