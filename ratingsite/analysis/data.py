"""The frames `evaluation.analysis` works on, read from the database: ratings, set metrics, image metrics;
and the answers to attention checks and the second showings of repeated images, which are kept out of all of
them (only an image's first showing counts)."""

import pandas as pd
from django.db.models import Count

from evaluation.analysis import BOOKKEEPING_IMAGE_VALUES, BOOKKEEPING_SET_VALUES, COUNTED_SET_VALUES
from evaluation.lbp import lbp_histograms
from ratingsite.imagesets.models import ImageSet
from ratingsite.metrics.loading import load_derived
from ratingsite.metrics.models import Evaluation, ImageScore, decode_number
from ratingsite.studies.models import Participation, Rating, StudyItem, rater_label, with_attention

# Rater groups the analysis can be restricted to: label and the professions it takes (None: everyone).
RATER_GROUPS = {
    "all": ("All raters", None),
    "clinicians": ("Clinicians only", ("clinician",)),
    "clinical": ("Clinicians and sonographers", ("clinician", "sonographer")),
    "engineers": ("Engineers", ("engineer",)),
}
RATINGS_EXPORT_COLUMNS = [
    "study",
    "rater",
    "profession",
    "years_of_experience",
    "item",
    "image",
    "image_sha256",
    "set",
    "set_id",
    "set_kind",
    "model",
    "train_images",
    "epoch",
    "lr",
    "truth",
    "answer",
    "quality",
    "confidence",
    "comment",
    "server_seconds",
    "viewing_ms",
    "revisions",
    "shown",
    "submitted",
]
# Profession and years of a rater whose participation is not found.
UNKNOWN_RATER = ("unknown", None)
ATTENTION_COLUMNS = ["study", "rater", "profession", "item", "image", "set", "truth", "expected", "answer", "passed"]
REPEAT_COLUMNS = [
    "study",
    "rater",
    "profession",
    "image",
    "set",
    "truth",
    "answer_first",
    "answer_second",
    "quality_first",
    "quality_second",
    "revisions_first",
    "revisions_second",
]


def set_labels(image_sets):
    """``{set id: label}``: the set's name, with its id added where two rated sets share a name."""
    names = [image_set.name for image_set in image_sets]
    return {
        image_set.pk: image_set.name if names.count(image_set.name) == 1 else f"{image_set.name} (#{image_set.pk})"
        for image_set in image_sets
    }


def rated_sets(ratings):
    """The image sets of the items of ``ratings``, each once, in the order of their ids."""
    image_sets = {rating.item.image.image_set_id: rating.item.image.image_set for rating in ratings}
    return [image_sets[pk] for pk in sorted(image_sets)]


def set_settings(image_set):
    """Model and training settings of a synthetic set: from its training run, or an upload's provenance."""
    generated = getattr(image_set, "generated_from", None) if image_set.kind == "synthetic" else None
    if generated is not None:
        run = generated.snapshot.run
        return {
            "model": run.architecture,
            "train_images": run.train_images,
            "epoch": generated.snapshot.epoch,
            "lr": run.lr,
        }
    provenance = image_set.provenance or {}
    return {"model": provenance.get("model"), "train_images": None, "epoch": provenance.get("epoch"), "lr": None}


def group_ratings(studies, rater_group, attention, role=StudyItem.Role.POOL):
    """The ratings of ``studies`` by the raters of ``rater_group`` of items of ``role``, those of attention-check
    items or those of every other item (each annotated by `with_attention`), and ``{(study id, rater id):
    (profession, years)}``."""
    ratings = (
        with_attention(Rating.objects.filter(item__study__in=studies, item__role=role))
        .filter(attention_answer__isnull=not attention)
        .select_related(
            "item__study",
            "item__image__image_set__generated_from__snapshot__run",
        )
        .order_by("item__study_id", "rater_id", "item_id")
    )
    # Profession and years as they were when the rater joined each study, not as their profile says today.
    rater_facts = {
        (study_id, rater_id): (profession or "unknown", years)
        for study_id, rater_id, profession, years in Participation.objects.filter(study__in=studies).values_list(
            "study_id", "rater_id", "profession", "years_of_experience"
        )
    }
    professions = RATER_GROUPS[rater_group][1]
    ratings = [
        rating
        for rating in ratings
        if professions is None
        or rater_facts.get((rating.item.study_id, rating.rater_id), UNKNOWN_RATER)[0] in professions
    ]
    return ratings, rater_facts


