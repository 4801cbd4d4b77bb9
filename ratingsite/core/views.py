from django.views.generic import TemplateView

from ratingsite.accounts.models import is_researcher
from ratingsite.imagesets.models import ImageSet
from ratingsite.jobs.models import Job


class Home(TemplateView):
    template_name = "core/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["participations"] = self.request.user.participations.select_related("study")
        if is_researcher(self.request.user):
            context["image_sets"] = ImageSet.objects.all()[:10]
            context["active_jobs"] = Job.objects.filter(status__in=Job.ACTIVE_STATUSES)[:10]
        return context
