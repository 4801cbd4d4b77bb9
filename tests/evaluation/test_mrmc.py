"""OR-Hillis MRMC analysis equals RJafroc's and MRMCaov's published Van Dyke output; null rejection rate; CLI."""

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.cli import main, read_ratings
from evaluation.mrmc import MRMCInputError, jackknife_covariance, or_hillis, or_hillis_array
from evaluation.roc import auc, placement_values
from evaluation.roe_metz import STRUCTURES, simulate
from evaluation.study_roc import synthetic_scores
from evaluation.turing import turing_summary
from tests.evaluation.golden import golden_ratings

REPO_ROOT = Path(__file__).resolve().parents[2]
VAN_DYKE = Path(__file__).resolve().parent / "data" / "van_dyke.csv"
# The published outputs print 8 significant digits; ours agree far beyond the 3 digits asked of them.
CLOSE = 1e-6

# RJafroc, StSignificanceTesting(dataset02, FOM = "Wilcoxon", method = "OR"), jackknife covariance, as
# printed in dpc10ster/RJafrocBook, docs/10C-OR-AnalysisApplications.md ("Using RJafroc: dataset02").
RJAFROC_READER_AUCS = {
    "0": [0.91964573, 0.85877617, 0.90386473, 0.97310789, 0.82979066],
    "1": [0.94782609, 0.90531401, 0.92173913, 0.99935588, 0.92995169],
}
RJAFROC = {
    "auc": {"0": 0.89703704, "1": 0.94083736},
    "difference": -0.043800322,
    "mean_squares": {"ms_t": 0.0047961705, "ms_r": 0.00383619999, "ms_tr": 0.00055103062},
    "variance_components": {
        "var_r": 0.00153499935,
        "var_tr": 0.00020040252,
        "cov1": 0.00034661371,
        "cov2": 0.00034407483,
        "cov3": 0.00023902837,
        "var_error": 0.00080228827,
    },
    # IndividualTrt: msREachTrt, varEachTrt, cov2EachTrt
    "per_modality": {
        "0": {"ms_r": 0.0030826287, "var_error": 0.00101410277, "cov2": 0.00048396180},
        "1": {"ms_r": 0.0013046019, "var_error": 0.00059047376, "cov2": 0.00020418785},
    },
    # RRRC$FTests, RRRC$ciDiffTrt
    "rrrc": {"f": 4.4563187, "ndf": 1, "ddf": 15.259675, "p": 0.051665686, "low": -0.087959499, "high": 0.00035885444},
    # RRRC$ciAvgRdrEachTrt
    "rrrc_each": {
        "0": {"se": 0.033173597, "df": 12.744648, "low": 0.82522360, "high": 0.96885048},
        "1": {"se": 0.021566368, "df": 12.710190, "low": 0.89413783, "high": 0.98753689},
    },
    # FRRC$FTests, FRRC$ciDiffTrt
    "frrc": {"chisq": 5.4759532, "p": 0.019279843, "se": 0.018717483, "low": -0.080485914, "high": -0.0071147303},
    # FRRC$ciAvgRdrEachTrt
    "frrc_each": {
        "0": {"se": 0.024289710, "low": 0.84943008, "high": 0.94464399},
        "1": {"se": 0.016776324, "low": 0.90795637, "high": 0.97371835},
    },
}

# MRMCaov, summary(mrmc(empirical_auc(truth, rating), treatment, reader, case, data = VanDyke, cov = DeLong)),
# as printed in brian-j-smith/MRMCaov, docs/jss/MRMCaov.tex ("Covariance Estimation Methods"). Its
# treatments 1 and 2 are modalities 0 and 1 here.
MRMCAOV_DELONG = {
    "variance_components": {
        "var_r": 0.0015364254,
        "var_tr": 0.0002045840,
        "cov1": 0.0003420090,
        "cov2": 0.0003395265,
        "cov3": 0.0002358497,
        "var_error": 0.0007921325,
    },
    "rrrc": {
        "f": 4.484854,
        "ddf": 15.06611,
        "p": 0.05123303,
        "se": 0.0206825,
        "low": -0.0878671960,
        "high": 0.0002665519,
    },
    "rrrc_each": {
        "0": {"cov2": 0.0004775239, "se": 0.03307642, "df": 12.59597, "low": 0.8253461, "high": 0.9687280},
        "1": {"cov2": 0.0002015292, "se": 0.02150464, "df": 12.56530, "low": 0.8942155, "high": 0.9874592},
    },
}