def ratings_frame(studies, rater_group="all"):
    """Every rating of ``studies`` by the raters of ``rater_group``, one row each (``RATINGS_EXPORT_COLUMNS``),
    but those of attention-check items (`attention_frame`): every statistic of the study reads this frame."""
    ratings, rater_facts = group_ratings(studies, rater_group, attention=False)
    image_sets = rated_sets(ratings)
    labels = set_labels(image_sets)
    settings = {image_set.pk: set_settings(image_set) for image_set in image_sets}
    rows = []
    for rating in ratings:
        image = rating.item.image
        rows.append(
            {
                **who_saw_what(rating, labels, rater_facts),
                "years_of_experience": rater_facts.get((rating.item.study_id, rating.rater_id), UNKNOWN_RATER)[1],
                "item": rating.item_id,
                "image_sha256": image.sha256,
                "set_id": image.image_set_id,
                "set_kind": image.image_set.kind,
                **settings[image.image_set_id],
                "answer": rating.answer,
                "quality": rating.quality,
                "confidence": rating.confidence,
                "comment": rating.comment,
                "server_seconds": rating.server_seconds,
                "viewing_ms": rating.viewing_ms,
                "revisions": rating.revisions,
                "shown": rating.shown.isoformat(),
                "submitted": rating.submitted.isoformat(),
            }
        )
    frame = pd.DataFrame(rows, columns=RATINGS_EXPORT_COLUMNS)
    for column in ("years_of_experience", "train_images", "epoch", "confidence", "viewing_ms"):
        frame[column] = frame[column].astype("Int64")
    frame["lr"] = frame["lr"].astype(float)
    return frame


def who_saw_what(rating, labels, rater_facts):
    """The study, rater (pseudonym and profession), image, its set's label and its truth of ``rating``."""
    return {
        "study": rating.item.study.name,
        "rater": rater_label(rating.rater_id),
        "profession": rater_facts.get((rating.item.study_id, rating.rater_id), UNKNOWN_RATER)[0],
        "image": rating.item.image_id,
        "set": labels[rating.item.image.image_set_id],
        "truth": "real" if rating.item.is_real else "synthetic",
    }


def attention_frame(studies, rater_group="all"):
    """Every answer of the raters of ``rater_group`` to an attention-check item of ``studies`` (``ATTENTION_COLUMNS``):
    the answer expected, the answer given and whether they agree."""
    ratings, rater_facts = group_ratings(studies, rater_group, attention=True)
    labels = set_labels(rated_sets(ratings))
    rows = [
        {
            **who_saw_what(rating, labels, rater_facts),
            "item": rating.item_id,
            "expected": rating.attention_answer,
            "answer": rating.answer,
            "passed": rating.passed_attention,
        }
        for rating in ratings
    ]
    return pd.DataFrame(rows, columns=ATTENTION_COLUMNS)


def repeat_frame(studies, rater_group="all"):
    """One row per rater and repeated image of ``studies`` they rated both times (``REPEAT_COLUMNS``): the answer
    and quality of the first showing and of the second."""
    seconds, rater_facts = group_ratings(studies, rater_group, attention=False, role=StudyItem.Role.REPEAT)
    firsts = {
        (rating.item_id, rating.rater_id): rating
        for rating in Rating.objects.filter(
            item__in=[rating.item.repeat_of_id for rating in seconds], rater__in={rating.rater_id for rating in seconds}
        )
    }
    labels = set_labels(rated_sets(seconds))
    rows = []
    for second in seconds:
        first = firsts.get((second.item.repeat_of_id, second.rater_id))
        if first is None:
            continue
        rows.append(
            {
                **who_saw_what(second, labels, rater_facts),
                "answer_first": first.answer,
                "answer_second": second.answer,
                "quality_first": first.quality,
                "quality_second": second.quality,
                "revisions_first": first.revisions,
                "revisions_second": second.revisions,
            }
        )
    return pd.DataFrame(rows, columns=REPEAT_COLUMNS)


