"""Stored files go with their rows: deleting a set (in the admin, say) removes its files too."""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from ratingsite.imagesets.models import Annotation, DerivedImage, Image


@receiver(post_delete, sender=Image)
@receiver(post_delete, sender=DerivedImage)
@receiver(post_delete, sender=Annotation)
def delete_stored_file(sender, instance, **kwargs):
    if instance.file:
        instance.file.storage.delete(instance.file.name)