@pytest.fixture(scope="module")
def van_dyke():
    return read_ratings(VAN_DYKE)


@pytest.fixture(scope="module")
def jackknife(van_dyke):
    return or_hillis(van_dyke)


def by_modality(result):
    return {modality["modality"]: modality for modality in result["modalities"]}


def assert_close(actual, published, label):
    for name, value in published.items():
        assert actual[name] == pytest.approx(value, rel=CLOSE), f"{label} {name}"


def test_van_dyke_jackknife_equals_rjafroc(jackknife):
    """Every number of dpc10ster/RJafrocBook docs/10C-OR-AnalysisApplications.md for dataset02 (OR, RJafroc)."""
    modalities = by_modality(jackknife)
    assert (jackknife["n_readers"], jackknife["n_cases"], jackknife["n_positive"], jackknife["n_negative"]) == (
        5,
        114,
        45,
        69,
    )
    for name, reader_aucs in RJAFROC_READER_AUCS.items():
        assert list(modalities[name]["readers"]) == ["0", "1", "2", "3", "4"]
        assert list(modalities[name]["readers"].values()) == pytest.approx(reader_aucs, rel=CLOSE)
        assert modalities[name]["auc"] == pytest.approx(RJAFROC["auc"][name], rel=CLOSE)
        assert_close(modalities[name], RJAFROC["per_modality"][name], f"modality {name}")
        assert_close(modalities[name]["rrrc"], RJAFROC["rrrc_each"][name], f"RRRC modality {name}")
        assert_close(modalities[name]["frrc"], RJAFROC["frrc_each"][name], f"FRRC modality {name}")
    assert_close(jackknife["variance_components"], RJAFROC["variance_components"], "variance components")
    assert_close(jackknife["mean_squares"], RJAFROC["mean_squares"], "mean squares")
    [comparison] = jackknife["comparisons"]
    assert (comparison["modality_a"], comparison["modality_b"]) == ("0", "1")
    assert comparison["difference"] == pytest.approx(RJAFROC["difference"], rel=CLOSE)
    assert_close(comparison["rrrc"], RJAFROC["rrrc"], "RRRC comparison")
    assert_close(comparison["frrc"], RJAFROC["frrc"], "FRRC comparison")
    # With two modalities the pairwise tests are the global ones.
    assert jackknife["global_test"]["rrrc"]["p"] == pytest.approx(RJAFROC["rrrc"]["p"], rel=CLOSE)
    assert jackknife["global_test"]["frrc"]["chisq"] == pytest.approx(RJAFROC["frrc"]["chisq"], rel=CLOSE)


def test_van_dyke_delong_equals_mrmcaov(van_dyke):
    """brian-j-smith/MRMCaov docs/jss/MRMCaov.tex: ``cov = DeLong`` variance components, F test, CIs."""
    result = or_hillis(van_dyke, covariance="delong")
    assert_close(result["variance_components"], MRMCAOV_DELONG["variance_components"], "variance components")
    assert_close(result["comparisons"][0]["rrrc"], MRMCAOV_DELONG["rrrc"], "RRRC comparison")
    for name, modality in by_modality(result).items():
        published = MRMCAOV_DELONG["rrrc_each"][name]
        assert modality["cov2"] == pytest.approx(published.pop("cov2"), rel=CLOSE)
        assert_close(modality["rrrc"], published, f"RRRC modality {name}")


