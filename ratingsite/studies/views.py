"""A researcher's pages of a study: the list, creating and editing it, its state, inviting raters, its files."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.generic import CreateView, DetailView, ListView, UpdateView, View

from ratingsite.accounts.mixins import MayChangeMixin, ResearcherRequiredMixin, VisibleObjectsMixin
from ratingsite.accounts.models import RATERS, Invitation, RaterProfile, add_to_role, is_researcher
from ratingsite.core.forms import errors_as_message
from ratingsite.imagesets.models import ImageSet
from ratingsite.jobs.models import has_active_job, sync_job_of
from ratingsite.studies import jobs
from ratingsite.studies.blinding import file_size_auc, file_sizes, order_check
from ratingsite.studies.forms import (
    RaterInviteForm,
    StudyForm,
    StudySourceForm,
    StudySourceFormSet,
)
from ratingsite.studies.models import (
    Participation,
    Rating,
    Study,
    StudyItem,
    StudySource,
    rater_label,
    with_attention,
)
from ratingsite.training.models import ExperimentGrid

LEAKAGE_WARNING_DISTANCE = 0.15
# Why a study's settings or files cannot change now.
FILES_BEING_MADE = "The study's files are being made; wait for that job to end."


class StudyList(VisibleObjectsMixin, ListView):
    model = Study
    paginate_by = 50

    def get_queryset(self):
        studies = super().get_queryset()
        if not self.request.GET.get("archived"):
            studies = studies.filter(archived__isnull=True)
        return studies.annotate(
            pool_items=Count("items", filter=Q(items__role=StudyItem.Role.POOL), distinct=True),
            rater_count=Count("participations", distinct=True),
        ).order_by("-created")


# The pool's rows beyond those filled: enough for every set a researcher may choose, and a few at least.
MIN_EMPTY_SOURCE_ROWS = 8
# What "add all sets of this grid" fills in: the reference study's 8 real images and 3 of each grid set.
GRID_REAL_IMAGES, GRID_SET_IMAGES = 8, 3


class StudyFormMixin:
    """The study form with its pool (one row per image set the researcher may choose, and a few more), saved and
    then drawn by a preparation job."""

    model = Study
    form_class = StudyForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("sources", self.sources_formset())
        context["grids"] = ExperimentGrid.visible_to(self.request.user).order_by("-created")
        return context

    def sources_formset(self):
        initial = self.initial_sources()
        extra = max(MIN_EMPTY_SOURCE_ROWS, ImageSet.visible_to(self.request.user).count() + 1, len(initial))
        formset = forms.inlineformset_factory(
            Study, StudySource, form=StudySourceForm, formset=StudySourceFormSet, extra=extra, min_num=0
        )
        return formset(
            self.request.POST or None,
            instance=getattr(self, "object", None) or Study(),
            initial=initial,
            form_kwargs={"user": self.request.user},
        )

    def initial_sources(self):
        """Rows filled from the grid of ``?grid=``: its real set and every set generated from its runs."""
        grid = ExperimentGrid.visible_to(self.request.user).filter(pk=self.request.GET.get("grid") or None).first()
        if grid is None or self.request.method != "GET":
            return []
        generated = ImageSet.objects.filter(generated_from__snapshot__run__grid=grid).order_by("pk")
        return [{"image_set": grid.dataset_id, "count": GRID_REAL_IMAGES}] + [
            {"image_set": image_set.pk, "count": min(GRID_SET_IMAGES, image_set.images.count())}
            for image_set in generated
        ]

    def form_valid(self, form):
        sources = self.sources_formset()
        if sources.is_valid():
            form.check_against_pool(sources)
        if not (sources.is_valid() and form.is_valid()):
            return self.render_to_response(self.get_context_data(form=form, sources=sources))
        with transaction.atomic():
            if form.instance.created_by_id is None:
                form.instance.created_by = self.request.user
            # Until the pool is drawn again, nobody rates what the form no longer says.
            form.instance.file_bytes = None
            study = form.save()
            sources.instance = study
            sources.save()
            Participation.objects.filter(study=study).update(order=[], practised=None)
        jobs.enqueue_preparation(study, created_by=self.request.user)
        return redirect(study)


class StudyCreate(ResearcherRequiredMixin, StudyFormMixin, CreateView):
    def get_initial(self):
        return {
            "instructions": "Look at each image and decide whether it is a real ultrasound image or a synthetic "
            "one made by a computer model, then rate its quality from 1 (very poor) to 5 (excellent)."
        }


class StudyUpdate(MayChangeMixin, StudyFormMixin, UpdateView):
    """The study's settings and pool, until its first rating; saving draws the pool again."""

    def get(self, request, *args, **kwargs):
        return self.refusal() or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        return self.refusal() or super().post(request, *args, **kwargs)

    def refusal(self):
        study = self.get_object()
        if not study.is_editable:
            messages.error(self.request, "The study has ratings (or is archived): its settings and pool stay as rated.")
            return redirect(study)
        if has_active_job(study):
            messages.error(self.request, FILES_BEING_MADE)
            return redirect(study)
        return None


