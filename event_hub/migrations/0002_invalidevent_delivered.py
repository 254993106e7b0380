from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("event_hub", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="invalidevent",
            name="delivered",
            field=models.BooleanField(
                default=False,
                db_index=True,
                help_text="Delivered as it came despite the problem (True), or held back (False).",
            ),
        ),
    ]
