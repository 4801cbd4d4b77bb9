"""Multi-reader multi-case (MRMC) ROC analysis: Obuchowski-Rockette with Hillis' degrees of freedom (OR-Hillis).

Input: a ratings frame (pandas DataFrame, one row per rating) with the columns ``reader``, ``case``,
``truth`` (1 = positive, 0 = negative), ``score`` (a number, higher = more sure the case is positive)
and optionally ``modality`` (absent: one modality named ``"0"``). Reader, case and modality names are
read as strings. The design must be fully crossed: every reader rates every case under every modality,
once. Other columns are ignored; input the analysis cannot use raises `MRMCInputError` with one line.

The figure of merit is each reader's empirical (Wilcoxon) AUC under each modality, ``theta_ij`` for
modality ``i`` (of ``t``) and reader ``j`` (of ``r``), over ``c`` cases (`evaluation.roc`).

The Obuchowski-Rockette model (N. A. Obuchowski, H. E. Rockette, "Hypothesis testing of diagnostic
accuracy for multiple readers and multiple tests: an ANOVA approach with dependent observations", Commun.
Stat. Simul. Comput. 24:285, 1995) is a reader x modality ANOVA of the AUCs with correlated errors,

    theta_ij = mu + tau_i + R_j + (tau R)_ij + e_ij,

``R_j ~ N(0, Var(R))`` and ``(tau R)_ij ~ N(0, Var(TR))`` random, and errors (the case-sampling
variability of an AUC) with ``Var(e_ij) = Var(error)`` and covariances ``Cov1`` (same reader, other
modality), ``Cov2`` (other reader, same modality) and ``Cov3`` (other reader, other modality). These are
the averages of the matching entries of the (t r) x (t r) covariance matrix of the AUCs, estimated over
cases by

* ``jackknife`` (default, as in Hillis' OR-DBM MRMC, RJafroc and MRMCaov): with ``theta_ij(k)`` the AUC
  without case ``k``, ``Cov(theta_ij, theta_i'j') = (c - 1) / c sum_k (theta_ij(k) - mean_k)(theta_i'j'(k)
  - mean_k)``, i.e. the sample covariance of the leave-one-out AUCs times ``(c - 1)^2 / c``. From the
  placement values the leave-one-out AUC has a closed form: ``(m AUC - V10_k) / (m - 1)`` without positive
  case ``k`` and ``(n AUC - V01_k) / (n - 1)`` without negative case ``k`` (m positives, n negatives);
* ``delong``: DeLong's covariance (E. R. DeLong, D. M. DeLong, D. L. Clarke-Pearson, Biometrics 44:837,
  1988), `evaluation.roc.delong_covariance`, as MRMCaov's ``cov = DeLong``.

From the mean squares of the AUC table, ``MS(T) = r sum_i (theta_i. - theta..)^2 / (t - 1)``, ``MS(R) =
t sum_j (theta_.j - theta..)^2 / (r - 1)`` and ``MS(TR) = sum_ij (theta_ij - theta_i. - theta_.j +
theta..)^2 / ((t - 1)(r - 1))``, the variance components (as OR-DBM MRMC, RJafroc and MRMCaov report
them) are

    Var(TR) = MS(TR) - Var(error) + Cov1 + Cov2 - Cov3
    Var(R)  = (MS(R) - Var(TR) - Var(error) - (t - 1) Cov1 + Cov2 + (t - 1) Cov3) / t

and with one modality ``Var(R) = MS(R) - Var(error) + Cov2`` (reader and reader x modality variance then
cannot be told apart; Var(TR), Cov1 and Cov3 are NaN).

Random readers and random cases (RRRC), with Hillis' denominator degrees of freedom (S. L. Hillis, "A
comparison of denominator degrees of freedom methods for multiple observer ROC analysis", Stat. Med.
26:596, 2007; S. L. Hillis, K. S. Berbaum, C. E. Metz, "Recent developments in the Dorfman-Berbaum-Metz
procedure for multireader ROC study analysis", Acad. Radiol. 15:647, 2008):

    D = MS(TR) + r max(Cov2 - Cov3, 0),   F = MS(T) / D  on  (t - 1, ddf_H),
    ddf_H = D^2 / (MS(TR)^2 / ((t - 1)(r - 1)))

For modalities ``a`` and ``b`` the difference ``theta_a. - theta_b.`` has ``SE = sqrt(2 D / r)`` and
the interval ``difference +- t_{1 - alpha/2, ddf_H} SE`` (the global error term, as RJafroc and MRMCaov);
its test is ``F = (difference / SE)^2`` on (1, ddf_H), which is the global F when t = 2.

One modality ``i`` on its own (Hillis 2007, single-test analysis, as RJafroc and MRMCaov), with
``MS(R)_i`` the variance of its reader AUCs and ``Cov2_i``, ``Var(error)_i`` from its covariance block:

    D_i = MS(R)_i + r max(Cov2_i, 0),   SE_i = sqrt(D_i / r),   df_i = D_i^2 / (MS(R)_i^2 / (r - 1))

with the interval ``theta_i. +- t_{1 - alpha/2, df_i} SE_i`` clipped to [0, 1] and ``p_vs_half`` the
two-sided t test of AUC = 0.5 on ``df_i``.

Fixed readers, random cases (FRRC; the conclusion holds for these readers only), as MRMCaov:

    D_F = Var(error) - Cov1 + (r - 1)(Cov2 - Cov3),   chi-square = (t - 1) MS(T) / D_F  on t - 1 df,
    SE of a difference = sqrt(2 D_F / r),   SE_i = sqrt((Var(error)_i + (r - 1) max(Cov2_i, 0)) / r)

with normal intervals. ``D_F`` is the estimated variance of the reader-averaged difference (times r / 2),
never negative, so it needs no truncation.

The command line (``python -m evaluation mrmc``, its CSV reader and text report) is `evaluation.cli`; the
rating app's score for "this image is synthetic" is `evaluation.study_roc.synthetic_scores`.
"""