class StudyStateChange(MayChangeMixin, View):
    """POST: close, reopen or archive the study, or delete it while nobody has rated it."""

    model = Study
    action = None

    def post(self, request, pk):
        study = self.checked_object
        now = timezone.now()
        if self.action == "close":
            Study.objects.filter(pk=pk).update(closed=now)
            messages.success(request, "Closed: raters see that the study is not open until you reopen it.")
        elif self.action == "reopen" and study.archived is None:
            Study.objects.filter(pk=pk).update(closed=None)
            messages.success(request, "Reopened to its raters.")
        elif self.action == "archive":
            Study.objects.filter(pk=pk).update(archived=now, closed=study.closed or now)
            messages.success(request, "Archived: closed for good and out of the list; its ratings stay for analysis.")
        elif self.action == "delete":
            if Rating.objects.filter(item__study=study).exists():
                messages.error(request, "The study has ratings, so it is not deleted: archive it instead.")
                return redirect(study)
            files = list(study.items.values_list("file", flat=True))
            study.delete()
            for name in files:
                default_storage.delete(name)
            messages.success(request, f"Deleted the study {study.name}.")
            return redirect("studies:study-list")
        return redirect(study)


class StudyDetail(VisibleObjectsMixin, DetailView):
    model = Study

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        study = self.object
        sync_job_of(study)
        sizes = file_sizes(study)
        roles = study.item_counts()
        items = roles[StudyItem.Role.POOL]
        real = study.items.filter(role=StudyItem.Role.POOL, is_real=True).count()
        auc = file_size_auc(sizes)
        participations = list(study.participations.select_related("rater"))
        has_attention_checks = study.sources.filter(attention_check=True).exists()
        attention = {}
        if has_attention_checks:
            # Imported here: pandas is for this panel, not for every page (the rating page included).
            import pandas as pd

            from evaluation.attention import pass_rates

            answers = (
                with_attention(Rating.objects.filter(item__study=study))
                .exclude(attention_answer=None)
                .values_list("rater_id", "passed_attention")
            )
            frame = pd.DataFrame(list(answers), columns=["rater", "passed"])
            table = pass_rates(frame, [p.rater_id for p in participations])
            attention = {row["rater"]: row for row in table.to_dict("records")}
        context.update(
            items=items,
            repeats=roles[StudyItem.Role.REPEAT],
            practice_items=roles[StudyItem.Role.PRACTICE],
            shown_per_rater=items + roles[StudyItem.Role.REPEAT],
            real_share=real / items if items else None,
            has_attention_checks=has_attention_checks,
            participations=[
                {
                    "participation": p,
                    "pseudonym": rater_label(p.rater_id),
                    "rated": Rating.objects.filter(item__study=study, rater=p.rater).count(),
                    "attention": attention.get(p.rater_id),
                }
                for p in participations
            ],
            file_size_auc=auc,
            leakage_warning=auc is not None and abs(auc - 0.5) > LEAKAGE_WARNING_DISTANCE,
            file_sizes=sorted({size for size, _ in sizes}),
            order_check=order_check(study),
            invite_form=RaterInviteForm(),
        )
        return context


