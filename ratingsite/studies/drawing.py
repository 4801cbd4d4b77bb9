"""Drawing a study's images: its pool and practice round from its sources, and the second showings of repeats."""

import random

from ratingsite.imagesets.models import DerivedImage
from ratingsite.studies.models import StudyItem, count_problem, repeats_problem


def draw_pool(study):
    """``[(derived image, source)]``: each source's ``count`` images, drawn with (study seed, set), the pool's
    first; a practice source draws from its set's images that are not in the pool (by content, so an image
    imported twice is one image), so a practice round may take real images of the pool's own set."""
    drawn, pool = [], set()
    for source in study.sources.select_related("image_set").order_by("practice", "pk"):
        derived = [
            image
            for image in DerivedImage.objects.filter(image__image_set=source.image_set, size=study.resolution)
            .select_related("image")
            .order_by("image_id")
            if not source.practice or image.image.sha256 not in pool
        ]
        problem = count_problem(source.image_set, len(derived), source.count, study.resolution, source.practice)
        if problem:
            raise ValueError(problem)
        seed = f"{study.seed}:{source.image_set_id}" + (":practice" if source.practice else "")
        chosen = random.Random(seed).sample(derived, source.count)
        drawn.extend((item, source) for item in chosen)
        if not source.practice:
            pool.update(item.image.sha256 for item in chosen)
    if not pool:
        raise ValueError("The study has no images: add at least one image set with a count.")
    return drawn


def draw_repeats(study, items):
    """Second showings (unsaved `StudyItem`s) of ``study.repeat_count`` of ``items`` (the pool's first showings
    that are no attention check), drawn with the study seed; fails as `repeats_problem` says.

    Real and synthetic images are shown twice in the pool's own proportion, not half and half: the first
    showings of repeated images keep to the order's first ``len - gap`` places and the second showings to its
    second half, so where the repeated images' share of real images differs from the pool's, so does the share
    of real images at those places, and a place would tell something of the kind. With a fraction, the count is
    rounded up or down by the seed (with the fraction as the chance of up).
    """
    pool = study.items.filter(role=StudyItem.Role.POOL)
    wanted, pool_size = study.repeat_count, pool.count()
    problem = repeats_problem(wanted, ordinary=len(items), pool=pool_size, gap=study.repeat_gap)
    if problem:
        raise ValueError(problem)
    rng = random.Random(f"{study.seed}:repeats")
    real, synthetic = (
        [item for item in sorted(items, key=lambda item: item.image_id) if item.is_real == kind]
        for kind in (True, False)
    )
    share = wanted * pool.filter(is_real=True).count() / pool_size if wanted else 0
    n_real = int(share) + (rng.random() < share - int(share))
    n_real = min(len(real), max(n_real, wanted - len(synthetic)))
    chosen = rng.sample(real, n_real) + rng.sample(synthetic, wanted - n_real)
    return [
        StudyItem(
            study=study, image_id=first.image_id, is_real=first.is_real, role=StudyItem.Role.REPEAT, repeat_of=first
        )
        for first in chosen
    ]
