"""`evaluation.mrmc_power`: the Hillis-Obuchowski-Berbaum (2011) OR power method against RJafroc's published
numbers for the Van Dyke data (dataset02), by simulation against `or_hillis`, and the ``mrmc-power`` command.

The Van Dyke OR components (Wilcoxon AUC, jackknife covariances, K* = 114 cases, 5 readers) are the ones
RJafroc prints (``UtilORVarComponentsFactorial(dataset02, FOM = "Wilcoxon", covEstMethod = "jackknife")`` in the
dpc10ster/RJafrocBook OR chapters) and MRMCaov prints too (brian-j-smith/MRMCaov README.md, ``summary(mrmc(...,
data = VanDyke))``):
VarR 0.0015349993, VarTR 0.0002004025, Cov1 0.0003466137, Cov2 0.0003440748, Cov3 0.0002390284,
Var 0.0008022883. Its observed AUC difference trt0 - trt1 is -0.043800322.
"""

import json
import math

import numpy as np
import pytest
from scipy import stats

from evaluation.cli import main, parse_readers
from evaluation.mrmc import or_hillis
from evaluation.mrmc_power import COMPONENT_KEYS, power, sample_size_table
from evaluation.roe_metz import STRUCTURES, simulate

VAN_DYKE = {
    "var_r": 0.0015349993,
    "var_tr": 0.0002004025,
    "cov1": 0.0003466137,
    "cov2": 0.0003440748,
    "cov3": 0.0002390284,
    "var_error": 0.0008022883,
}
VAN_DYKE_CASES = 114
VAN_DYKE_EFFECT = -0.043800322


def test_power_given_readers_and_cases_matches_rjafroc_book():
    """dpc10ster/RJafrocBook 14-SampleSize4.md, ``SsPowerGivenJK(dataset02, FOM = "Wilcoxon", J = 6, K = 251,
    method = "ORH", option = "RRRC")`` (observed effect size): power 0.8005403, ncp 8.91, ddf 16.1, F 4.49."""
    result = power(VAN_DYKE_EFFECT, 6, 251, VAN_DYKE, VAN_DYKE_CASES)
    assert result["power"] == pytest.approx(0.8005403, abs=5e-7)
    assert result["ncp"] == pytest.approx(8.91, abs=5e-3)
    assert result["ddf"] == pytest.approx(16.1, abs=5e-2)
    assert result["f_critical"] == pytest.approx(4.49, abs=5e-3)
    assert result["ndf"] == 1


def test_power_matches_rjafroc_unit_tests():
    """dpc10ster/RJafroc tests/testthat/test-SsSampleSizeRoc.R ("after updating Ss routines from Hillis 2011 and
    2018 papers"): ``SsPowerGivenJK(dataset02, method = "OR", effectSize = -0.043800322, ...)`` gives RRRC J=10 K=165
    0.80541995, FRRC J=10 K=131 0.80091813 (χ² test, Hillis 2011 Table 2), RRFC J=10 K=53 0.80496663; and
    ``SsPowerGivenJK(dataset02, J = 6, K = 111)`` RRRC 0.5526116."""
    assert power(VAN_DYKE_EFFECT, 10, 165, VAN_DYKE, VAN_DYKE_CASES)["power"] == pytest.approx(0.80541995, abs=5e-7)
    frrc = power(VAN_DYKE_EFFECT, 10, 131, VAN_DYKE, VAN_DYKE_CASES, analysis="frrc")
    assert frrc["power"] == pytest.approx(0.80091813, abs=5e-7)
    assert math.isinf(frrc["ddf"])
    rrfc = power(VAN_DYKE_EFFECT, 10, 53, VAN_DYKE, VAN_DYKE_CASES, analysis="rrfc")
    assert rrfc["power"] == pytest.approx(0.80496663, abs=5e-7)
    assert rrfc["ddf"] == 9
    # the RJafrocRocBook 16-roc-sample-size-or.md "open" RRFC example prints ncp 10.048716 for the same design
    assert rrfc["ncp"] == pytest.approx(10.048716, rel=1e-5)
    assert power(VAN_DYKE_EFFECT, 6, 111, VAN_DYKE, VAN_DYKE_CASES)["power"] == pytest.approx(0.5526116, abs=5e-7)


