"""How well anything but the pixels could tell a study's real images from its synthetic ones.

Two channels a rater can observe are checked over the whole study, each against what it would be if it
carried no information:

* **File size.** `file_size_auc`: file size as a real-vs-synthetic classifier; 0.5 is no information.
  Study files are written without compression, so every file of a study has one size and the AUC is 0.5
  by construction; a study whose files differ in size is not opened (`display_files.write_display_files`).
* **Order.** `order_check`: the share of real images right after a real image, over every rater's
  stored order, against a uniform shuffle's. Under a shuffle of ``N`` items of which ``R`` are real it
  is ``(R - 1) / (N - 1)``; its spread is that of the same raters' orders reshuffled.
"""

from dataclasses import dataclass

import numpy as np

from ratingsite.studies.models import StudyItem

ORDER_SHUFFLES = 200
ORDER_LEAK_STANDARD_ERRORS = 3


def file_sizes(study):
    """``[(bytes, is_real)]`` of the study's files, read from storage once."""
    return [(item.file.size, item.is_real) for item in study.items.all()]


def file_size_auc(sizes):
    """Area under the ROC curve of file size as a real-vs-synthetic classifier (0.5: no information).

    AUC = U / (n_real n_synthetic), U the Mann-Whitney statistic of the real files' sizes against the
    synthetic files' sizes, from `file_sizes`. ``None`` when the study lacks either kind.
    """
    # Imported here: only the study page needs scipy, and every page imports this module through the URLconf.
    from scipy import stats

    real = [size for size, is_real in sizes if is_real]
    synthetic = [size for size, is_real in sizes if not is_real]
    if not real or not synthetic:
        return None
    return float(stats.mannwhitneyu(real, synthetic).statistic / (len(real) * len(synthetic)))


@dataclass(frozen=True)
class OrderCheck:
    """Real-after-real in the raters' orders (``observed``) against a shuffle's (``shuffled`` +- ``spread``)."""

    observed: float
    shuffled: float
    spread: float
    pairs: int
    raters: int

    @property
    def leaks(self):
        return abs(self.observed - self.shuffled) > ORDER_LEAK_STANDARD_ERRORS * self.spread


def real_after_real(truths):
    """Share of real images among those right after a real one; ``truths`` is (orders, positions) of 0/1."""
    truths = np.asarray(truths, dtype=bool)
    after_real = truths[:, :-1]
    return (after_real & truths[:, 1:]).sum() / after_real.sum()


def order_check(study, seed=0):
    """`OrderCheck` over the stored orders of the study's raters; ``None`` before two raters' orders or
    without both kinds. The shuffle's spread is the SD of `real_after_real` over ``ORDER_SHUFFLES``
    reshuffles of the same orders (seeded)."""
    is_real = dict(study.items.exclude(role=StudyItem.Role.PRACTICE).values_list("pk", "is_real"))
    orders = [order for order in study.participations.values_list("order", flat=True) if order]
    truths = np.array(
        [[is_real[pk] for pk in order if pk in is_real] for order in orders if len(order) == len(is_real)]
    )
    if len(truths) < 2 or truths.shape[1] < 3 or truths[0].all() or not truths[0].any():
        return None
    rng = np.random.default_rng(seed)
    shuffled = np.array([real_after_real(rng.permuted(truths, axis=1)) for _ in range(ORDER_SHUFFLES)])
    real, total = int(truths[0].sum()), truths.shape[1]
    return OrderCheck(
        observed=float(real_after_real(truths)),
        shuffled=(real - 1) / (total - 1),
        spread=float(shuffled.std(ddof=1)),
        pairs=int(truths[:, :-1].sum()),
        raters=len(truths),
    )
