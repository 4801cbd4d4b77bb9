"""Study planning for reader studies: power, and how many readers and images, from a pilot's OR variance components.

Method: Hillis, Obuchowski & Berbaum (2011) -- the Obuchowski-Rockette (OR) sample-size procedure with
Hillis' denominator degrees of freedom, as implemented by RJafroc's ``SsPowerGivenJK`` /
``SsSampleSizeKGivenJ`` / ``SsPowerTable`` (``method = "OR"``; its older ``"DBMH"`` route gives the same
numbers for the Wilcoxon AUC with jackknife covariances).

Inputs are the OR components of a pilot with ``c*`` = ``pilot_cases`` cases, in AUC units, as
`evaluation.mrmc.or_hillis` returns them (``variance_components``): ``var_r`` (reader), ``var_tr``
(modality x reader), ``var_error`` (σ², the error variance of one reader's AUC in one modality),
``cov1`` (same reader, other modality), ``cov2`` (other reader, same modality), ``cov3`` (other reader,
other modality). The pivotal study has ``r`` readers and ``c`` cases. The error and covariance terms
describe case sampling and are scaled by ``c*/c`` (Hillis et al. 2011, assuming the same
normal-to-abnormal ratio as the pilot); the reader terms are not scaled. As in RJafroc, ``var_tr`` and
``cov2 - cov3`` are clipped at 0 (``max(., 0)``); for ``test="vs_half"`` the single-modality reader
variance and ``cov2`` are clipped at 0 likewise.

``test="difference"`` -- two modalities, H0: equal AUCs, effect ``d`` = the AUC difference; with
``s = c*/c``, ``σ²_TR = max(var_tr, 0)`` and ``Δ = max(cov2 - cov3, 0)``:

    RRRC:  D = σ²_TR + s·(var_error - cov1 + (r - 1)·Δ)
           ncp = (r/2)·d² / D
           ddf = D² / ([σ²_TR + s·(var_error - cov1 - Δ)]² / (r - 1))      (Hillis 2011, eq. 10)
    FRRC:  D = s·(var_error - cov1 + (r - 1)·Δ), ncp = (r/2)·d² / D, χ²(1) test (ddf = ∞)
    RRFC:  D = σ²_TR + s·(var_error - cov1 - Δ),  ncp = (r/2)·d² / D, ddf = r - 1

Power = P(F(1, ddf, ncp) > F_(1-α)(1, ddf)) (two-sided test; the non-central χ²(1, ncp) for FRRC).
The RRRC ddf estimates the Satterthwaite df of the test's denominator MS(T×R) + r·max(Cov2 - Cov3, 0)
from its expected mean squares at the planned r and c: E[MS(T×R)] = σ²_TR + σ² - Cov1 - Cov2 + Cov3.

``test="vs_half"`` -- one modality, H0: AUC = 0.5, for a modality whose AUC is ``0.5 + effect``. This
is the single-modality analogue, derived here from the single-test OR analysis (Hillis 2007; the
per-modality test of RJafroc and MRMCaov: SE² = MS(R)/r + max(Cov2, 0),
df = (MS(R) + r·max(Cov2, 0))² / (MS(R)²/(r - 1)), with E[MS(R)] = σ²_R1 + σ² - Cov2). With one modality
there is no Cov1 or Cov3; the reader variance of one modality's AUCs is σ²_R1 = σ²_R + σ²_TR of the
two-modality OR model (``max(var_r, 0) + max(var_tr, 0)``; a one-modality pilot has var_tr = 0, and a
missing var_tr counts as 0); ``C2 = max(cov2, 0)``; the mean of r readers' AUCs has variance D / r:

    RRRC:  D = σ²_R1 + s·(var_error + (r - 1)·C2)
           ncp = r·e² / D
           ddf = D² / ([σ²_R1 + s·(var_error - C2)]² / (r - 1))
    FRRC:  D = s·(var_error + (r - 1)·C2), ncp = r·e² / D, χ²(1) test
    RRFC:  D = σ²_R1 + s·(var_error - C2),  ncp = r·e² / D, ddf = r - 1

i.e. var_r and cov2 take the places of var_tr and cov2 - cov3, cov1 drops out, and r·e² replaces
(r/2)·d² (one mean rather than a difference of two). Caveat: AUC variances depend on the AUC itself, so
components measured on a pilot whose AUC is far from 0.5 + effect describe the planned study only roughly.

`sample_size_table` scans the case count from 2 upwards, as RJafroc's ``SsSampleSizeKGivenJ`` does, and
reports the fewest cases whose power reaches the target (``None`` if none does up to ``max_cases``).

This module holds the method only; its command line, ``python -m evaluation mrmc-power``, is in `evaluation.cli`.

References:
  Hillis SL, Obuchowski NA, Berbaum KS. Power estimation for multireader ROC methods: an updated and
    unified approach. Acad Radiol 2011;18:129-142.
  Hillis SL, Berbaum KS. Power estimation for the Dorfman-Berbaum-Metz method. Acad Radiol
    2004;11:1260-1273.
  Hillis SL. A comparison of denominator degrees of freedom methods for multiple observer ROC analysis.
    Stat Med 2007;26:596-619.
  Obuchowski NA, Rockette HE. Hypothesis testing of diagnostic accuracy for multiple readers and multiple
    tests: an ANOVA approach with dependent observations. Commun Stat Simul Comput 1995;24:285-308.
  Chakraborty DP. RJafroc (R package): SsPowerGivenJK, SsSampleSizeKGivenJ, SsPowerTable.
"""