def test_single_modality_analysis_uses_only_that_modality(van_dyke, jackknife):
    """As MRMCaov and RJafroc say of their single-treatment CIs: each is based only on its own data."""
    for name, expected in by_modality(jackknife).items():
        alone = or_hillis(van_dyke[van_dyke["modality"] == name].drop(columns="modality"))
        assert alone["comparisons"] == [] and alone["global_test"] is None
        [modality] = alone["modalities"]
        assert modality["modality"] == "0"
        for key in ("rrrc", "frrc"):
            assert modality[key] == pytest.approx(expected[key], rel=1e-12)
        components = alone["variance_components"]
        assert math.isnan(components["cov1"]) and math.isnan(components["var_tr"])
        assert components["cov2"] == pytest.approx(expected["cov2"], rel=1e-12)
    # The p of AUC = 0.5 is the two-sided t on Hillis' single-modality df.
    modality = by_modality(jackknife)["0"]["rrrc"]
    t = (by_modality(jackknife)["0"]["auc"] - 0.5) / modality["se"]
    assert modality["p_vs_half"] == pytest.approx(2 * stats.t.sf(t, modality["df"]), rel=1e-12)


def test_closed_form_jackknife_equals_leaving_each_case_out():
    rng = np.random.default_rng(7)
    truth = np.r_[np.ones(9, dtype=int), np.zeros(12, dtype=int)]
    scores = np.rint(rng.normal(size=(4, truth.size)) + truth + 3)
    aucs, v10, v01 = placement_values(truth, scores)
    left_out = np.array(
        [[auc(np.delete(truth, case), np.delete(row, case)) for case in range(truth.size)] for row in scores]
    )
    n_cases = truth.size
    deviations = left_out - left_out.mean(axis=1, keepdims=True)
    expected = (n_cases - 1) / n_cases * deviations @ deviations.T
    np.testing.assert_allclose(jackknife_covariance(aucs, v10, v01), expected, rtol=1e-12)


def test_three_modalities_give_three_comparisons_on_the_global_error_term():
    ratings = simulate(4, 20, 15, seed=11, n_modalities=3, mu=(1.0, 1.5, 2.0))
    result = or_hillis(ratings)
    pairs = [(c["modality_a"], c["modality_b"]) for c in result["comparisons"]]
    assert pairs == [("0", "1"), ("0", "2"), ("1", "2")]
    aucs = {m["modality"]: m["auc"] for m in result["modalities"]}
    for comparison in result["comparisons"]:
        difference = aucs[comparison["modality_a"]] - aucs[comparison["modality_b"]]
        assert comparison["difference"] == pytest.approx(difference)
        assert comparison["rrrc"]["ddf"] == result["global_test"]["rrrc"]["ddf"]
        assert comparison["rrrc"]["se"] == result["comparisons"][0]["rrrc"]["se"]
    assert result["global_test"]["rrrc"]["ndf"] == 2
    json.dumps(result)  # JSON-able as it stands: plain floats, ints and strings


def test_perfect_readers_give_nan_intervals_not_an_exception():
    truth = np.r_[np.ones(5, dtype=int), np.zeros(5, dtype=int)]
    result = or_hillis_array(np.tile(truth * 2.0, (1, 3, 1)), truth)
    [modality] = result["modalities"]
    assert modality["auc"] == 1.0 and modality["rrrc"]["se"] == 0.0 and math.isnan(modality["rrrc"]["df"])


@pytest.mark.slow
def test_null_rejection_rate_of_roe_metz_studies():
    """500 seeded Roe & Metz (1997) HL2 studies, 5 readers x 50 + 50 cases: the RRRC tests reject at 2-8%.

    Single modality with mu = 0 (AUC 0.5): Hillis' single-test t of AUC = 0.5; two modalities with the
    same mu: the F test of equal AUCs.
    """
    structure = {**STRUCTURES["HL2"], "mu": 0.0}
    single = [
        or_hillis(simulate(5, 50, 50, seed, **structure))["modalities"][0]["rrrc"]["p_vs_half"] for seed in range(500)
    ]
    paired = [
        or_hillis(simulate(5, 50, 50, 1000 + seed, n_modalities=2, **STRUCTURES["HL2"]))["comparisons"][0]["rrrc"]["p"]
        for seed in range(500)
    ]
    single_rate, paired_rate = np.mean(np.array(single) < 0.05), np.mean(np.array(paired) < 0.05)
    assert 0.02 <= single_rate <= 0.08, single_rate
    assert 0.02 <= paired_rate <= 0.08, paired_rate


