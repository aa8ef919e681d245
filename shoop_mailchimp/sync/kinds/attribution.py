"""An order's (and a cart's) campaign attribution as Mailchimp fields: ``campaign_id`` (its campaign report then shows
the order's revenue), ``landing_site`` and ``tracking_code``. Mailchimp refuses an order naming a campaign the
account does not have (a link from another account's e-mail, an altered one), so a campaign is looked up once
per drain before an order names it, and left out if it is not there: the order counts anyway.
"""
from shoop_mailchimp.mailchimp import errors
from shoop_mailchimp.mailchimp.errors import MailchimpNotFound
from shoop_mailchimp.mailchimp.resources import campaign_path
from shoop_mailchimp.mailchimp.transport import Operation
from shoop_mailchimp.models import OrderAttribution
from shoop_mailchimp.storefront.attribution import of_basket


class Attributions:
    """The attributions of a slice of orders, and what this drain learnt of their campaigns."""

    def __init__(self, order_ids):
        self.by_order = OrderAttribution.objects.filter(order_id__in=list(order_ids)).in_bulk(field_name="order_id")
        #: {campaign id: whether the account has it}
        self.campaigns = {}


def order_fields(attribution):
    """The order payload's attribution fields (none for an order nobody came to from a campaign)."""
    if attribution is None:
        return {}
    fields = {"campaign_id": attribution.campaign_id, "landing_site": attribution.landing_site,
              "tracking_code": attribution.tracking_code}
    return {name: value for name, value in fields.items() if value}


def cart_fields(basket_data):
    """A cart's attribution field: the campaign of the visit that filled the basket."""
    remembered = of_basket(basket_data)
    return {"campaign_id": remembered["campaign_id"]} if remembered else {}


def check_campaign(payload, attributions):
    """Operations that make sure the payload's campaign exists in the account; drops it from the payload if not."""
    campaign_id = payload.get("campaign_id")
    if not campaign_id:
        return
    if campaign_id not in attributions.campaigns:
        try:
            yield Operation("GET", campaign_path(campaign_id), params={"fields": "id"})
            attributions.campaigns[campaign_id] = True
        except MailchimpNotFound:
            attributions.campaigns[campaign_id] = False
    if not attributions.campaigns[campaign_id]:
        del payload["campaign_id"]


def drop_refused_campaign(error, payload, attributions):
    """Whether ``error`` is Mailchimp refusing the payload's campaign, deleted between the look-up
    (:func:`check_campaign`) and the write: the campaign is then dropped from the payload, and known gone for the rest
    of the drain, and the order or cart is written again without it (it counts anyway)."""
    if not (errors.campaign_refused(error) and payload.get("campaign_id")):
        return False
    attributions.campaigns[payload.pop("campaign_id")] = False
    return True
