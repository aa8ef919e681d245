from django.db import migrations


class Migration(migrations.Migration):
    """Audience data (merge fields, language, tags): filled in by that work."""

    dependencies = [
        ('shoop_mailchimp', '0009_bursts'),
    ]

    operations = []
