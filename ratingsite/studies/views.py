import secrets
from collections import Counter

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.generic import CreateView, DetailView, ListView, View

from ratingsite.accounts.mixins import MayChangeMixin, ResearcherRequiredMixin, VisibleObjectsMixin
from ratingsite.accounts.models import RATERS, RaterProfile, add_to_role, is_researcher
from ratingsite.core.forms import errors_as_message
from ratingsite.studies import jobs
from ratingsite.studies.blinding import file_size_auc, file_sizes, order_check
from ratingsite.studies.forms import (
    RaterInviteForm,
    RatingForm,
    StudyForm,
    StudySourceFormSet,
)
from ratingsite.studies.models import (
    Participation,
    PracticeAnswer,
    Rating,
    Showing,
    Study,
    StudyItem,
    with_attention,
)

LEAKAGE_WARNING_DISTANCE = 0.15


class StudyList(VisibleObjectsMixin, ListView):
    model = Study
    paginate_by = 50


class StudyCreate(ResearcherRequiredMixin, CreateView):
    model = Study
    form_class = StudyForm

    def get_initial(self):
        return {
            "instructions": "Look at each image and decide whether it is a real ultrasound image or a synthetic "
            "one made by a computer model, then rate its quality from 1 (very poor) to 5 (excellent)."
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("sources", self.sources_formset())
        return context

    def sources_formset(self):
        return StudySourceFormSet(self.request.POST or None, form_kwargs={"user": self.request.user})

    def form_valid(self, form):
        sources = self.sources_formset()
        if not (sources.is_valid() and form.check_against_pool(sources)):
            return self.render_to_response(self.get_context_data(form=form, sources=sources))
        with transaction.atomic():
            form.instance.created_by = self.request.user
            study = form.save()
            sources.instance = study
            sources.save()
        jobs.enqueue_preparation(study, created_by=self.request.user)
        return redirect(study)


class StudyDetail(VisibleObjectsMixin, DetailView):
    model = Study

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        study = self.object
        if study.job is not None:
            study.job.sync_with_queue()
        sizes = file_sizes(study)
        roles = dict(Counter(study.items.values_list("role", flat=True)))
        items = roles.get(StudyItem.Role.POOL, 0)
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
            repeats=roles.get(StudyItem.Role.REPEAT, 0),
            practice_items=roles.get(StudyItem.Role.PRACTICE, 0),
            shown_per_rater=items + roles.get(StudyItem.Role.REPEAT, 0),
            real_share=real / items if items else None,
            has_attention_checks=has_attention_checks,
            participations=[
                {
                    "participation": p,
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
    """Create a rater account (or reuse one) with its profile, and add it to the study."""

    model = Study

    def post(self, request, pk):
        study = get_object_or_404(Study, pk=pk)
        form = RaterInviteForm(request.POST)
        if not form.is_valid():
            messages.error(request, errors_as_message(form))
            return redirect(study)
        username = form.cleaned_data["username"]
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
                messages.info(
                    request,
                    f"{username} is already a rater of this study, as {participation.profession or 'unknown'} "
                    f"with {participation.years_of_experience} years; that stays as it was.",
                )
                return redirect(study)
            password = None
            if created:
                password = secrets.token_urlsafe(9)
                validate_password(password, user)
                user.set_password(password)
                user.save()
            add_to_role(user, RATERS)
            RaterProfile.objects.update_or_create(
                user=user, defaults={"profession": profession, "years_of_experience": years}
            )
            Participation.objects.create(study=study, rater=user, profession=profession, years_of_experience=years)
        if password:
            messages.success(request, f"Invited {username}. Their password, shown only this once: {password}")
        else:
            messages.success(request, f"Added the existing account {username} to this study.")
        return redirect(study)


class StudyFilesRewrite(MayChangeMixin, View):
    """Queue the rewriting of a study's files at one size (studies prepared before files were stored
    uncompressed), under the same tokens: items, orders and ratings stay."""

    model = Study

    def post(self, request, pk):
        study = get_object_or_404(Study, pk=pk)
        if study.job is not None and study.job.is_active:
            messages.error(request, "The study's files are being made; wait for that job to end.")
        else:
            jobs.enqueue_rewrite(study, created_by=request.user)
            messages.success(request, "Rewriting the study's files at one size.")
        return redirect(study)


def participation_or_404(request, study_pk):
    return get_object_or_404(
        Participation.objects.select_related("study", "rater"), study_id=study_pk, rater=request.user
    )


class OpenParticipationMixin:
    """The request's rater's participation in the URL's study (404 for anyone else), while the study is open
    (else the closed page); with ``consent_required``, a rater who has not consented goes to the start page."""

    consent_required = False

    def dispatch(self, request, pk):
        self.participation = participation_or_404(request, pk)
        self.study = self.participation.study
        if not self.study.is_open:
            # While its files are not made, or not all of one size: the same page whatever the reason.
            return render(request, "studies/study_closed.html", {"study": self.study}, status=409)
        if self.consent_required and self.participation.consented is None:
            return redirect("studies:study-start", pk=pk)
        return super().dispatch(request, pk)


class StudyStart(OpenParticipationMixin, View):
    """The rater's consent and instructions page."""

    def get(self, request, pk):
        roles = Counter(self.study.items.values_list("role", flat=True))
        context = {
            "study": self.study,
            "participation": self.participation,
            "practice_images": roles[StudyItem.Role.PRACTICE],
            "study_images": roles[StudyItem.Role.POOL] + roles[StudyItem.Role.REPEAT],
        }
        return render(request, "studies/study_start.html", context)

    def post(self, request, pk):
        participation = self.participation
        if participation.consented is None:
            Participation.objects.filter(pk=participation.pk, consented__isnull=True).update(consented=timezone.now())
        # The rater's order is drawn once, here, so that the first rating page costs no more than the rest.
        participation.item_order()
        return redirect("studies:study-rate", pk=pk)


class RatingPageMixin:
    """The page one image is answered on, for the study and for its practice round alike."""

    def _render(self, request, item, form, *, done, total, previous=None, practice=False, status=200):
        context = {
            "study": self.study,
            "item": item,
            "form": form,
            "done": done,
            "total": total,
            "percent": round(100 * done / total) if total else 0,
            "previous": previous,
            "practice": practice,
        }
        return render(request, "studies/study_rate.html", context, status=status)


def answers_of(form, study):
    """The answers of a valid `RatingForm`; the viewing time no longer than the study's exposure, since after it
    the rater saw the mask."""
    answers = {name: form.cleaned_data.get(name) for name in ("answer", "quality", "confidence")}
    viewing_ms = form.cleaned_data.get("viewing_ms")
    if study.exposure_ms is not None and viewing_ms is not None:
        viewing_ms = min(viewing_ms, study.exposure_ms)
    return answers, viewing_ms


class StudyPractice(OpenParticipationMixin, RatingPageMixin, View):
    """The practice round: each practice image answered like a study image, then its truth and the source's
    note; the answers are kept apart (`PracticeAnswer`) and never analysed."""

    consent_required = True

    def get(self, request, pk):
        order = self.study.practice_order_for(request.user)
        answers = {
            answer.item_id: answer
            for answer in PracticeAnswer.objects.filter(item__study=self.study, rater=request.user).select_related(
                "item"
            )
        }
        if "answered" in request.GET:
            return self.feedback(request, request.GET["answered"], answers, total=len(order))
        item_pk = next((item_pk for item_pk in order if item_pk not in answers), None)
        if item_pk is None:
            Participation.objects.filter(pk=self.participation.pk, practised__isnull=True).update(
                practised=timezone.now()
            )
            return redirect("studies:study-rate", pk=pk)
        item = StudyItem.objects.get(pk=item_pk)
        form = RatingForm(study=self.study, initial={"token": item.token})
        return self._render(request, item, form, done=len(answers), total=len(order), practice=True)

    def feedback(self, request, token, answers, total):
        answer = next((answer for answer in answers.values() if answer.item.token == token), None)
        if answer is None:
            raise Http404("You have not answered this practice image.")
        source = self.study.sources.filter(image_set=answer.item.image.image_set_id, practice=True).first()
        context = {
            "study": self.study,
            "answer": answer,
            "truth": Rating.Answer.REAL if answer.item.is_real else Rating.Answer.SYNTHETIC,
            "note": source.note if source else "",
            "done": len(answers),
            "total": total,
        }
        return render(request, "studies/practice_feedback.html", context)

    def post(self, request, pk):
        form = RatingForm(request.POST, study=self.study)
        item = StudyItem.objects.filter(
            study=self.study, role=StudyItem.Role.PRACTICE, token=request.POST.get("token", "")
        ).first()
        if item is None:
            raise Http404("No such practice image in this study.")
        if not form.is_valid():
            done = PracticeAnswer.objects.filter(item__study=self.study, rater=request.user).count()
            total = self.study.items.filter(role=StudyItem.Role.PRACTICE).count()
            return self._render(request, item, form, done=done, total=total, practice=True, status=400)
        answers, _ = answers_of(form, self.study)
        PracticeAnswer.objects.get_or_create(item=item, rater=request.user, defaults=answers)
        return redirect(f"{reverse('studies:study-practice', args=[pk])}?answered={item.token}")


class StudyRate(OpenParticipationMixin, RatingPageMixin, View):
    """One image at a time, in the rater's own order, after the practice round if the study has one; answers are
    final unless the study allows changes."""

    consent_required = True

    def get(self, request, pk):
        if self.participation.practised is None:
            if self.study.items.filter(role=StudyItem.Role.PRACTICE).exists():
                return redirect("studies:study-practice", pk=pk)
            Participation.objects.filter(pk=self.participation.pk).update(practised=timezone.now())
        order = self.participation.item_order()
        rated = set(Rating.objects.filter(item__study=self.study, rater=request.user).values_list("item_id", flat=True))
        if self.study.allow_changes and "token" in request.GET:
            return self.revisit(request, request.GET["token"], order, rated)
        item_pk = next((item_pk for item_pk in order if item_pk not in rated), None)
        if item_pk is None:
            Participation.objects.filter(pk=self.participation.pk, finished__isnull=True).update(
                finished=timezone.now()
            )
            return render(
                request, "studies/study_done.html", {"study": self.study, "previous": self.previous(order, rated)}
            )
        item = StudyItem.objects.get(pk=item_pk)
        # One INSERT .. ON CONFLICT DO NOTHING: the first showing's time stays, a reload changes nothing.
        Showing.objects.bulk_create([Showing(item=item, rater=request.user)], ignore_conflicts=True)
        form = RatingForm(study=self.study, initial={"token": item.token})
        return self._render(
            request, item, form, done=len(rated), total=len(order), previous=self.previous(order, rated, item_pk)
        )

    def revisit(self, request, token, order, rated):
        """An image this rater already rated, with their answers filled in, to change them."""
        rating = (
            Rating.objects.filter(item__study=self.study, item__token=token, rater=request.user)
            .select_related("item")
            .first()
        )
        if rating is None:
            raise Http404("You have not rated this image yet.")
        initial = {name: getattr(rating, name) for name in ("answer", "quality", "confidence", "comment")}
        form = RatingForm(study=self.study, initial={**initial, "token": token})
        previous = self.previous(order, rated, rating.item_id)
        return self._render(request, rating.item, form, done=len(rated), total=len(order), previous=previous)

    def previous(self, order, rated, item_pk=None):
        """The token of the rated image before ``item_pk`` (None: the last one) in this rater's order, if changes
        are allowed; None otherwise."""
        if not self.study.allow_changes:
            return None
        before = order[: order.index(item_pk)] if item_pk is not None else order
        earlier = [pk for pk in before if pk in rated]
        return StudyItem.objects.get(pk=earlier[-1]).token if earlier else None

    def post(self, request, pk):
        form = RatingForm(request.POST, study=self.study)
        item = (
            StudyItem.objects.filter(study=self.study, token=request.POST.get("token", ""))
            .exclude(role=StudyItem.Role.PRACTICE)
            .first()
        )
        if item is None:
            raise Http404("No such image in this study.")
        if not form.is_valid():
            total = len(self.participation.item_order())
            done = Rating.objects.filter(item__study=self.study, rater=request.user).count()
            return self._render(request, item, form, done=done, total=total, status=400)
        answers, viewing_ms = answers_of(form, self.study)
        answers.update(viewing_ms=viewing_ms, comment=form.cleaned_data.get("comment") or "")
        with transaction.atomic():
            shown = Showing.objects.filter(item=item, rater=request.user).values_list("shown", flat=True).first()
            rating, created = Rating.objects.get_or_create(
                item=item, rater=request.user, defaults={**answers, "shown": shown or timezone.now()}
            )
            if not created and self.study.allow_changes:
                for name, value in answers.items():
                    setattr(rating, name, value)
                rating.revisions += 1
                rating.save()
        return redirect("studies:study-rate", pk=pk)


class StudyItemImage(View):
    """A study image by its token, with the same headers for every image of every kind."""

    def get(self, request, token):
        item = get_object_or_404(StudyItem.objects.select_related("study"), token=token)
        # Raters ask for images far more often than researchers do, so their check comes first.
        rater = Participation.objects.filter(study=item.study, rater=request.user).exists()
        researcher = not rater and is_researcher(request.user) and item.study.may_change(request.user)
        if not (rater and item.study.is_open or researcher):
            raise Http404("No such image.")
        with item.file.open("rb") as file:
            response = HttpResponse(file.read(), content_type="image/png")
        response["Cache-Control"] = "private, no-store"
        return response