import itertools
import math

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.frames import missing_columns
from evaluation.roc import delong_covariance, placement_values

COVARIANCES = ("jackknife", "delong")
REQUIRED_COLUMNS = ("reader", "case", "truth", "score")
SINGLE_MODALITY = "0"
CHANCE_AUC = 0.5
VARIANCE_COMPONENTS = ("var_r", "var_tr", "cov1", "cov2", "cov3", "var_error")


class MRMCInputError(ValueError):
    """Ratings the OR analysis cannot use; the message says why in one line."""


def or_hillis(ratings, covariance="jackknife", alpha=0.05):
    """OR-Hillis analysis of a fully crossed ratings frame: per modality, per comparison, variance components.

    Returns a JSON-able dict (plain floats, ints and strings; NaN where a value is undefined):
    ``modalities`` (each with its ``auc``, reader ``readers`` AUCs, ``rrrc`` and ``frrc`` intervals),
    ``comparisons`` (one per pair of modalities, ``difference = auc_a - auc_b``), ``global_test`` (the F
    and chi-square tests of equal modalities; None with one modality), ``variance_components``,
    ``mean_squares`` and the study's counts. See the module docstring for the formulas.
    """
    scores, truth, modalities, readers = ratings_array(ratings)
    return or_hillis_array(scores, truth, covariance, alpha, modalities=modalities, readers=readers)


