"""Filters of the log list that Shuup's picotable does not have: whole days, a contact, an order."""
from datetime import datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone
from shuup.admin.utils.picotable import DateRangeFilter, TextFilter
from shuup.core.models import Contact, Order
from shuup.utils.dates import try_parse_datetime


class WholeDaysFilter(DateRangeFilter):
    """Shuup's date range, with the last day included: "to Monday" means until Monday ends."""

    def filter_queryset(self, queryset, column, value, context):
        value = value or {}
        first, last = try_parse_datetime(value.get("min")), try_parse_datetime(value.get("max"))
        if first:
            queryset = queryset.filter(created_on__gte=timezone.make_aware(datetime.combine(first.date(), time.min)))
        if last:
            queryset = queryset.filter(created_on__lt=timezone.make_aware(
                datetime.combine(last.date() + timedelta(days=1), time.min)))
        return queryset


class ContactFilter(TextFilter):
    """Entries of the contacts whose name or e-mail holds the text, or of the contact with that id."""

    def filter_queryset(self, queryset, column, value, context):
        value = (value or "").strip()
        if not value:
            return queryset
        contacts = Contact.objects.filter(Q(name__icontains=value) | Q(email__icontains=value))
        if value.isdigit():
            contacts = Contact.objects.filter(Q(pk=int(value)) | Q(pk__in=contacts.values("pk")))
        return queryset.filter(contact_id__in=contacts.values("pk"))


class OrderFilter(TextFilter):
    """Entries of the order with this number (its identifier) or id."""

    def filter_queryset(self, queryset, column, value, context):
        value = (value or "").strip()
        if not value:
            return queryset
        orders = Order.objects.filter(identifier=value)
        if value.isdigit():
            orders = Order.objects.filter(Q(pk=int(value)) | Q(pk__in=orders.values("pk")))
        return queryset.filter(order_id__in=orders.values("pk"))
