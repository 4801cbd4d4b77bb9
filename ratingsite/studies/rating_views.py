"""The pages a rater uses: consent, the practice round, rating one image at a time, and the image itself.

Everything a rater can observe comes from here, so these pages treat every item alike whatever its kind
(the blinding tests read the study through them).
"""

from datetime import timedelta

from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.generic import View

from ratingsite.accounts.models import is_researcher
from ratingsite.studies.forms import RatingForm
from ratingsite.studies.models import Participation, PracticeAnswer, Rating, Showing, StudyItem


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
        roles = self.study.item_counts()
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

    def _render(self, request, item, form, *, done, total, previous=None, practice=False, masked=False, status=200):
        """``masked``: the exposure of a timed study is over, so the page shows the mask alone."""
        context = {
            "study": self.study,
            "item": item,
            "masked": masked,
            "form": form,
            "done": done,
            "total": total,
            "percent": round(100 * done / total) if total else 0,
            "previous": previous,
            "practice": practice,
        }
        return render(request, "studies/study_rate.html", context, status=status)


# How long after the rating page first showed an image of a timed study its file may still be fetched: the
# browser asks for it as it reads the page, and a slow connection may take a while.
EXPOSURE_GRACE = timedelta(seconds=10)


def first_shown(item, rater):
    return Showing.objects.filter(item=item, rater=rater).values_list("shown", flat=True).first()


def exposure_over(study, shown):
    """Whether the exposure of an image of a timed ``study`` first shown at ``shown`` (None: not yet) is over, with
    `EXPOSURE_GRACE`. Once it is, a reload, a second tab or the image's address show nothing: the exposure is the
    study's, not the rater's to repeat."""
    return shown is not None and timezone.now() - shown >= timedelta(milliseconds=study.exposure_ms) + EXPOSURE_GRACE


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

    def practice_pending(self):
        """Whether the rater has a practice round still to do; a study without one marks it done at once, so that
        the check costs nothing on every later page."""
        if self.participation.practised is not None:
            return False
        if self.study.items.filter(role=StudyItem.Role.PRACTICE).exists():
            return True
        Participation.objects.filter(pk=self.participation.pk).update(practised=timezone.now())
        return False

    def get(self, request, pk):
        if self.practice_pending():
            return redirect("studies:study-practice", pk=pk)
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
        masked = self.study.exposure_ms is not None and exposure_over(self.study, first_shown(item, request.user))
        # One INSERT .. ON CONFLICT DO NOTHING: the first showing's time stays, a reload changes nothing.
        Showing.objects.bulk_create([Showing(item=item, rater=request.user)], ignore_conflicts=True)
        form = RatingForm(study=self.study, initial={"token": item.token})
        return self._render(
            request,
            item,
            form,
            done=len(rated),
            total=len(order),
            previous=self.previous(order, rated, item_pk),
            masked=masked,
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
        masked = self.study.exposure_ms is not None
        return self._render(
            request, rating.item, form, done=len(rated), total=len(order), previous=previous, masked=masked
        )

    def previous(self, order, rated, item_pk=None):
        """The token of the rated image before ``item_pk`` (None: the last one) in this rater's order, if changes
        are allowed; None otherwise."""
        if not self.study.allow_changes:
            return None
        before = order[: order.index(item_pk)] if item_pk is not None else order
        earlier = [pk for pk in before if pk in rated]
        return StudyItem.objects.get(pk=earlier[-1]).token if earlier else None

    def post(self, request, pk):
        if self.practice_pending():
            return redirect("studies:study-practice", pk=pk)
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
            masked = self.study.exposure_ms is not None
            return self._render(request, item, form, done=done, total=total, masked=masked, status=400)
        answers, viewing_ms = answers_of(form, self.study)
        answers.update(viewing_ms=viewing_ms, comment=form.cleaned_data.get("comment") or "")
        with transaction.atomic():
            shown = first_shown(item, request.user)
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
        if rater and item.study.exposure_ms is not None and item.role != StudyItem.Role.PRACTICE:
            shown = first_shown(item, request.user)
            if shown is None or exposure_over(item.study, shown):
                raise Http404("No such image.")
        with item.file.open("rb") as file:
            response = HttpResponse(file.read(), content_type="image/png")
        response["Cache-Control"] = "private, no-store"
        return response