import math

import numpy as np
from scipy import stats

COMPONENT_KEYS = ("var_r", "var_tr", "cov1", "cov2", "cov3", "var_error")
TESTS = ("difference", "vs_half")
ANALYSES = ("rrrc", "frrc", "rrfc")


def power(effect, n_readers, n_cases, components, pilot_cases, *, alpha=0.05, test="difference", analysis="rrrc"):
    """Power of the planned study with ``n_readers`` readers and ``n_cases`` cases (see the module docstring).

    Returns {"power", "ncp", "ndf", "ddf", "f_critical", "variance", "n_readers", "n_cases", "effect", "alpha",
    "test", "analysis"}: ``variance`` is D above (``D·2/r`` is the variance of the AUC difference, ``D/r`` that
    of the one-modality mean AUC); ``ddf`` is ``math.inf`` for FRRC (χ² test) and ``f_critical`` is then the
    χ²(1) critical value.
    """
    result = _power_arrays(
        effect,
        n_readers,
        np.asarray([n_cases], dtype=float),
        components,
        pilot_cases,
        alpha=alpha,
        test=test,
        analysis=analysis,
    )
    return {
        "power": float(result["power"][0]),
        "ncp": float(result["ncp"][0]),
        "ndf": 1,
        "ddf": float(result["ddf"][0]),
        "f_critical": float(result["f_critical"][0]),
        "variance": float(result["variance"][0]),
        "n_readers": int(n_readers),
        "n_cases": int(n_cases),
        "effect": float(effect),
        "alpha": float(alpha),
        "test": test,
        "analysis": analysis,
    }


def sample_size_table(
    effect,
    components,
    pilot_cases,
    *,
    alpha=0.05,
    target=0.8,
    readers=range(2, 21),
    max_cases=2000,
    test="difference",
    analysis="rrrc",
):
    """For each number of readers, the fewest cases (2..``max_cases``) whose power reaches ``target``.

    Returns one dict per reader count: {"n_readers", "n_cases", "power", "ddf", "ncp"}; ``n_cases`` (and the
    other values) ``None`` where even ``max_cases`` cases do not reach the target.
    """
    if not 0 < target < 1:
        raise ValueError(f"target power must lie in (0, 1), got {target}")
    max_cases = int(max_cases)
    if max_cases < 2:
        raise ValueError(f"max_cases must be at least 2, got {max_cases}")
    cases = np.arange(2, max_cases + 1, dtype=float)
    rows = []
    for n_readers in readers:
        result = _power_arrays(
            effect, n_readers, cases, components, pilot_cases, alpha=alpha, test=test, analysis=analysis
        )
        reached = np.flatnonzero(result["power"] >= target)
        if reached.size == 0:
            rows.append({"n_readers": int(n_readers), "n_cases": None, "power": None, "ddf": None, "ncp": None})
            continue
        first = reached[0]
        rows.append(
            {
                "n_readers": int(n_readers),
                "n_cases": int(cases[first]),
                "power": float(result["power"][first]),
                "ddf": float(result["ddf"][first]),
                "ncp": float(result["ncp"][first]),
            }
        )
    return rows


NEEDED = {"difference": ("var_tr", "cov1", "cov2", "cov3", "var_error"), "vs_half": ("var_r", "cov2", "var_error")}