def test_power_table_matches_rjafroc_book():
    """dpc10ster/RJafrocBook 14-SampleSize4.md, ``SsPowerTable(dataset02, FOM = "Wilcoxon", method = "ORH",
    option = "RRRC")``: readers 3..20 need >2000, 1089, 344, 251, 211, 188, 173, 163, 155, 149, 144, 140, 137,
    134, 131, 129, 127, 126 cases for power 0.8 (powers printed to 3 significant digits)."""
    published = {
        3: (None, None), 4: (1089, 0.8), 5: (344, 0.801), 6: (251, 0.801), 7: (211, 0.801), 8: (188, 0.801),
        9: (173, 0.801), 10: (163, 0.802), 11: (155, 0.801), 12: (149, 0.802), 13: (144, 0.801),
        14: (140, 0.802), 15: (137, 0.802), 16: (134, 0.802), 17: (131, 0.801), 18: (129, 0.801),
        19: (127, 0.801), 20: (126, 0.802),
    }
    table = sample_size_table(VAN_DYKE_EFFECT, VAN_DYKE, VAN_DYKE_CASES, readers=range(3, 21))
    assert [row["n_readers"] for row in table] == list(published)
    for row in table:
        cases, rounded_power = published[row["n_readers"]]
        assert row["n_cases"] == cases, row
        if cases is not None:
            assert float(f"{row['power']:.3g}") == rounded_power, row


def test_cases_for_ten_readers_match_rjafroc_book():
    """dpc10ster/RJafrocBook 14-SampleSize4.md (ORH) and docs/13-SampleSize3.md (DBMH, same numbers),
    ``SsSampleSizeKGivenJ(dataset02, FOM = "Wilcoxon", J = 10)``: RRRC 163 cases, power 0.8015625;
    desiredPower = 0.9: 236 cases, power 0.9003501; RRFC 53 cases, power 0.8049666. (The books' FRRC 133 cases
    came from the pre-2011 F(1, K-1) reference; Hillis 2011's χ² test, as RJafroc now uses, needs 131.)"""
    (rrrc,) = sample_size_table(VAN_DYKE_EFFECT, VAN_DYKE, VAN_DYKE_CASES, readers=[10])
    assert (rrrc["n_cases"], round(rrrc["power"], 7)) == (163, 0.8015626)  # book: 0.8015625 (inputs rounded)
    assert rrrc["power"] == pytest.approx(0.8015625, abs=2e-7)
    (high,) = sample_size_table(VAN_DYKE_EFFECT, VAN_DYKE, VAN_DYKE_CASES, readers=[10], target=0.9)
    assert high["n_cases"] == 236
    assert high["power"] == pytest.approx(0.9003501, abs=5e-7)
    (rrfc,) = sample_size_table(VAN_DYKE_EFFECT, VAN_DYKE, VAN_DYKE_CASES, readers=[10], analysis="rrfc")
    assert rrfc["n_cases"] == 53
    assert rrfc["power"] == pytest.approx(0.8049666, abs=5e-7)
    (frrc,) = sample_size_table(VAN_DYKE_EFFECT, VAN_DYKE, VAN_DYKE_CASES, readers=[10], analysis="frrc")
    assert frrc["n_cases"] == 131  # RJafroc test-SsSampleSizeRoc.R: J = 10, K = 131 gives FRRC power 0.80091813


def test_cases_for_six_readers_match_rjafroc_tests():
    """dpc10ster/RJafroc tests/testthat/test-SsSampleSizeRoc.R: ``SsSampleSizeKGivenJ(dataset02, J = 6,
    FOM = "Wilcoxon", method = "OR")$KRRRC`` is 251 (and ``SsPowerTable`` prints power 0.801 for it)."""
    (row,) = sample_size_table(VAN_DYKE_EFFECT, VAN_DYKE, VAN_DYKE_CASES, readers=[6])
    assert row["n_cases"] == 251
    assert round(row["power"], 3) == 0.801


