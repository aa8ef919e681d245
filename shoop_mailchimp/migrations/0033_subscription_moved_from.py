"""The address a contact's subscription was moved from under double opt-in (to an address nobody proved): a change
back to it brings the member back subscribed."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('shoop_mailchimp', '0032_idna_address_keys'),
    ]

    operations = [
        migrations.AddField(
            model_name='syncstate',
            name='subscription_moved_from',
            field=models.CharField(blank=True, help_text="Under double opt-in, the address whose subscribed member a change of the contact's address moved to an address nobody proved (its owner asked to confirm): a change back to it (a typo corrected) brings the member back subscribed. Cleared when the consent changes.", max_length=254, verbose_name='subscription moved from'),
        ),
    ]
