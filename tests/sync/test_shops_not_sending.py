"""A shop that sends nothing (disconnected, paused, "Send changes" unticked) keeps recording its changes, and its
backlog never stops the other shops' sending (review aud13 finding 2)."""
from datetime import timedelta

import pytest
from django.utils import timezone
from shuup.core.models import ShopProduct, ShopProductVisibility
from shuup.testing.factories import create_product, get_default_supplier

from shoop_mailchimp.models import MailchimpConfiguration, SyncKind, SyncState, SyncStatus
from shoop_mailchimp.sync import state
from shoop_mailchimp.sync.drainer import drain
from tests.sync.conftest import south_and_north  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

#: The ways a shop sends nothing while its changes are still recorded.
NOT_SENDING = {
    "disconnected": lambda: dict(disconnected_on=timezone.now()),
    "paused": lambda: dict(paused_reason="The API key was refused."),
    "send changes unticked": lambda: dict(enabled=False),
}


@pytest.mark.parametrize("how", sorted(NOT_SENDING))
def test_a_shop_not_sending_with_a_backlog_does_not_starve_a_connected_shop(settings, shop, south_and_north,  # noqa: F811
                                                                            mailchimp_account, how):
    """South sends nothing: "changes are still recorded", so its rows pile up as pending, older than anything
    North records. A claim takes the oldest due rows: were South's among them, a claim holding only such rows
    would be given back unsent and end the drain, round after round, and North's new product would never go.
    The claim takes only rows of shops that send; South's stay pending, for when it sends again."""
    settings.SHOOP_MAILCHIMP = dict(settings.SHOOP_MAILCHIMP, DRAIN_CHUNK=2, DRAIN_CONCURRENCY=1)
    south_config, north_config = south_and_north
    MailchimpConfiguration.objects.filter(pk=south_config.pk).update(**NOT_SENDING[how]())
    for number in range(4):
        create_product("south-%d" % number, shop=shop, supplier=get_default_supplier(), default_price=10)
    long_ago = timezone.now() - timedelta(hours=1)
    SyncState.objects.filter(shop=shop, status=SyncStatus.PENDING).update(next_attempt_at=long_ago)
    south_pending = set(SyncState.objects.filter(shop=shop, status=SyncStatus.PENDING).values_list("id", flat=True))
    assert len(south_pending) >= 2
    product = create_product("north-kettle", shop=north_config.shop, supplier=get_default_supplier(),
                             default_price=300)
    ShopProduct.objects.filter(product=product, shop=north_config.shop).update(
        visibility=ShopProductVisibility.ALWAYS_VISIBLE)
    north_row = SyncState.objects.get(shop=north_config.shop, kind=SyncKind.PRODUCT, object_id=product.pk)
    SyncState.objects.filter(pk=north_row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    for _round in range(5):  # five drainer rounds
        drain()
    north_row.refresh_from_db()
    assert north_row.status == SyncStatus.SYNCED, "North's product is never sent while South sends nothing"
    # South's backlog waits, unclaimed and untouched, for when South sends again.
    assert set(SyncState.objects.filter(id__in=south_pending, status=SyncStatus.PENDING, claimed_by="",
                                        next_attempt_at=long_ago).values_list("id", flat=True)) == south_pending
    assert state.claim(shop_id=shop.pk) == []

    MailchimpConfiguration.objects.filter(pk=south_config.pk).update(disconnected_on=None, paused_reason="",
                                                                     enabled=True)
    drain()
    assert not SyncState.objects.filter(id__in=south_pending).exclude(status=SyncStatus.SYNCED).exists()
