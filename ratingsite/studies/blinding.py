"""How well anything but the pixels could tell a study's real images from its synthetic ones."""

from scipy import stats


def file_size_auc(study):
    """Area under the ROC curve of file size as a real-vs-synthetic classifier (0.5: no information).

    AUC = U / (n_real n_synthetic), U the Mann-Whitney statistic of the real files' sizes against the
    synthetic files' sizes. ``None`` when the study lacks either kind.
    """
    real, synthetic = [], []
    for item in study.items.all():
        (real if item.is_real else synthetic).append(item.file.size)
    if not real or not synthetic:
        return None
    return float(stats.mannwhitneyu(real, synthetic).statistic / (len(real) * len(synthetic)))
