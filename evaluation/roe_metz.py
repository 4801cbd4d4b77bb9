"""Seeded Roe-Metz simulator of multi-reader multi-case ROC studies (continuous confidence-of-positive scores).

C. A. Roe, C. E. Metz, "Dorfman-Berbaum-Metz method for statistical analysis of multireader,
multimodality receiver operating characteristic data: validation with computer simulation", Acad.
Radiol. 4:298, 1997. Reader ``j`` gives case ``k`` (truth ``s``: 0 negative, 1 positive) under modality
``i`` the score

    X_ijk = mu_i s + R_j(s) + C_k + (tau R)_ij(s) + (tau C)_ik + (R C)_jk + E_ijk

with independent zero-mean normal effects of variances ``var_r``, ``var_c``, ``var_tr``, ``var_tc``,
``var_rc`` and ``var_error``, the same for positive and negative cases (equal-variance binormal ROC
curves). The reader effects ``R_j(s)`` and ``(tau R)_ij(s)`` are drawn separately for the two truth
states, as in Roe & Metz: a shift shared by a reader's positive and negative scores would not change
their AUC, and readers would not differ. ``mu_i`` separates the negative (mean 0) and positive scores
under modality ``i``: a random reader's expected AUC is ``Phi(mu_i / sqrt(2 V))``, ``V`` the sum of the
six variances (about 1 in their tables), so ``mu = 0`` gives AUC 0.5 and equal ``mu`` across modalities
the null hypothesis of an MRMC comparison.

`STRUCTURES` holds the variance structures of Roe & Metz's Table 1, as transcribed in RJafroc's Roe-Metz
code (``RoeMetzVarStr``, dpc10ster/RJafroc) and, for HL1 and LH1-LH3, MRMCaov's ``RM_to_OR``
examples (brian-j-smith/MRMCaov, man/RM_to_OR.Rd): the first letter is the case (data) correlation,
high (var_c = var_tc = 0.3, var_rc = var_error = 0.2) or low (0.1, 0.1, 0.2, 0.6), the second the reader
variability, low (var_r = var_tr = 0.0055) or high (0.011, 0.03, 0.056 for the three AUCs); the digit
is the AUC level, mu = 0.75, 1.5, 2.5 (AUC about 0.702, 0.855, 0.962). Use one as
``simulate(..., **STRUCTURES["HL2"])``.
"""

import numpy as np
import pandas as pd

HIGH_CORRELATION = {"var_c": 0.3, "var_tc": 0.3, "var_rc": 0.2, "var_error": 0.2}
LOW_CORRELATION = {"var_c": 0.1, "var_tc": 0.1, "var_rc": 0.2, "var_error": 0.6}
SEPARATIONS = (0.75, 1.5, 2.5)
HIGH_READER_VARIANCES = (0.011, 0.03, 0.056)
LOW_READER_VARIANCE = 0.0055
STRUCTURES = {
    f"{correlation_name}{reader_name}{level + 1}": {
        "mu": mu,
        "var_r": reader_variance,
        "var_tr": reader_variance,
        **correlation,
    }
    for correlation_name, correlation in (("H", HIGH_CORRELATION), ("L", LOW_CORRELATION))
    for level, mu in enumerate(SEPARATIONS)
    for reader_name, reader_variance in (("L", LOW_READER_VARIANCE), ("H", HIGH_READER_VARIANCES[level]))
}


def simulate(
    n_readers,
    n_negative,
    n_positive,
    seed,
    *,
    n_modalities=1,
    mu=1.5,
    var_r=LOW_READER_VARIANCE,
    var_c=HIGH_CORRELATION["var_c"],
    var_tr=LOW_READER_VARIANCE,
    var_tc=HIGH_CORRELATION["var_tc"],
    var_rc=HIGH_CORRELATION["var_rc"],
    var_error=HIGH_CORRELATION["var_error"],
):
    """One fully crossed Roe-Metz study: columns ``reader, case, truth, score, modality``, one row per rating.

    ``mu`` is one separation for every modality or one per modality; the defaults are Roe & Metz's HL2
    structure (AUC about 0.855). Readers are named ``reader1``..., cases ``case1``... (negatives first),
    modalities ``"0"``, ``"1"``...; the same ``seed`` gives the same study.
    """
    separations = np.broadcast_to(np.asarray(mu, dtype=float), (n_modalities,))
    variances = {
        "var_r": var_r,
        "var_c": var_c,
        "var_tr": var_tr,
        "var_tc": var_tc,
        "var_rc": var_rc,
        "var_error": var_error,
    }
    negative_variances = [name for name, value in variances.items() if value < 0]
    if negative_variances:
        raise ValueError(f"variances must not be negative: {', '.join(negative_variances)}")
    if min(n_readers, n_negative, n_positive, n_modalities) < 1:
        raise ValueError("need at least one reader, one negative case, one positive case and one modality")
    sd = {name: np.sqrt(value) for name, value in variances.items()}
    rng = np.random.default_rng(seed)
    n_cases = n_negative + n_positive
    truth = np.r_[np.zeros(n_negative, dtype=int), np.ones(n_positive, dtype=int)]
    reader = rng.standard_normal((n_readers, 2))[:, truth]
    case = rng.standard_normal(n_cases)
    modality_reader = rng.standard_normal((n_modalities, n_readers, 2))[:, :, truth]
    modality_case = rng.standard_normal((n_modalities, n_cases))
    reader_case = rng.standard_normal((n_readers, n_cases))
    error = rng.standard_normal((n_modalities, n_readers, n_cases))
    scores = (
        separations[:, None, None] * truth[None, None, :]
        + sd["var_r"] * reader[None, :, :]
        + sd["var_c"] * case[None, None, :]
        + sd["var_tr"] * modality_reader
        + sd["var_tc"] * modality_case[:, None, :]
        + sd["var_rc"] * reader_case[None, :, :]
        + sd["var_error"] * error
    )
    modality_index, reader_index, case_index = np.indices(scores.shape).reshape(3, -1)
    reader_names = np.array([f"reader{j + 1}" for j in range(n_readers)], dtype=object)
    case_names = np.array([f"case{k + 1}" for k in range(n_cases)], dtype=object)
    modality_names = np.array([str(i) for i in range(n_modalities)], dtype=object)
    return pd.DataFrame(
        {
            "reader": reader_names[reader_index],
            "case": case_names[case_index],
            "truth": truth[case_index],
            "score": scores.reshape(-1),
            "modality": modality_names[modality_index],
        }
    )