def test_properties_of_the_method():
    """Sanity checks that follow from the formulas (Hillis et al. 2011): no effect gives power alpha, the sign
    of the effect does not matter, the error terms scale as pilot_cases / n_cases, and clipped components
    behave as zeros."""
    assert power(0.0, 5, 100, VAN_DYKE, VAN_DYKE_CASES)["power"] == pytest.approx(0.05)
    assert power(0.05, 5, 100, VAN_DYKE, VAN_DYKE_CASES)["power"] == pytest.approx(
        power(-0.05, 5, 100, VAN_DYKE, VAN_DYKE_CASES)["power"])
    # doubling both the pilot and the planned case counts changes nothing
    assert power(0.05, 5, 100, VAN_DYKE, VAN_DYKE_CASES)["power"] == pytest.approx(
        power(0.05, 5, 200, VAN_DYKE, 2 * VAN_DYKE_CASES)["power"])
    negative = {**VAN_DYKE, "var_tr": -0.001, "cov3": VAN_DYKE["cov2"] + 0.001}
    zeroed = {**VAN_DYKE, "var_tr": 0.0, "cov3": VAN_DYKE["cov2"]}
    assert power(0.05, 5, 100, negative, VAN_DYKE_CASES) == power(0.05, 5, 100, zeroed, VAN_DYKE_CASES)
    # more readers or more cases never hurt here
    powers = [power(0.05, r, 100, VAN_DYKE, VAN_DYKE_CASES)["power"] for r in range(2, 12)]
    assert powers == sorted(powers)


def test_vs_half_is_the_single_modality_analogue():
    """The one-modality test of AUC = 0.5 (Hillis 2007 single-test OR df, as in MRMCaov R/mrmc_tests.R
    ``summary.mrmc_tests_rrrc``: SE² = MS(R)/r + max(Cov2, 0)): with var_r + var_tr and cov2 in the places of
    var_tr and cov2 - cov3, no cov1, and r·e² for (r/2)·d², it equals the difference formula on mapped inputs."""
    mapped = {"var_r": 0.0, "var_tr": VAN_DYKE["var_r"] + VAN_DYKE["var_tr"], "cov1": 0.0,
              "cov2": VAN_DYKE["cov2"], "cov3": 0.0, "var_error": VAN_DYKE["var_error"]}
    for analysis in ("rrrc", "frrc", "rrfc"):
        single = power(0.07, 6, 80, VAN_DYKE, VAN_DYKE_CASES, test="vs_half", analysis=analysis)
        paired = power(0.07 * math.sqrt(2), 6, 80, mapped, VAN_DYKE_CASES, analysis=analysis)
        for key in ("power", "ncp", "ddf", "f_critical"):
            assert single[key] == pytest.approx(paired[key]), (analysis, key)
    # by hand, RRRC: D = σ²_R1 + (c*/c)(σ² + (r-1)Cov2), ddf = D²(r-1)/(σ²_R1 + (c*/c)(σ² - Cov2))²
    s = VAN_DYKE_CASES / 80
    reader = VAN_DYKE["var_r"] + VAN_DYKE["var_tr"]
    d = reader + s * (VAN_DYKE["var_error"] + 5 * VAN_DYKE["cov2"])
    single = power(0.07, 6, 80, VAN_DYKE, VAN_DYKE_CASES, test="vs_half")
    assert single["ncp"] == pytest.approx(6 * 0.07**2 / d)
    assert single["ddf"] == pytest.approx(d**2 * 5 / (reader + s * (VAN_DYKE["var_error"] - VAN_DYKE["cov2"])) ** 2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="test"):
        power(0.05, 5, 100, VAN_DYKE, VAN_DYKE_CASES, test="paired")
    with pytest.raises(ValueError, match="2 readers"):
        power(0.05, 1, 100, VAN_DYKE, VAN_DYKE_CASES)
    with pytest.raises(ValueError, match="cov2"):
        power(0.05, 5, 100, {k: v for k, v in VAN_DYKE.items() if k != "cov2"}, VAN_DYKE_CASES)
    with pytest.raises(ValueError, match="non-positive"):
        power(0.05, 5, 100, {**VAN_DYKE, "var_tr": 0.0, "var_error": VAN_DYKE["cov1"], "cov3": 1.0}, VAN_DYKE_CASES)
    assert parse_readers("2-4,10, 3") == [2, 3, 4, 10]
    with pytest.raises(ValueError):
        parse_readers("five")


# ------------------------------------------------------------------------------------------ simulation

HL2 = {name: value for name, value in STRUCTURES["HL2"].items() if name != "mu"}


def true_auc(mu, structure=HL2):
    """Population mean AUC of the Roe-Metz model: the positive-minus-negative score of a random reader has
    mean ``mu`` and variance ``2 * (sum of all six variances)``, so E[AUC] = Phi(mu / sqrt(2 * sum))."""
    return float(stats.norm.cdf(mu / math.sqrt(2 * sum(structure.values()))))


