"""Found by independent review aud42 (issue 19) of 76d35b0 (a check that held) (probe of item 3): a confirming move
recorded after a later step failed, then a withdrawal or a move back without consent before the retry."""
import pytest

from shoop_mailchimp.sync.drainer import drain
from tests.helpers import make_all_due, send_due
from tests.storefront.helpers import customer_information_post
from tests.storefront.test_customer_information_moves import tess_subscribed_under_double_opt_in

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("then", ["withdraw-at-typo", "back-withdrawn"])
def test_confirming_move_failed_put_then_withdrawn(
        shop, configuration, mailchimp_account, django_user_model, newsletter_block, then):
    """Tess (proven, subscribed, double opt-in) saves a typo; the move's PATCH is answered, the PUT after it fails
    (503). Before the retry she unticks the newsletter box (at the typo, or saving her own address back): she must
    be neither subscribed nor pending anywhere."""
    emulator, api_key, list_id = mailchimp_account
    own, typo = "tess.a42%s@fastmail.com" % then[:4], "tess.a42%s@fastmail.con" % then[:4]
    tess, browser = tess_subscribed_under_double_opt_in(shop, configuration, mailchimp_account, django_user_model,
                                                        "tess42" + then[:4], own)
    emulator.faults.fail("*/members/*", status=503, method="PUT", times=1)
    customer_information_post(browser, email=typo, marketing_permission="on")
    make_all_due()
    drain(max_rounds=1)
    emulator.faults.clear()
    customer_information_post(browser, email=typo if then == "withdraw-at-typo" else own)
    send_due(rounds=4)
    statuses = {a: (emulator.get_member(api_key, list_id, a) or {}).get("status") for a in (own, typo)}
    assert not set(statuses.values()) & {"subscribed", "pending"}, statuses