def ratings_array(ratings):
    """``(scores (t, r, c), truth (c,), modality names, reader names)`` of a checked, fully crossed frame."""
    if not isinstance(ratings, pd.DataFrame):
        raise MRMCInputError(f"ratings must be a pandas DataFrame, not {type(ratings).__name__}")
    missing = missing_columns(ratings, REQUIRED_COLUMNS)
    if missing:
        raise MRMCInputError(
            f"ratings lack the column(s) {', '.join(missing)} (need {', '.join(REQUIRED_COLUMNS)}; "
            f"modality is optional)"
        )
    if ratings.empty:
        raise MRMCInputError("no ratings")
    identifiers = ["reader", "case"] + (["modality"] if "modality" in ratings.columns else [])
    unnamed = ratings[identifiers].isna().any(axis=1)
    if unnamed.any():
        raise MRMCInputError(f"{int(unnamed.sum())} rating(s) lack a {' / '.join(identifiers)} name")
    frame = pd.DataFrame(
        {
            "reader": ratings["reader"].astype(str).to_numpy(dtype=object),
            "case": ratings["case"].astype(str).to_numpy(dtype=object),
            "modality": (
                ratings["modality"].astype(str).to_numpy(dtype=object)
                if "modality" in ratings.columns
                else SINGLE_MODALITY
            ),
            "truth": pd.to_numeric(ratings["truth"], errors="coerce").to_numpy(dtype=float),
            "score": pd.to_numeric(ratings["score"], errors="coerce").to_numpy(dtype=float),
        }
    )
    bad_truth = ~np.isin(frame["truth"].to_numpy(), (0, 1))
    if bad_truth.any():
        found = sorted(set(ratings["truth"][bad_truth].astype(object).tolist()), key=str)
        raise MRMCInputError(f"truth must be 1 (positive) or 0 (negative); found {found[:5]}")
    no_score = ~np.isfinite(frame["score"].to_numpy())
    if no_score.any():
        first = frame[no_score].iloc[0]
        raise MRMCInputError(
            f"score must be a finite number; {int(no_score.sum())} rating(s) lack one "
            f"(first: reader {first.reader}, case {first.case})"
        )
    modalities, modality_code = np.unique(frame["modality"].to_numpy(), return_inverse=True)
    readers, reader_code = np.unique(frame["reader"].to_numpy(), return_inverse=True)
    cases, case_code = np.unique(frame["case"].to_numpy(), return_inverse=True)
    shape = (len(modalities), len(readers), len(cases))
    cell = np.ravel_multi_index((modality_code, reader_code, case_code), shape)
    ratings_per_cell = np.bincount(cell, minlength=math.prod(shape)).reshape(shape)
    if (ratings_per_cell > 1).any():
        duplicated = pd.Series(cell).duplicated().to_numpy()
        first = frame[duplicated].iloc[0]
        raise MRMCInputError(
            f"{int(duplicated.sum())} duplicate rating(s) of one (reader, case, modality), first: "
            f"reader {first.reader}, case {first.case}, modality {first.modality}"
        )
    truth = frame["truth"].to_numpy()
    ratings_per_case = np.bincount(case_code, minlength=len(cases))
    positives_per_case = np.bincount(case_code, weights=truth, minlength=len(cases))
    both_truths = (positives_per_case > 0) & (positives_per_case < ratings_per_case)
    if both_truths.any():
        raise MRMCInputError(f"case {cases[np.argmax(both_truths)]} has both truth 0 and 1")
    if len(readers) < 2:
        raise MRMCInputError(f"need at least 2 readers, got {len(readers)} ({', '.join(readers)})")
    ratings_per_reader = np.bincount(reader_code, minlength=len(readers))
    positives_per_reader = np.bincount(reader_code, weights=truth, minlength=len(readers))
    for reader, positives, rated in zip(readers, positives_per_reader, ratings_per_reader):
        if positives in (0, rated):
            lacking = "positive" if positives == 0 else "negative"
            raise MRMCInputError(f"reader {reader} rated no {lacking} case; every reader needs both truths")
    unrated = ratings_per_cell == 0
    if unrated.any():
        case_index = np.argwhere(unrated)[0][2]
        rated_under = ratings_per_cell[:, :, case_index].sum(axis=1) > 0
        if not rated_under.all():
            raise MRMCInputError(
                f"case {cases[case_index]} is rated under modality {', '.join(modalities[rated_under])} only; "
                f"a fully crossed study rates every case under every modality ({', '.join(modalities)})"
            )
        absent = readers[unrated[:, :, case_index].any(axis=0)]
        raise MRMCInputError(
            f"case {cases[case_index]} is not rated by every reader under every modality (missing: reader "
            f"{', '.join(absent)}); a fully crossed study needs all of them"
        )
    case_truth = (positives_per_case / ratings_per_case).astype(int)
    n_positive = int(case_truth.sum())
    if n_positive < 2 or len(cases) - n_positive < 2:
        raise MRMCInputError(
            f"need at least 2 positive and 2 negative cases, got {n_positive} and {len(cases) - n_positive}"
        )
    scores = np.empty(shape)
    scores[modality_code, reader_code, case_code] = frame["score"].to_numpy()
    return scores, case_truth, [str(name) for name in modalities], [str(name) for name in readers]