def mean_components(results):
    return {key: float(np.mean([result["variance_components"][key] for result in results])) for key in COMPONENT_KEYS}


def binomial_tolerance(p, n):
    return 3 * math.sqrt(p * (1 - p) / n)


@pytest.mark.slow
def test_predicted_power_matches_simulated_rejection_rate():
    """Hillis et al. 2011 (Acad Radiol 18:129, simulation section) check that power predicted from pilot
    components matches the true power; likewise here: Roe & Metz's HL2 structure (evaluation.roe_metz), AUCs
    0.855 and 0.931 (mu 1.5 and 2.1). Components are the mean of `or_hillis` over 20 pilots of 5 readers x
    200 cases, scaled to the planned 5 readers x 80 cases (c*/c = 2.5); the prediction must lie within 3
    binomial SEs of the rate at which 300 simulated studies reject in `or_hillis`'s RRRC test
    (seeded; predicted 0.644, empirical 0.677 when written)."""
    mus = [1.5, 2.1]
    effect = true_auc(mus[1]) - true_auc(mus[0])
    pilots = [or_hillis(simulate(5, 100, 100, 10_000 + seed, n_modalities=2, mu=mus, **HL2)) for seed in range(20)]
    predicted = power(effect, 5, 80, mean_components(pilots), 200)["power"]
    studies = [or_hillis(simulate(5, 40, 40, seed, n_modalities=2, mu=mus, **HL2)) for seed in range(300)]
    rejected = np.mean([study["comparisons"][0]["rrrc"]["p"] < 0.05 for study in studies])
    assert 0.5 < predicted < 0.8
    assert abs(rejected - predicted) < binomial_tolerance(predicted, len(studies)), (predicted, rejected)
    # the true effect is what the studies estimate (modality "0" minus "1" is negative here)
    assert -np.mean([study["comparisons"][0]["difference"] for study in studies]) == pytest.approx(effect, abs=0.005)


@pytest.mark.slow
def test_predicted_vs_half_power_matches_simulated_rejection_rate():
    """The single-modality test of AUC = 0.5 (`or_hillis`'s per-modality RRRC ``p_vs_half``, Hillis 2007's
    single-test df) against the `power(..., test="vs_half")` prediction, as above: one modality, HL2 variances,
    mu = 0.4 (AUC 0.61), components from 20 one-modality pilots of 5 readers x 200 cases, 300 studies of
    5 readers x 80 cases; within 3 binomial SEs (predicted 0.535, empirical 0.48 when written)."""
    mu = 0.4
    effect = true_auc(mu) - 0.5
    pilots = [or_hillis(simulate(5, 100, 100, 20_000 + seed, mu=mu, **HL2)) for seed in range(20)]
    components = mean_components(pilots)
    assert math.isnan(components["var_tr"])  # one modality: reader x modality variance not separable
    predicted = power(effect, 5, 80, components, 200, test="vs_half")["power"]
    studies = [or_hillis(simulate(5, 40, 40, 30_000 + seed, mu=mu, **HL2)) for seed in range(300)]
    rejected = np.mean([study["modalities"][0]["rrrc"]["p_vs_half"] < 0.05 for study in studies])
    assert 0.35 < predicted < 0.75
    assert abs(rejected - predicted) < binomial_tolerance(predicted, len(studies)), (predicted, rejected)


# --------------------------------------------------------------------------------------------------- CLI


@pytest.fixture
def van_dyke_json(tmp_path):
    path = tmp_path / "van_dyke.json"
    path.write_text(json.dumps({**VAN_DYKE, "pilot_cases": VAN_DYKE_CASES}))
    return path