def test_roe_metz_simulation_is_seeded_and_centred_on_its_auc():
    first = simulate(3, 4, 5, seed=1, n_modalities=2)
    assert first.equals(simulate(3, 4, 5, seed=1, n_modalities=2))
    assert not first.equals(simulate(3, 4, 5, seed=2, n_modalities=2))
    assert list(first.columns) == ["reader", "case", "truth", "score", "modality"]
    assert len(first) == 3 * 9 * 2 and first.groupby("case")["truth"].nunique().eq(1).all()
    # A random reader's expected AUC is Phi(mu / sqrt(2 V)), V the sum of the variances.
    structure = STRUCTURES["LH2"]
    total = sum(value for name, value in structure.items() if name.startswith("var"))
    expected = stats.norm.cdf(structure["mu"] / math.sqrt(2 * total))
    ratings = simulate(40, 400, 400, seed=3, n_modalities=2, **structure)
    reader_aucs = [auc(part["truth"], part["score"]) for _, part in ratings.groupby(["modality", "reader"])]
    assert np.mean(reader_aucs) == pytest.approx(expected, abs=0.01)
    with pytest.raises(ValueError, match="negative"):
        simulate(3, 4, 5, seed=1, var_c=-1)


# ------------------------------------------------------------------------------------------ score mapping


def test_synthetic_score_mapping():
    assert synthetic_scores(["real"] * 5, [5, 4, 3, 2, 1]).tolist() == [1, 2, 3, 4, 5]
    assert synthetic_scores(["synthetic"] * 5, [1, 2, 3, 4, 5]).tolist() == [6, 7, 8, 9, 10]
    assert synthetic_scores(["real", "synthetic"]).tolist() == [1, 2]
    answers = pd.Series(["real", "synthetic", "real"], index=[10, 11, 12])
    scores = synthetic_scores(answers, [5, 5, 1])
    assert scores.tolist() == [1, 10, 5] and scores.index.tolist() == [10, 11, 12]
    assert synthetic_scores(answers).tolist() == [1, 2, 1]
    for bad in ((["maybe"], None), (["real"], [6]), (["real", "real"], [1, None])):
        with pytest.raises(ValueError):
            synthetic_scores(*bad)
    with pytest.raises(ValueError):
        synthetic_scores(["real"], [0])


def test_two_level_score_auc_is_the_balanced_accuracy():
    ratings = golden_ratings()
    for _, part in ratings.groupby("rater"):
        truth = (part["truth"] == "synthetic").astype(int)
        assert auc(truth, synthetic_scores(part["answer"])) == pytest.approx(
            turing_summary(part)["balanced_accuracy"], abs=1e-12
        )


# ------------------------------------------------------------------------------------------- bad input


def small_study():
    return simulate(3, 4, 4, seed=0, n_modalities=2)


def drop_one(frame, **where):
    mask = np.logical_and.reduce([frame[column] == value for column, value in where.items()])
    return frame[~mask]


BAD_STUDIES = {
    "missing column": (lambda f: f.drop(columns="score"), "lack the column(s) score"),
    "truth not 0/1": (lambda f: f.assign(truth=f["truth"].replace({1: 2})), "truth must be 1"),
    "no score": (lambda f: f.assign(score=f["score"].where(f.index != 3)), "score must be a finite number"),
    "reader without positives": (
        lambda f: f[(f["reader"] != "reader1") | (f["truth"] == 0)],
        "reader reader1 rated no positive case",
    ),
    "case under one modality": (
        lambda f: drop_one(f, case="case2", modality="1"),
        "case case2 is rated under modality 0 only",
    ),
    "case not rated by every reader": (
        lambda f: drop_one(f, case="case2", reader="reader3"),
        "case case2 is not rated by every reader",
    ),
    "one reader": (lambda f: f[f["reader"] == "reader1"], "need at least 2 readers"),
    "duplicate": (lambda f: pd.concat([f, f.iloc[[5]]]), "1 duplicate rating"),
    "case with both truths": (
        lambda f: f.assign(truth=np.where((f["case"] == "case1") & (f["modality"] == "1"), 1, f["truth"])),
        "case case1 has both truth 0 and 1",
    ),
    "one positive case": (lambda f: f[f["case"].isin(["case1", "case2", "case5"])], "2 positive and 2 negative"),
}


