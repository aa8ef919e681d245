"""What a shop owner sets up before the first sale: a tax, a shipping and a payment method, and a
product with a price and a picture. Created once, found again on every later start."""
import io
from decimal import Decimal

PRODUCT_SKU = "chimp-mug"


def ensure_storefront(shop):
    """Make the default shop able to take an order through its storefront; return the product."""
    from shuup.core.models import Product

    tax_class = ensure_tax(shop)
    ensure_services(shop, tax_class)
    product = Product.objects.filter(sku=PRODUCT_SKU).first()
    return product or create_product(shop, tax_class)


def ensure_tax(shop):
    from shuup.core.models import Tax, TaxClass
    from shuup.default_tax.models import TaxRule

    tax_class = TaxClass.objects.filter(identifier="standard").first()
    if tax_class is None:
        tax_class = TaxClass.objects.create(identifier="standard", name="Standard rate")
        tax = Tax.objects.create(code="vat-24", name="VAT 24%", rate=Decimal("0.24"))
        rule = TaxRule.objects.create(tax=tax)  # no country or postal code: everywhere
        rule.tax_classes.add(tax_class)
    return tax_class


def ensure_services(shop, tax_class):
    from shuup.core.models import CustomCarrier, CustomPaymentProcessor, FixedCostBehaviorComponent

    if not CustomCarrier.objects.filter(identifier="demo-post").exists():
        carrier = CustomCarrier.objects.create(identifier="demo-post", name="Demo Post")
        shipping = carrier.create_service(
            None, identifier="standard-delivery", shop=shop, enabled=True, name="Standard delivery",
            tax_class=tax_class,
        )
        shipping.behavior_components.add(FixedCostBehaviorComponent.objects.create(price_value=Decimal("4.90")))
    if not CustomPaymentProcessor.objects.filter(identifier="demo-invoice").exists():
        processor = CustomPaymentProcessor.objects.create(identifier="demo-invoice", name="Invoice")
        processor.create_service(
            "manual", identifier="invoice", shop=shop, enabled=True, name="Invoice (pay within 14 days)",
            tax_class=tax_class,
        )


def create_product(shop, tax_class):
    from shuup.core.models import (
        Product,
        ProductMedia,
        ProductMediaKind,
        ProductType,
        SalesUnit,
        ShopProduct,
        ShopProductVisibility,
        Supplier,
    )
    from shuup.utils.filer import filer_image_from_data

    product = Product.objects.create(
        sku=PRODUCT_SKU, name="Chimp mug", type=ProductType.objects.get(identifier="default"),
        sales_unit=SalesUnit.objects.get(identifier="pcs"), tax_class=tax_class,
        description="A mug for the demo shop. Order one: the order reaches the Mailchimp emulator.",
    )
    shop_product = ShopProduct.objects.create(
        product=product, shop=shop, default_price_value=Decimal("12.00"),
        visibility=ShopProductVisibility.ALWAYS_VISIBLE,
    )
    shop_product.suppliers.add(Supplier.objects.get(identifier="default"))
    image = filer_image_from_data(None, "Products", "chimp-mug.png", mug_picture())
    media = ProductMedia.objects.create(
        product=product, kind=ProductMediaKind.IMAGE, file=image, enabled=True, public=True)
    media.shops.add(shop)
    product.primary_image = media
    product.save()
    shop_product.shop_primary_image = media
    shop_product.save()
    return product


def mug_picture():
    """A small PNG of a mug, drawn here so the demo needs no image file."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (320, 320), (255, 224, 102))
    draw = ImageDraw.Draw(picture)
    draw.rounded_rectangle((80, 90, 220, 260), radius=18, fill=(36, 28, 21))
    draw.ellipse((190, 130, 270, 220), outline=(36, 28, 21), width=18)
    draw.rectangle((96, 106, 204, 130), fill=(0, 124, 137))
    output = io.BytesIO()
    picture.save(output, format="PNG")
    return output.getvalue()
