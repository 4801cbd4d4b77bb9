from django.db import migrations, models


def title_as_before(apps, schema_editor):
    """Raters of a study made before it had a title of their own saw its name: they keep seeing that."""
    Study = apps.get_model("studies", "Study")
    Study.objects.update(rater_title=models.F("name"))


class Migration(migrations.Migration):
    dependencies = [("studies", "0008_protocol_options")]

    operations = [
        migrations.AddField(
            model_name="study",
            name="rater_title",
            field=models.CharField(
                default="",
                help_text="The study's name as raters see it (say nothing of what is compared).",
                max_length=200,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(title_as_before, migrations.RunPython.noop),
        migrations.AddField(
            model_name="study",
            name="information",
            field=models.TextField(
                blank=True,
                help_text="Shown to raters above the consent button (Markdown): who runs the study, what taking "
                "part means, how to withdraw, whom to contact.",
            ),
        ),
        migrations.AlterField(
            model_name="study",
            name="name",
            field=models.CharField(
                help_text="The study's name among researchers; raters never see it.", max_length=200
            ),
        ),
    ]