def run(capsys, *arguments):
    code = main(["mrmc-power", *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_table_from_published_components(van_dyke_json, capsys):
    """The RJafrocBook 14-SampleSize4.md power table again, through ``--components`` (as JSON and as text)."""
    code, out, err = run(capsys, "--components", str(van_dyke_json), "--effect", str(VAN_DYKE_EFFECT),
                         "--readers", "3-6,10", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert [(row["n_readers"], row["n_cases"]) for row in report["table"]] == [
        (3, None), (4, 1089), (5, 344), (6, 251), (10, 163)]
    assert report["pilot"]["pilot_cases"] == VAN_DYKE_CASES
    code, out, err = run(capsys, "--components", str(van_dyke_json), "--effect", str(VAN_DYKE_EFFECT),
                         "--readers", "3,6")
    assert code == 0, err
    lines = out.splitlines()
    assert any(line.split()[:2] == ["3", ">2000"] for line in lines)
    assert any(line.split()[:3] == ["6", "251", "0.801"] for line in lines)


def test_cli_power_of_one_design(van_dyke_json, capsys):
    """``SsPowerGivenJK(..., J = 6, K = 251, method = "ORH")`` = 0.8005403 (RJafrocBook 14-SampleSize4.md)."""
    code, out, err = run(capsys, "--components", str(van_dyke_json), "--effect", "0.043800322",
                         "--n-readers", "6", "--n-cases", "251", "--json")
    assert code == 0, err
    assert json.loads(out)["design"]["power"] == pytest.approx(0.8005403, abs=5e-7)
    code, out, err = run(capsys, "--components", str(van_dyke_json), "--effect", "0.0438",
                         "--n-readers", "6", "--n-cases", "251")
    assert code == 0 and "power 0.80" in out


def test_cli_from_a_pilot_ratings_csv(tmp_path, capsys):
    """A pilot CSV goes through `or_hillis` (same components as calling it directly) into the table; with
    ``--test vs_half --modality`` that modality's own one-modality components are used."""
    frame = simulate(4, 30, 30, 7, n_modalities=2, mu=[1.5, 1.9], **HL2)
    path = tmp_path / "pilot.csv"
    frame.to_csv(path, index=False)
    expected = or_hillis(frame)
    code, out, err = run(capsys, str(path), "--effect", "0.05", "--readers", "4,8", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["pilot"]["pilot_cases"] == 60 and report["pilot"]["n_readers"] == 4
    for key in COMPONENT_KEYS:
        assert report["pilot"]["components"][key] == pytest.approx(expected["variance_components"][key])
    table = sample_size_table(0.05, expected["variance_components"], 60, readers=[4, 8])
    assert report["table"] == table
    code, out, err = run(capsys, str(path), "--effect", "0.3", "--test", "vs_half", "--modality", "1",
                         "--n-readers", "4", "--n-cases", "60", "--json")
    assert code == 0, err
    single = expected["modalities"][1]
    mine = {"var_r": single["ms_r"] - single["var_error"] + single["cov2"], "cov2": single["cov2"],
            "var_error": single["var_error"]}
    assert json.loads(out)["design"]["power"] == pytest.approx(power(0.3, 4, 60, mine, 60, test="vs_half")["power"])
    code, out, err = run(capsys, str(path), "--effect", "0.05", "--n-readers", "6", "--n-cases", "120")
    assert code == 0 and "6 readers x 120 cases: power" in out, err


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--effect", "0.05"], "either"),
        (["--components", "{json}", "--effect", "0.05", "--n-readers", "5"], "together"),
        (["--components", "{json}", "--effect", "0.05", "--readers", "two"], "--readers"),
        (["--components", "{json}", "--effect", "0.05", "--target", "1.5"], "target"),
        (["--components", "{missing}", "--effect", "0.05"], "No such file"),
        (["--components", "{bad}", "--effect", "0.05"], "lack"),
        (["{csv}", "--effect", "0.05"], "column"),
        (["{one}", "--effect", "0.05"], "two or more modalities"),
        (["{one}", "--effect", "0.05", "--modality", "0"], "vs_half only"),
        (["{one}", "--effect", "0.05", "--test", "vs_half", "--modality", "9"], "no modality"),
        (["{tmp}/absent.csv", "--effect", "0.05"], "absent.csv"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(arguments, message, van_dyke_json, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"var_r": 0.001, "pilot_cases": 50}))
    csv = tmp_path / "ratings.csv"
    csv.write_text("reader,case,score\n1,1,0.5\n")
    one = tmp_path / "one_modality.csv"
    simulate(3, 10, 10, 1).drop(columns="modality").to_csv(one, index=False)
    names = {"json": van_dyke_json, "missing": tmp_path / "nope.json", "bad": bad, "csv": csv, "one": one,
             "tmp": tmp_path}
    code, out, err = run(capsys, *(argument.format(**names) for argument in arguments))
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and message in err, err
