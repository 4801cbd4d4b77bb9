import factory
from django.contrib.auth import get_user_model

from ratingsite.accounts.models import RATERS, RESEARCHERS, add_to_role
from ratingsite.imagesets.models import ImageSet
from ratingsite.jobs.models import Job

PASSWORD = "a-long-test-password"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(self, create, extracted, **kwargs):
        if create:
            self.save()


class ResearcherFactory(UserFactory):
    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            add_to_role(self, RESEARCHERS)


class RaterFactory(UserFactory):
    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            add_to_role(self, RATERS)


class ImageSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImageSet

    name = factory.Sequence(lambda n: f"set {n}")
    kind = ImageSet.Kind.REAL


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    kind = "test job"