@pytest.mark.parametrize("name", BAD_STUDIES)
def test_bad_input_raises_one_line(name):
    change, message = BAD_STUDIES[name]
    with pytest.raises(MRMCInputError, match=re.escape(message)) as raised:
        or_hillis(change(small_study()))
    assert "\n" not in str(raised.value)


def test_bad_arguments_raise():
    with pytest.raises(MRMCInputError, match="covariance"):
        or_hillis(small_study(), covariance="bootstrap")
    with pytest.raises(MRMCInputError, match="alpha"):
        or_hillis(small_study(), alpha=1.5)


# ------------------------------------------------------------------------------------------------- CLI


def run(capsys, *arguments):
    code = main(["mrmc", *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_json_is_the_library_result(capsys, jackknife):
    code, out, err = run(capsys, str(VAN_DYKE), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert {"modalities", "comparisons", "variance_components"} <= set(report)
    assert report["comparisons"][0]["rrrc"]["p"] == pytest.approx(RJAFROC["rrrc"]["p"], rel=CLOSE)
    assert report["modalities"][0]["readers"]["4"] == pytest.approx(RJAFROC_READER_AUCS["0"][4], rel=CLOSE)
    assert set(report["modalities"][0]["rrrc"]) >= {"se", "df", "low", "high", "p_vs_half"}
    code, out, err = run(capsys, str(VAN_DYKE), "--json", "--covariance", "delong", "--alpha", "0.1")
    assert code == 0, err
    report = json.loads(out)
    assert report["variance_components"]["var_error"] == pytest.approx(0.0007921325, rel=CLOSE)
    assert report["alpha"] == 0.1


def test_cli_json_writes_non_finite_numbers_as_strings(tmp_path, capsys):
    path = tmp_path / "one_modality.csv"
    simulate(3, 5, 5, seed=0).drop(columns="modality").to_csv(path, index=False)
    code, out, err = run(capsys, str(path), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["comparisons"] == [] and report["variance_components"]["cov1"] == "nan"


def test_cli_table(capsys):
    code, out, err = run(capsys, str(VAN_DYKE))
    assert code == 0, err
    assert "jackknife covariance: 5 readers, 114 cases (45 positive, 69 negative)" in out
    assert any(line.split()[:2] == ["0", "0.8970"] for line in out.splitlines())
    comparison = next(line for line in out.splitlines() if line.startswith("0 - 1"))
    assert comparison.split()[3:6] == ["-0.0438", "-0.0880", "to"] and "15.26" in comparison


@pytest.mark.parametrize("name", BAD_STUDIES)
def test_cli_bad_input_exits_2_with_one_line(name, tmp_path, capsys):
    change, message = BAD_STUDIES[name]
    path = tmp_path / "ratings.csv"
    change(small_study()).to_csv(path, index=False)
    code, out, err = run(capsys, str(path))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize("content", [None, b"", b"\xff\xfe\x00garbage\x00\n\x81"])
def test_cli_unreadable_file_exits_2(content, tmp_path, capsys):
    path = tmp_path / "ratings.csv"
    if content is not None:
        path.write_bytes(content)
    code, out, err = run(capsys, str(path))
    assert code == 2 and out == ""
    assert err.startswith("error: cannot read the ratings file") and err.count("\n") == 1


def test_cli_subprocess():
    completed = subprocess.run(
        [sys.executable, "-m", "evaluation", "mrmc", str(VAN_DYKE), "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["comparisons"][0]["rrrc"]["ddf"] == pytest.approx(15.259675, rel=CLOSE)
