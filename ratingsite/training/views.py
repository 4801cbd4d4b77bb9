import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import CreateView, DetailView, FormView, ListView, View

from ratingsite.accounts.mixins import MayChangeMixin, ResearcherRequiredMixin, VisibleObjectsMixin
from ratingsite.core.forms import errors_as_message
from ratingsite.core.views import VisibleChoicesMixin
from ratingsite.jobs.models import has_active_job, sync_job_of
from ratingsite.training import grids, jobs
from ratingsite.training.forms import (
    ExperimentGridForm,
    GenerateSetForm,
    TrainingRunForm,
)
from ratingsite.training.models import ExperimentGrid, Snapshot, TrainingRun
from synthesis.plots import plot_history


class TrainingRunList(VisibleObjectsMixin, ListView):
    model = TrainingRun
    paginate_by = 50

    def get_queryset(self):
        return super().get_queryset().select_related("dataset", "job", "grid")


class TrainingRunCreate(ResearcherRequiredMixin, VisibleChoicesMixin, CreateView):
    model = TrainingRun
    form_class = TrainingRunForm

    def form_valid(self, form):
        form.instance.created_by = self.request.user
        run = form.save()
        jobs.enqueue_training(run, created_by=self.request.user)
        return redirect(run)


class TrainingRunDetail(VisibleObjectsMixin, DetailView):
    model = TrainingRun

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = self.object
        sync_job_of(run)
        history = run.history()
        resume_epoch = run.resume_epoch()
        context.update(
            history=history,
            latest=history[-1] if history else None,
            resume_epoch=resume_epoch,
            snapshots=run.snapshots.prefetch_related("generated_sets__image_set"),
            can_resume=not has_active_job(run) and resume_epoch < run.epochs,
            generate_form=GenerateSetForm(initial={"seed": run.seed}),
        )
        return context


class TrainingRunResume(MayChangeMixin, View):
    """Queue a stopped run again; training continues from its last resume checkpoint."""

    model = TrainingRun

    def post(self, request, pk):
        run = self.checked_object
        if has_active_job(run):
            messages.info(request, "This run is already queued or running.")
        else:
            jobs.enqueue_training(run, created_by=request.user)
            messages.success(request, f"Queued again; training goes on from epoch {run.resume_epoch()}.")
        return redirect(run)


class TrainingRunLossCurve(ResearcherRequiredMixin, View):
    def get(self, request, pk):
        history = get_object_or_404(TrainingRun.visible_to(request.user), pk=pk).history()
        if not history:
            raise Http404("No history yet.")
        image = io.BytesIO()
        plot_history(history, image)
        return HttpResponse(image.getvalue(), content_type="image/png")


class SnapshotSampleGrid(ResearcherRequiredMixin, View):
    def get(self, request, pk):
        snapshot = get_object_or_404(Snapshot, pk=pk, run__in=TrainingRun.visible_to(request.user))
        return FileResponse(snapshot.sample_grid.open("rb"), content_type="image/png")


class SnapshotGenerate(MayChangeMixin, View):
    """Generate a set from a snapshot: for those who may change its run."""

    def permission_object(self):
        return get_object_or_404(Snapshot, pk=self.kwargs["pk"], run__in=TrainingRun.visible_to(self.request.user)).run

    def post(self, request, pk):
        snapshot = get_object_or_404(Snapshot, pk=pk)
        form = GenerateSetForm(request.POST)
        if not form.is_valid():
            messages.error(request, errors_as_message(form))
            return redirect(snapshot.run)
        job = jobs.enqueue_generation(snapshot, created_by=request.user, **form.cleaned_data)
        return redirect(job)


class ExperimentGridList(VisibleObjectsMixin, ListView):
    model = ExperimentGrid
    paginate_by = 50


class ExperimentGridCreate(ResearcherRequiredMixin, VisibleChoicesMixin, FormView):
    form_class = ExperimentGridForm
    template_name = "training/experimentgrid_form.html"

    def form_valid(self, form):
        try:
            grid = grids.create_grid(created_by=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
            return self.form_invalid(form)
        return redirect(grid)


class ExperimentGridDetail(VisibleObjectsMixin, DetailView):
    model = ExperimentGrid

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        runs = self.object.runs.select_related("job").prefetch_related("snapshots__generated_sets__image_set")
        for run in runs:
            sync_job_of(run)
            run.sets_by_epoch = {
                snapshot.epoch: [generated.image_set for generated in snapshot.generated_sets.all()]
                for snapshot in run.snapshots.all()
            }
            run.cells = [run.sets_by_epoch.get(epoch, []) for epoch in self.object.snapshot_epochs]
        context["runs"] = runs
        return context