def or_hillis_array(scores, truth, covariance="jackknife", alpha=0.05, modalities=None, readers=None):
    """`or_hillis` of a score array (t modalities, r readers, c cases) and the cases' truth (c,) in 0/1.

    ``modalities`` and ``readers`` name the array's rows (default ``"0"``, ``"1"``, ...). The fast path for
    simulations: it checks only what the formulas need (2 readers, 2 positive and 2 negative cases).
    """
    if covariance not in COVARIANCES:
        raise MRMCInputError(f"covariance must be one of {', '.join(COVARIANCES)}, not {covariance!r}")
    if not 0 < alpha < 1:
        raise MRMCInputError(f"alpha must lie strictly between 0 and 1, not {alpha}")
    scores = np.asarray(scores, dtype=float)
    n_modalities, n_readers, n_cases = scores.shape
    modalities = [str(name) for name in (range(n_modalities) if modalities is None else modalities)]
    readers = [str(name) for name in (range(n_readers) if readers is None else readers)]
    aucs, v10, v01 = placement_values(truth, scores.reshape(n_modalities * n_readers, n_cases))
    n_positive = v10.shape[1]
    if n_readers < 2 or min(n_positive, n_cases - n_positive) < 2:
        raise MRMCInputError(
            f"need at least 2 readers, 2 positive and 2 negative cases; got {n_readers} reader(s), "
            f"{n_positive} positive and {n_cases - n_positive} negative"
        )
    if covariance == "jackknife":
        auc_covariance = jackknife_covariance(aucs, v10, v01)
    else:
        auc_covariance = delong_covariance(v10, v01)
    theta = aucs.reshape(n_modalities, n_readers)
    blocks = auc_covariance.reshape(n_modalities, n_readers, n_modalities, n_readers)
    # Degenerate studies (every reader perfect, say) give 0 / 0: NaN results, not an exception.
    with np.errstate(divide="ignore", invalid="ignore"):
        components = or_components(theta, blocks)
        modality_results = [
            single_modality(modalities[i], readers, theta[i], blocks[i, :, i, :], alpha) for i in range(n_modalities)
        ]
        comparisons, global_test = modality_comparisons(modalities, theta, components, alpha)
    return {
        "covariance": covariance,
        "alpha": float(alpha),
        "n_modalities": n_modalities,
        "n_readers": n_readers,
        "n_cases": n_cases,
        "n_positive": n_positive,
        "n_negative": n_cases - n_positive,
        "modalities": modality_results,
        "comparisons": comparisons,
        "global_test": global_test,
        "variance_components": {name: components[name] for name in VARIANCE_COMPONENTS},
        "mean_squares": {name: components[name] for name in ("ms_t", "ms_r", "ms_tr")},
    }


def jackknife_covariance(aucs, v10, v01):
    """Jackknife covariance over cases (k, k) of ``k`` AUCs from their placement values V10 (k, m), V01 (k, n)."""
    m, n = v10.shape[1], v01.shape[1]
    leave_one_out = np.concatenate([(m * aucs[:, None] - v10) / (m - 1), (n * aucs[:, None] - v01) / (n - 1)], axis=1)
    n_cases = m + n
    return np.atleast_2d(np.cov(leave_one_out)) * (n_cases - 1) ** 2 / n_cases


def mean_where(values, mask):
    """Mean of ``values`` where ``mask`` (broadcast) holds; NaN when it holds nowhere."""
    selected = values[np.broadcast_to(mask, values.shape)]
    return float(selected.mean()) if selected.size else math.nan


def or_components(theta, covariance):
    """Mean squares, Var(error), Cov1-3 and Var(R), Var(TR) of AUCs (t, r) with covariance (t, r, t, r)."""
    n_modalities, n_readers = theta.shape
    same_modality = np.eye(n_modalities, dtype=bool)[:, None, :, None]
    same_reader = np.eye(n_readers, dtype=bool)[None, :, None, :]
    var_error = mean_where(covariance, same_modality & same_reader)
    cov1 = mean_where(covariance, ~same_modality & same_reader)
    cov2 = mean_where(covariance, same_modality & ~same_reader)
    cov3 = mean_where(covariance, ~same_modality & ~same_reader)
    grand = theta.mean()
    modality_means, reader_means = theta.mean(axis=1), theta.mean(axis=0)
    ms_r = float(n_modalities * ((reader_means - grand) ** 2).sum() / (n_readers - 1))
    if n_modalities > 1:
        ms_t = float(n_readers * ((modality_means - grand) ** 2).sum() / (n_modalities - 1))
        interaction = theta - modality_means[:, None] - reader_means[None, :] + grand
        ms_tr = float((interaction**2).sum() / ((n_modalities - 1) * (n_readers - 1)))
        var_tr = ms_tr - var_error + cov1 + cov2 - cov3
        extra = n_modalities - 1
        var_r = (ms_r - var_tr - var_error - extra * cov1 + cov2 + extra * cov3) / n_modalities
    else:
        ms_t = ms_tr = var_tr = math.nan
        var_r = ms_r - var_error + cov2
    return {
        "ms_t": ms_t,
        "ms_r": ms_r,
        "ms_tr": ms_tr,
        "var_r": float(var_r),
        "var_tr": float(var_tr),
        "cov1": cov1,
        "cov2": cov2,
        "cov3": cov3,
        "var_error": var_error,
    }


