from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import DetailView, ListView, View

from ratingsite.accounts.mixins import ResearcherRequiredMixin
from ratingsite.jobs.models import Job, with_outputs


class JobList(ResearcherRequiredMixin, ListView):
    model = Job
    paginate_by = 50

    def get_queryset(self):
        jobs = Job.visible_to(self.request.user)
        for job in jobs.filter(status__in=Job.ACTIVE_STATUSES):
            job.sync_with_queue()
        return jobs.select_related("created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object_list"] = context["job_list"] = with_outputs(context["object_list"])
        context["any_active"] = any(job.is_active for job in context["object_list"])
        return context


class JobDetail(ResearcherRequiredMixin, DetailView):
    model = Job

    def get_queryset(self):
        return Job.visible_to(self.request.user)

    def get_object(self, queryset=None):
        job = super().get_object(queryset)
        job.sync_with_queue()
        return with_outputs([job])[0]


class JobCancel(ResearcherRequiredMixin, View):
    """Whoever queued the job, or staff, may cancel it."""

    def test_func(self):
        if not super().test_func():
            return False
        job = get_object_or_404(Job, pk=self.kwargs["pk"])
        return self.request.user.is_staff or job.created_by_id == self.request.user.pk

    def post(self, request, pk):
        job = get_object_or_404(Job, pk=pk)
        if job.cancel():
            messages.success(request, f"Job #{job.pk} cancelled.")
        else:
            messages.info(request, f"Job #{job.pk} had already {job.status}.")
        return redirect(job)
