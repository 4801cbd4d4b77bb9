"""Significance of per-image metric differences across settings (training-subset size, epoch, ...).

Sources: W. H. Kruskal, W. A. Wallis, "Use of ranks in one-criterion variance analysis", JASA 1952
(``scipy.stats.kruskal``, H statistic, no normality assumption); one-way ANOVA after R. A. Fisher, 1925
(``scipy.stats.f_oneway``, F statistic, assumes normal groups with equal variances).

Input: a pandas DataFrame with one row per synthetic image, one column per factor (the setting the image
was generated under) and one column per per-image metric (e.g. the ``--per-image`` CSV of several runs
stacked, with factor columns added). For every metric and factor, the images are grouped by the factor's
levels (in sorted order) and both tests are run on the groups. Non-finite values (NaN, or the +inf PSNR
of an exact copy) are left out of their group, since neither test is defined on them; a factor with fewer
than 2 non-empty groups, and a metric with one value throughout, are skipped.

Output: a DataFrame with columns ``metric, factor, test, statistic, p`` (``test`` is ``kruskal-wallis``
or ``anova``). No correction for multiple comparisons is applied; apply one (e.g.
``statsmodels.stats.multitest.multipletests``) when reading many rows at once.
"""

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.frames import missing_columns

TESTS = {"kruskal-wallis": stats.kruskal, "anova": stats.f_oneway}
COLUMNS = ["metric", "factor", "test", "statistic", "p"]


def significance_table(per_image, metrics, factors):
    """Kruskal-Wallis and one-way ANOVA of each of ``metrics`` across the levels of each of ``factors``."""
    missing = missing_columns(per_image, [*metrics, *factors])
    if missing:
        raise KeyError(f"columns not in the per-image table: {', '.join(missing)}")
    rows = []
    for metric in metrics:
        for factor in factors:
            groups = []
            for _, group in per_image.groupby(factor, sort=True)[metric]:
                values = group.to_numpy(dtype=np.float64)
                values = values[np.isfinite(values)]
                if len(values):
                    groups.append(values)
            # Neither test is defined when every value is the same (say, no image flagged as a copy).
            if len(groups) < 2 or np.ptp(np.concatenate(groups)) == 0:
                continue
            for name, test in TESTS.items():
                result = test(*groups)
                rows.append(
                    {
                        "metric": metric,
                        "factor": factor,
                        "test": name,
                        "statistic": float(result.statistic),
                        "p": float(result.pvalue),
                    }
                )
    return pd.DataFrame(rows, columns=COLUMNS)