def chosen_evaluations(studies):
    """``{synthetic set id: Evaluation}`` used for the rated synthetic sets of ``studies`` (in this order).

    A set may be scored against several real sets and at both resolutions. The one used is a finished
    evaluation (one whose job has written its values) at the resolution of the first study that shows the
    set, against a real set of that study's pool when there is one, else the latest; so every set of one
    study is compared with the same reference.
    """
    chosen = {}
    for study in studies:
        # Attention-check and practice sources are no part of the compared pool.
        pool = study.sources.filter(attention_check=False, practice=False)
        real_sets = set(pool.filter(image_set__kind="real").values_list("image_set_id", flat=True))
        synthetic_sets = pool.filter(image_set__kind="synthetic").values_list("image_set_id", flat=True)
        evaluations = (
            Evaluation.objects.filter(synthetic_set__in=synthetic_sets, size=study.resolution)
            .exclude(values={})
            .exclude(synthetic_set__in=list(chosen))
            .select_related("synthetic_set")
            .order_by("-created")
        )
        found = {}
        for evaluation in evaluations:
            current = found.get(evaluation.synthetic_set_id)
            if current is None or (evaluation.reference_set_id in real_sets) > (current.reference_set_id in real_sets):
                found[evaluation.synthetic_set_id] = evaluation
        chosen.update(found)
    return chosen


def set_metrics_frame(evaluations, labels):
    """One row per evaluated set: ``set`` and every set-level value as ``metric:value`` (the LBP vector in full).

    Counts of flagged images become shares of the set, since sets of different sizes are compared.
    """
    sizes = dict(
        ImageSet.objects.filter(pk__in=list(evaluations)).annotate(size=Count("images")).values_list("pk", "size")
    )
    rows = []
    for set_id, evaluation in evaluations.items():
        row = {"set": labels[set_id]}
        for metric, values in evaluation.values.items():
            for name, value in values.items():
                if (metric, name) in BOOKKEEPING_SET_VALUES or (metric == "lbp" and name.startswith("V")):
                    continue
                if (metric, name) in COUNTED_SET_VALUES:
                    row[f"{metric}:{name}_share"] = decode_number(value) / sizes[set_id]
                    continue
                row[name if name == metric else f"{metric}:{name}"] = decode_number(value)
        for element in evaluation.tables.get("lbp_vector", []):
            row[f"lbp:{element['element']}"] = element["difference_percent"]
        rows.append(row)
    return pd.DataFrame(rows)


def image_metrics_frame(evaluations, images):
    """One row per rated synthetic image: ``image`` (its id), its per-image values and its own LBP vector.

    The per-image LBP element ``lbp:V{k}`` is rLBPv_k minus the image's own histogram, so that its mean
    over a set is the set's ``V_k``.
    """
    rows = []
    by_evaluation = {}
    for image in images:
        evaluation = evaluations.get(image.image_set_id)
        if evaluation is not None:
            by_evaluation.setdefault(evaluation, []).append(image)
    for evaluation, images_of_set in by_evaluation.items():
        scores = dict(
            ImageScore.objects.filter(evaluation=evaluation, image__in=images_of_set).values_list("image_id", "values")
        )
        real_mean = [element["rLBPv_percent"] for element in evaluation.tables.get("lbp_vector", [])]
        histograms = {}
        if real_mean:
            loaded = load_derived(
                [image.pk for image in images_of_set], evaluation.size, evaluation.synthetic_set.resize_mode
            )
            histograms = dict(zip(map(int, loaded.names), lbp_histograms(loaded.pixels), strict=True))
        for image in images_of_set:
            if image.pk not in scores:
                continue
            row = {"image": image.pk}
            row.update(
                {
                    column: decode_number(value)
                    for column, value in scores[image.pk].items()
                    if column not in BOOKKEEPING_IMAGE_VALUES
                }
            )
            if image.pk in histograms:
                row.update(
                    {f"lbp:V{code}": real_mean[code] - histograms[image.pk][code] for code in range(len(real_mean))}
                )
            rows.append(row)
    return pd.DataFrame(rows)
