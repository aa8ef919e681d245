"""Campaigns (only what orders and carts name in ``campaign_id``) and connected sites (the site script a
storefront includes for site tracking, pop-up forms and browse abandonment)."""

import copy

from ..errors import invalid, not_found, require
from ..state import random_hex
from .ecommerce import site_script, stamped
from .registry import handles, page


def new_campaign(account, campaign_id=None):
    campaign_id = campaign_id or random_hex(10)
    account.campaigns[campaign_id] = stamped({
        "id": campaign_id, "web_id": int(random_hex(6), 16), "type": "regular", "status": "sent",
        "emails_sent": 0})
    return campaign_id


@handles("GET", "/campaigns/{campaignId}")
def get_campaign(ctx):
    campaign = ctx.account.campaigns.get(ctx.params["campaignId"])
    if campaign is None:
        raise not_found()
    return copy.deepcopy(campaign)


def _site(ctx):
    site = ctx.account.connected_sites.get(ctx.params["connectedSiteId"])
    if site is None:
        raise not_found()
    return site


@handles("GET", "/connected-sites")
def list_sites(ctx):
    return page(ctx.account.connected_sites.values(), ctx.query, "sites")


@handles("POST", "/connected-sites")
def create_site(ctx):
    require(ctx.body, "foreign_id", "domain")
    if ctx.body["foreign_id"] in ctx.account.connected_sites:
        raise invalid("A connected site with the provided foreign_id already exists.")
    site = stamped({"foreign_id": ctx.body["foreign_id"], "store_id": "", "platform": "", "domain": ctx.body["domain"],
                    "site_script": site_script(ctx.body["foreign_id"])})
    if ctx.body["foreign_id"] in ctx.account.stores:
        site["store_id"] = ctx.body["foreign_id"]
    ctx.account.connected_sites[site["foreign_id"]] = site
    return copy.deepcopy(site)


@handles("GET", "/connected-sites/{connectedSiteId}")
def get_site(ctx):
    return copy.deepcopy(_site(ctx))


@handles("DELETE", "/connected-sites/{connectedSiteId}")
def delete_site(ctx):
    del ctx.account.connected_sites[_site(ctx)["foreign_id"]]
    return 204, None


@handles("POST", "/connected-sites/{connectedSiteId}/actions/verify-script-installation")
def verify_site(ctx):
    _site(ctx)
    return 204, None