class RaterInvite(MayChangeMixin, View):
    """Create a rater account (or reuse one) with its profile, add it to the study, and give the researcher the
    rater's invitation link (emailed too where the site can send email)."""

    model = Study

    def post(self, request, pk):
        study = self.checked_object
        form = RaterInviteForm(request.POST)
        if not form.is_valid():
            messages.error(request, errors_as_message(form))
            return redirect(study)
        username, email = form.cleaned_data["username"], form.cleaned_data["email"]
        profession, years = form.cleaned_data["profession"], form.cleaned_data["years_of_experience"]
        user_model = get_user_model()
        existing = user_model.objects.filter(username=username).first()
        if existing is not None and is_researcher(existing):
            messages.error(request, f"{username} is a researcher or staff account, which cannot be a rater.")
            return redirect(study)
        with transaction.atomic():
            user, created = user_model.objects.get_or_create(username=username)
            participation = Participation.objects.filter(study=study, rater=user).first()
            if participation is not None:
                years_text = participation.years_of_experience
                messages.info(
                    request,
                    f"{username} is already a rater of this study, as {participation.profession or 'unknown'} "
                    f"with {'unknown' if years_text is None else years_text} years; that stays as it was.",
                )
                return redirect(study)
            if created:
                user.set_unusable_password()
            if email:
                user.email = email
            user.save()
            add_to_role(user, RATERS)
            RaterProfile.objects.update_or_create(
                user=user, defaults={"profession": profession, "years_of_experience": years}
            )
            Participation.objects.create(study=study, rater=user, profession=profession, years_of_experience=years)
        if user.has_usable_password():
            messages.success(request, f"Added the existing account {username} to this study.")
        else:
            messages.success(request, f"Invited {username}. {send_invitation(request, user, study)}")
        return redirect(study)


class RaterLinkReissue(MayChangeMixin, View):
    """A new invitation link for a rater of the study who lost theirs before setting a password (the old link stops
    working). A rater who has set one is not given another: the link would let whoever holds it into their account
    and its ratings; an admin resets a forgotten password."""

    model = Study

    def post(self, request, pk, rater_pk):
        study = self.checked_object
        participation = get_object_or_404(Participation.objects.select_related("rater"), study=study, rater=rater_pk)
        if participation.rater.has_usable_password():
            messages.error(
                request,
                f"{participation.rater.username} has set their password already; an admin can reset a forgotten one.",
            )
            return redirect(study)
        messages.success(
            request,
            f"A new link for {participation.rater.username}. {send_invitation(request, participation.rater, study)}",
        )
        return redirect(study)


def send_invitation(request, user, study):
    """Issue ``user`` a new invitation link, email it where the site can and the user has an address, and say so."""
    link = request.build_absolute_uri(Invitation.issue(user, created_by=request.user))
    days = settings.INVITATION_VALID_DAYS
    if settings.INVITATIONS_BY_EMAIL and user.email:
        send_mail(
            f"Invitation: {study.rater_title}",
            f"You are invited to take part in {study.rater_title}.\n\nSet your password and start here (the link "
            f"works once, for {days} days):\n{link}\n\nYour username is {user.username}.",
            None,
            [user.email],
        )
        return f"Emailed their link to {user.email}; it is also here to copy (it works once, for {days} days): {link}"
    return f"Send them this link to set their password and start (it works once, for {days} days): {link}"


class StudyFilesRewrite(MayChangeMixin, View):
    """Queue the rewriting of a study's files at one size (studies prepared before files were stored
    uncompressed), under the same tokens: items, orders and ratings stay."""

    model = Study

    def post(self, request, pk):
        study = self.checked_object
        if has_active_job(study):
            messages.error(request, FILES_BEING_MADE)
        else:
            jobs.enqueue_rewrite(study, created_by=request.user)
            messages.success(request, "Rewriting the study's files at one size.")
        return redirect(study)