def single_modality(name, readers, reader_aucs, covariance, alpha):
    """Hillis' single-modality RRRC interval and test of AUC = 0.5, and the FRRC interval, of one modality.

    ``reader_aucs`` (r,) are the modality's AUCs of the ``readers``, ``covariance`` (r, r) their covariance.
    """
    n_readers = reader_aucs.size
    value = float(reader_aucs.mean())
    ms_r = float(reader_aucs.var(ddof=1))
    var_error = float(np.diag(covariance).mean())
    cov2 = mean_where(covariance, ~np.eye(n_readers, dtype=bool))
    denominator = ms_r + n_readers * max(cov2, 0.0)
    se = math.sqrt(denominator / n_readers)
    df = float(np.float64(denominator) ** 2 / (np.float64(ms_r) ** 2 / (n_readers - 1)))
    half_width = stats.t.ppf(1 - alpha / 2, df) * se
    fixed_se = math.sqrt((var_error + (n_readers - 1) * max(cov2, 0.0)) / n_readers)
    fixed_half_width = stats.norm.ppf(1 - alpha / 2) * fixed_se
    return {
        "modality": name,
        "auc": value,
        "readers": {reader: float(reader_auc) for reader, reader_auc in zip(readers, reader_aucs)},
        "ms_r": ms_r,
        "var_error": var_error,
        "cov2": cov2,
        "rrrc": {
            "se": se,
            "df": df,
            "low": clip_auc(value - half_width),
            "high": clip_auc(value + half_width),
            "p_vs_half": float(2 * stats.t.sf(abs(np.float64(value - CHANCE_AUC) / se), df)),
        },
        "frrc": {
            "se": fixed_se,
            "low": clip_auc(value - fixed_half_width),
            "high": clip_auc(value + fixed_half_width),
            "p_vs_half": float(2 * stats.norm.sf(abs(np.float64(value - CHANCE_AUC) / fixed_se))),
        },
    }


def clip_auc(value):
    return float(min(max(value, 0.0), 1.0))


def modality_comparisons(modalities, theta, components, alpha):
    """Pairwise RRRC (Hillis ddf) and FRRC comparisons of the modalities, and the global tests."""
    n_modalities, n_readers = theta.shape
    if n_modalities < 2:
        return [], None
    ms_t, ms_tr = components["ms_t"], components["ms_tr"]
    random_denominator = ms_tr + n_readers * max(components["cov2"] - components["cov3"], 0.0)
    ddf = float(np.float64(random_denominator) ** 2 / (np.float64(ms_tr) ** 2 / ((n_modalities - 1) * (n_readers - 1))))
    fixed_denominator = (
        components["var_error"] - components["cov1"] + (n_readers - 1) * (components["cov2"] - components["cov3"])
    )
    global_f = float(np.float64(ms_t) / random_denominator)
    global_chisq = float((n_modalities - 1) * np.float64(ms_t) / fixed_denominator)
    ndf = n_modalities - 1
    global_test = {
        "rrrc": {"f": global_f, "ndf": ndf, "ddf": ddf, "p": float(stats.f.sf(global_f, ndf, ddf))},
        "frrc": {"chisq": global_chisq, "df": ndf, "p": float(stats.chi2.sf(global_chisq, ndf))},
    }
    random_se = math.sqrt(2 * random_denominator / n_readers)
    fixed_se = math.sqrt(max(2 * fixed_denominator / n_readers, 0.0))
    t_critical = stats.t.ppf(1 - alpha / 2, ddf)
    z_critical = stats.norm.ppf(1 - alpha / 2)
    modality_means = theta.mean(axis=1)
    comparisons = []
    for index_a, index_b in itertools.combinations(range(n_modalities), 2):
        difference = float(modality_means[index_a] - modality_means[index_b])
        t_statistic = np.float64(difference) / random_se
        z_statistic = np.float64(difference) / fixed_se
        comparisons.append(
            {
                "modality_a": modalities[index_a],
                "modality_b": modalities[index_b],
                "difference": difference,
                "rrrc": {
                    "f": float(t_statistic**2),
                    "ndf": 1,
                    "ddf": ddf,
                    "p": float(2 * stats.t.sf(abs(t_statistic), ddf)),
                    "se": random_se,
                    "low": float(difference - t_critical * random_se),
                    "high": float(difference + t_critical * random_se),
                },
                "frrc": {
                    "chisq": float(z_statistic**2),
                    "p": float(2 * stats.norm.sf(abs(z_statistic))),
                    "se": fixed_se,
                    "low": float(difference - z_critical * fixed_se),
                    "high": float(difference + z_critical * fixed_se),
                },
            }
        )
    return comparisons, global_test