def components_from(mapping, test="difference"):
    """The OR components of ``mapping`` as floats, all six keys; ValueError if one ``test`` needs is bad.

    ``test="difference"`` needs var_tr, cov1, cov2, cov3 and var_error; ``"vs_half"`` needs var_r, cov2 and
    var_error, with var_tr counted as 0 when missing or NaN (a one-modality pilot). Unneeded missing keys
    are NaN.
    """
    if test not in TESTS:
        raise ValueError(f"test must be one of {', '.join(TESTS)}, got {test!r}")
    values = {}
    for key in COMPONENT_KEYS:
        value = mapping.get(key)
        needed = key in NEEDED[test]
        try:
            value = math.nan if value is None else float(value)
        except (TypeError, ValueError):
            raise ValueError(f"variance component {key!r} is not a number: {value!r}") from None
        if test == "vs_half" and key == "var_tr" and math.isnan(value):
            value = 0.0
        if needed and key not in mapping:
            raise ValueError(f"variance components lack {key!r}")
        if needed and not math.isfinite(value):
            raise ValueError(f"variance component {key!r} is not finite: {value!r}")
        values[key] = value
    return values


def _power_arrays(effect, n_readers, n_cases, components, pilot_cases, *, alpha, test, analysis):
    if test not in TESTS:
        raise ValueError(f"test must be one of {', '.join(TESTS)}, got {test!r}")
    if analysis not in ANALYSES:
        raise ValueError(f"analysis must be one of {', '.join(ANALYSES)}, got {analysis!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    effect = float(effect)
    if not math.isfinite(effect):
        raise ValueError(f"effect must be finite, got {effect}")
    if int(n_readers) != n_readers or n_readers < 1:
        raise ValueError(f"the number of readers must be a positive integer, got {n_readers}")
    n_readers = int(n_readers)
    if n_readers < 2 and analysis != "frrc":
        raise ValueError(f"{analysis.upper()} needs at least 2 readers, got {n_readers}")
    if pilot_cases is None or not pilot_cases > 0:
        raise ValueError(f"pilot_cases must be positive, got {pilot_cases}")
    if np.any(n_cases < 1):
        raise ValueError("the number of cases must be positive")
    c = components_from(components, test)
    scale = float(pilot_cases) / n_cases
    r = n_readers
    if test == "difference":
        reader_term = max(c["var_tr"], 0.0)
        case_cov = max(c["cov2"] - c["cov3"], 0.0)
        case_within = c["var_error"] - c["cov1"]
        signal = 0.5 * r * effect**2
    else:
        reader_term = max(c["var_r"], 0.0) + max(c["var_tr"], 0.0)
        case_cov = max(c["cov2"], 0.0)
        case_within = c["var_error"]
        signal = r * effect**2
    spread = case_within + (r - 1) * case_cov  # D without the reader term, per pilot case count
    within = case_within - case_cov  # E[MS] of the denominator's mean square, likewise
    if analysis == "rrrc":
        variance = reader_term + scale * spread
        ms_expectation = np.maximum(reader_term + scale * within, 0.0)
        positive = ms_expectation > 0
        ddf = np.where(positive, variance**2 * (r - 1) / np.where(positive, ms_expectation, 1.0) ** 2, np.inf)
    elif analysis == "frrc":
        variance = scale * spread
        ddf = np.full_like(scale, np.inf)
    else:
        variance = reader_term + scale * within
        ddf = np.full_like(scale, float(r - 1))
    variance = np.asarray(variance, dtype=float)
    if np.any(variance <= 0):
        raise ValueError("the variance components give a non-positive variance for the test statistic")
    ncp = signal / variance
    finite = np.isfinite(ddf)
    f_critical = np.empty_like(variance)
    result_power = np.empty_like(variance)
    chi_critical = stats.chi2.isf(alpha, 1)
    f_critical[~finite] = chi_critical
    result_power[~finite] = stats.ncx2.sf(chi_critical, 1, ncp[~finite]) if effect else alpha
    if np.any(finite):
        f_critical[finite] = stats.f.isf(alpha, 1, ddf[finite])
        if effect:
            result_power[finite] = stats.ncf.sf(f_critical[finite], 1, ddf[finite], ncp[finite])
        else:
            result_power[finite] = alpha
    return {"power": result_power, "ncp": ncp, "ddf": ddf, "f_critical": f_critical, "variance": variance}
