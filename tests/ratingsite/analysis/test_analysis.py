"""The analysis page, its plots and exports, and ``export_report``, on a study rated by three raters."""

import io
import re
import zipfile
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PILImage

from evaluation.lbp import lbp_histograms
from evaluation.mrmc import or_hillis
from evaluation.repeatability import RELIABILITY_COLUMNS
from ratingsite.accounts.models import RaterProfile
from ratingsite.analysis.data import REPEAT_COLUMNS, rater_label
from ratingsite.imagesets.importing import import_image_set
from ratingsite.metrics.models import Evaluation, ImageScore
from ratingsite.studies.models import Rating, Study, StudyItem
from tests.factories import (
    EvaluationFactory,
    ImageScoreFactory,
    ImageSetFactory,
    ParticipationFactory,
    RaterFactory,
    RatingFactory,
    ResearcherFactory,
    StudyFactory,
    StudyItemFactory,
    StudySourceFactory,
)
from tests.images import png_bytes

pytestmark = pytest.mark.django_db

SYNTHETIC_SETS = 5
IMAGES_PER_SET = 6
REAL_IMAGES = 8
RATERS = (("clinician", 12), ("sonographer", 4), ("engineer", 2))


def make_study(name, real, synthetic_sets, owner, seed=0):
    sources = [(real, REAL_IMAGES), *((image_set, IMAGES_PER_SET) for image_set in synthetic_sets)]
    return StudyFactory(name=name, instructions="Real or synthetic?", seed=seed, created_by=owner, sources=sources)


def evaluate(synthetic_set, real, index, rng):
    """An evaluation whose FID falls as the set's quality (which rises with ``index``) rises; KID is noise."""
    evaluation = EvaluationFactory(
        synthetic_set=synthetic_set,
        reference_set=real,
        size=64,
        values={
            "fid": {"fid": 120.0 - 20 * index + rng.normal(0, 2)},
            "kid": {"kid_mean": float(rng.normal(0.05, 0.01)), "kid_std": 0.01},
            "psnr": {"psnr_mean_db": 10.0 + index, "psnr_nearest_db": "inf" if index == 0 else 14.0 + index},
        },
        versions={"fid": "fid/v1", "kid": "kid/v1", "psnr": "psnr/v1"},
        tables={
            "lbp_vector": [
                {"element": f"V{code}", "rLBPv_percent": 100 / 256, "difference_percent": float(rng.normal(0, 0.1))}
                for code in range(256)
            ]
        },
    )
    for number, image in enumerate(synthetic_set.images.order_by("pk")):
        ImageScoreFactory(
            evaluation=evaluation,
            image=image,
            values={"psnr_mean_db": 10.0 + index + 0.1 * number, "lbp_chi_square": float(rng.random())},
        )


def rate(study, raters, rng):
    """Clinician: always right; sonographer: right two times in three; engineer: always "real". Quality
    rises with the synthetic set's index, real images score 4-5."""
    set_index = {image_set_id: index for index, image_set_id in enumerate(sorted(synthetic_set_ids(study)))}
    now = timezone.now()
    for rater_index, rater in enumerate(raters):
        ParticipationFactory(study=study, rater=rater, consented=now)
        for number, item in enumerate(study.items.select_related("image").order_by("pk")):
            truth = "real" if item.is_real else "synthetic"
            if rater_index == 0:
                answer = truth
            elif rater_index == 1:
                answer = truth if number % 3 else ("real" if truth == "synthetic" else "synthetic")
            else:
                answer = "real"
            base = 4.5 if item.is_real else 1 + set_index[item.image.image_set_id] * 0.8
            quality = int(np.clip(round(base + rng.normal(0, 0.5)), 1, 5))
            RatingFactory(item=item, rater=rater, answer=answer, quality=quality, shown=now, viewing_ms=900)


def synthetic_set_ids(study):
    return study.sources.filter(image_set__kind="synthetic").values_list("image_set_id", flat=True)


@pytest.fixture
def sets(tmp_path):
    real = ImageSetFactory(name="HC18 8", images=REAL_IMAGES)
    synthetic_sets = []
    for index in range(SYNTHETIC_SETS):
        folder = tmp_path / f"synthetic{index}"
        folder.mkdir()
        rng = np.random.default_rng(index)
        for number in range(IMAGES_PER_SET):
            (folder / f"{number}.png").write_bytes(png_bytes(rng.integers(0, 256, (64, 64), dtype=np.uint8)))
        synthetic_sets.append(import_image_set(folder, name=f"epoch {index}", kind="synthetic").image_set)
    rng = np.random.default_rng(42)
    for index, synthetic_set in enumerate(synthetic_sets):
        evaluate(synthetic_set, real, index, rng)
    return real, synthetic_sets


@pytest.fixture
def raters():
    users = []
    for profession, years in RATERS:
        user = RaterFactory()
        RaterProfile.objects.create(user=user, profession=profession, years_of_experience=years)
        users.append(user)
    return users


@pytest.fixture
def owner():
    """The researcher who owns the studies, and so may analyse them."""
    return ResearcherFactory()


@pytest.fixture
def study(sets, raters, owner):
    real, synthetic_sets = sets
    study = make_study("Turing test", real, synthetic_sets, owner)
    rate(study, raters, np.random.default_rng(0))
    return study


@pytest.fixture
def researcher_client(client, owner):
    client.force_login(owner)
    return client


def export(client, study, filename, **query):
    response = client.get(reverse("analysis:export", args=[study.pk, filename]), query)
    assert response.status_code == 200, response.content[:500]
    return response.content


def test_the_analysis_page_shows_every_section_with_plots(study, researcher_client):
    response = researcher_client.get(reverse("analysis:study-analysis", args=[study.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    for section in ("settings", "turing", "agreement", "quality", "set-level", "image-level"):
        assert f'<section id="{section}">' in page
    for text in ("Fleiss' kappa", "ICC(2,1)", "HYPE-infinity", "Mann-Whitney", "Holm", "negative association"):
        assert text in page
    assert page.count("<svg") >= 4
    assert "<option>lbp:V255</option>" in page  # any set-level metric can be plotted
    assert "— (" not in page  # a missing estimate is a dash alone, not a dash with an interval
    assert "3 raters (1 clinician, 1 engineer, 1 sonographer)" in page
    # FID falls and PSNR rises with the sets' quality; the LBP elements are noise: these two top the ranking.
    set_level = page[page.index('<section id="set-level">') : page.index('<section id="image-level">')]
    assert set(re.findall(r"<tr><td><a [^>]+>([^<]+)</a></td><td>5</td>", set_level)[:2]) == {
        "fid",
        "psnr:psnr_mean_db",
    }
    image_level = page[page.index('<section id="image-level">') :]
    assert "crossed random intercepts for rater and image" in image_level and "clustered by image" in image_level


def test_ratings_csv_round_trips_to_the_database_rows(study, researcher_client):
    exported = pd.read_csv(io.BytesIO(export(researcher_client, study, "ratings.csv")))
    ratings = Rating.objects.select_related("item__image", "rater__rater_profile")
    assert len(exported) == ratings.count() == (REAL_IMAGES + SYNTHETIC_SETS * IMAGES_PER_SET) * len(RATERS)
    by_key = exported.set_index(["rater", "item"])
    for rating in ratings:
        row = by_key.loc[(rater_label(rating.rater_id), rating.item_id)]
        assert row["answer"] == rating.answer and row["quality"] == rating.quality
        assert row["truth"] == ("real" if rating.item.is_real else "synthetic")
        assert row["image_sha256"] == rating.item.image.sha256
        assert row["profession"] == rating.rater.rater_profile.profession
        assert row["years_of_experience"] == rating.rater.rater_profile.years_of_experience
        assert row["viewing_ms"] == 900 and row["study"] == "Turing test" and row["revisions"] == rating.revisions
        assert pd.Timestamp(row["submitted"]) == pd.Timestamp(rating.submitted)


def test_text_cells_cannot_run_as_spreadsheet_formulas(study, researcher_client):
    comments = ['=HYPERLINK("http://example.org","open")', "+1 for this one", "-ish", "@SUM(A1)", "\tx", "fine"]
    ratings = list(Rating.objects.order_by("pk")[: len(comments)])
    for rating, comment in zip(ratings, comments, strict=True):
        Rating.objects.filter(pk=rating.pk).update(comment=comment)
    Study.objects.filter(pk=study.pk).update(name="=cmd|' /C calc'!A0")
    archive = zipfile.ZipFile(io.BytesIO(export(researcher_client, study, "report.zip")))
    for exported in (export(researcher_client, study, "ratings.csv"), archive.read("report/ratings.csv")):
        table = pd.read_csv(io.BytesIO(exported), keep_default_na=False)
        by_rating = table.set_index(["rater", "item"])["comment"]
        for rating, comment in zip(ratings, comments, strict=True):
            expected = comment if comment == "fine" else f"'{comment}"
            assert by_rating.loc[(rater_label(rating.rater_id), rating.item_id)] == expected
        assert set(table["study"]) == {"'=cmd|' /C calc'!A0"}
        assert table["quality"].dtype.kind == "i" and (table["quality"] > 0).all()  # numbers stay numbers
    sets_table = pd.read_csv(io.BytesIO(export(researcher_client, study, "results.csv")))
    assert pd.api.types.is_numeric_dtype(sets_table["estimate"]) and (sets_table["estimate"] < 0).any()


def test_per_image_table_holds_every_metric_and_the_mean_ratings(study, researcher_client):
    images = pd.read_csv(io.BytesIO(export(researcher_client, study, "images.csv")))
    assert len(images) == REAL_IMAGES + SYNTHETIC_SETS * IMAGES_PER_SET
    for item in StudyItem.objects.filter(study=study):
        row = images.set_index("image").loc[item.image_id]
        qualities = list(Rating.objects.filter(item=item).values_list("quality", flat=True))
        assert row["mean_quality"] == pytest.approx(np.mean(qualities))
        assert row["n_ratings"] == len(RATERS)
        score = ImageScore.objects.filter(image=item.image).first()
        if item.is_real:
            assert np.isnan(row["psnr_mean_db"])
        else:
            assert row["psnr_mean_db"] == pytest.approx(score.values["psnr_mean_db"])
            assert np.isfinite(row["lbp:V0"]) and np.isfinite(row["lbp:V255"])
            with item.image.derived.get(size=64).file.open("rb") as file:
                histogram = lbp_histograms(np.asarray(PILImage.open(file).convert("L"))[None])[0]
            assert row["lbp:V5"] == pytest.approx(100 / 256 - histogram[5])  # rLBPv_k minus the image's own


def test_every_test_loads_from_csv_and_json_alike(study, researcher_client):
    from_csv = pd.read_csv(io.BytesIO(export(researcher_client, study, "results.csv")))
    from_json = pd.read_json(io.BytesIO(export(researcher_client, study, "results.json")), orient="records")
    assert list(from_csv.columns) == list(from_json.columns)
    assert len(from_csv) == len(from_json) > 100
    pd.testing.assert_series_equal(from_csv["estimate"], from_json["estimate"], check_dtype=False)
    pooled = from_csv[(from_csv["section"] == "turing: pooled") & (from_csv["statistic"] == "accuracy")].iloc[0]
    ratings = Rating.objects.all()
    correct = sum(rating.answer == ("real" if rating.item.is_real else "synthetic") for rating in ratings)
    assert pooled["estimate"] == pytest.approx(correct / ratings.count()) and pooled["n"] == ratings.count()
    assert set(from_csv["section"]) >= {"set level", "image level", "HYPE-infinity", "agreement: quality"}


def test_raters_can_be_restricted_to_clinical_staff(study, researcher_client):
    exported = pd.read_csv(io.BytesIO(export(researcher_client, study, "ratings.csv", raters="clinical")))
    assert set(exported["profession"]) == {"clinician", "sonographer"}
    page = researcher_client.get(reverse("analysis:study-analysis", args=[study.pk]), {"raters": "clinical"})
    assert "Clinicians and sonographers" in page.content.decode()
    for group, professions in (("clinicians", {"clinician"}), ("engineers", {"engineer"})):
        exported = pd.read_csv(io.BytesIO(export(researcher_client, study, "ratings.csv", raters=group)))
        assert set(exported["profession"]) == professions
    refused = researcher_client.get(reverse("analysis:study-analysis", args=[study.pk]), {"raters": "managers"})
    assert refused.status_code == 409 and "Select a valid choice" in refused.content.decode()


def test_studies_can_be_pooled(study, sets, researcher_client, owner):
    real, synthetic_sets = sets
    second = make_study("Second reading", real, synthetic_sets[:2], owner, seed=3)
    rater = RaterFactory()
    RaterProfile.objects.create(user=rater, profession="clinician", years_of_experience=20)
    rate(second, [rater], np.random.default_rng(1))
    exported = pd.read_csv(io.BytesIO(export(researcher_client, study, "ratings.csv", studies=[second.pk])))
    assert set(exported["study"]) == {"Turing test", "Second reading"}
    assert len(exported) == Rating.objects.count()
    # The second study shows images of the first again: they are the same images, not new ones.
    images = pd.read_csv(io.BytesIO(export(researcher_client, study, "images.csv", studies=[second.pk])))
    assert len(images) == REAL_IMAGES + SYNTHETIC_SETS * IMAGES_PER_SET
    assert images.set_index("image")["n_ratings"].max() == len(RATERS) + 1
    results = pd.read_csv(io.BytesIO(export(researcher_client, study, "results.csv", studies=[second.pk])))
    hype = results[(results["section"] == "HYPE-infinity") & (results["statistic"] == "error rate, %")]
    assert hype["n"].iloc[0] == len(exported)
    sets_table = pd.read_csv(io.BytesIO(export(researcher_client, study, "sets.csv", studies=[second.pk])))
    assert (sets_table["n_images"] == IMAGES_PER_SET).all()


def test_the_report_downloads_with_its_plots_and_export_report_writes_the_same_files(
    study, researcher_client, tmp_path
):
    archive = zipfile.ZipFile(io.BytesIO(export(researcher_client, study, "report.zip")))
    names = set(archive.namelist())
    for name in ("ratings.csv", "images.csv", "sets.csv", "results.csv", "results.json", "settings.json"):
        assert f"report/{name}" in names
    html = archive.read("report/report.html").decode()
    assert "<svg" in html and "Study and methods" in html and "/static/" not in html
    assert {"report/plots/accuracy.png", "report/plots/accuracy.svg", "report/plots/scatter-fid.png"} <= names
    assert archive.read("report/plots/confusion.png").startswith(b"\x89PNG\r\n\x1a\n")

    call_command("export_report", str(study.pk), "--out", str(tmp_path / "out"))
    assert (tmp_path / "out" / "ratings.csv").read_bytes() == archive.read("report/ratings.csv")
    assert (tmp_path / "out" / "results.csv").read_bytes() == archive.read("report/results.csv")
    settings = pd.read_json(tmp_path / "out" / "settings.json", orient="records")
    assert list(settings["study"]) == ["Turing test"] and list(settings["hype_resamples"]) == [1000]
    # A study without images shown twice has no repeat pairs: its repeats files have the header alone.
    assert list(pd.read_csv(io.BytesIO(archive.read("report/repeats.csv")))) == RELIABILITY_COLUMNS
    assert list(pd.read_csv(io.BytesIO(archive.read("report/repeat_pairs.csv")))) == REPEAT_COLUMNS
    for name in set(archive.namelist()) - {"report/repeats.csv", "report/repeat_pairs.csv"}:
        if name.endswith(".csv"):
            assert len(pd.read_csv(io.BytesIO(archive.read(name)))) > 0, name
        elif name.endswith(".json"):
            assert len(pd.read_json(io.BytesIO(archive.read(name)), orient="records")) > 0, name


def test_export_report_refuses_an_unknown_study(study):
    with pytest.raises(CommandError, match="No study is called 'nonexistent'"):
        call_command("export_report", "nonexistent", "--out", "unused")


def test_plots_come_as_png_and_svg(study, researcher_client):
    url = reverse("analysis:plot", args=[study.pk, "accuracy", "png"])
    assert researcher_client.get(url).content.startswith(b"\x89PNG")
    svg = researcher_client.get(reverse("analysis:plot", args=[study.pk, "scatter", "svg"]), {"metric": "fid"})
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    grid = researcher_client.get(reverse("analysis:plot", args=[study.pk, "confusion", "svg"]))
    assert grid.status_code == 200
    assert researcher_client.get(reverse("analysis:plot", args=[study.pk, "pie", "png"])).status_code == 404
    missing = researcher_client.get(reverse("analysis:plot", args=[study.pk, "scatter", "png"]), {"metric": "nope"})
    assert missing.status_code == 404


def test_a_study_without_ratings_says_so(sets, researcher_client, owner):
    real, synthetic_sets = sets
    study = make_study("Not started", real, synthetic_sets, owner)
    response = researcher_client.get(reverse("analysis:study-analysis", args=[study.pk]))
    assert response.status_code == 409
    assert "No analysis: no ratings yet from all raters in these studies" in response.content.decode()
    with pytest.raises(CommandError, match="no ratings yet"):
        call_command("export_report", str(study.pk), "--out", "unused")


def test_raters_cannot_see_analyses(study, client, raters):
    client.force_login(raters[0])
    assert client.get(reverse("analysis:study-analysis", args=[study.pk])).status_code == 403
    assert client.get(reverse("analysis:export", args=[study.pk, "ratings.csv"])).status_code == 403


def test_unfinished_evaluations_are_passed_over_and_counts_become_shares(study, sets, researcher_client):
    real, synthetic_sets = sets
    first = Evaluation.objects.get(synthetic_set=synthetic_sets[0])
    first.values["memorisation"] = {"flagged_pixel": 3, "flagged_feature": 0, "pixel_threshold": 12.0}
    first.save()
    # A newer scoring of the same set whose job has not written anything yet.
    EvaluationFactory(synthetic_set=synthetic_sets[0], reference_set=synthetic_sets[1], size=64)
    sets_table = pd.read_csv(io.BytesIO(export(researcher_client, study, "sets.csv"))).set_index("set")
    row = sets_table.loc[synthetic_sets[0].name]
    assert row["fid"] == pytest.approx(first.values["fid"]["fid"])
    assert row["memorisation:flagged_pixel_share"] == pytest.approx(3 / IMAGES_PER_SET)
    assert "memorisation:flagged_pixel" not in sets_table.columns and "memorisation:pixel_threshold" not in sets_table


def test_the_roc_and_mrmc_section_agrees_with_or_hillis_on_the_exported_ratings(study, researcher_client):
    """The page, results.csv and the zip carry the ROC/MRMC results; the reader-averaged AUC and its RRRC interval
    equal `or_hillis` run on the exported ratings with the 10-level score written out here."""
    for rating in Rating.objects.select_related("item"):
        rating.confidence = 5 if (rating.answer == "real") == rating.item.is_real else 1 + rating.pk % 3
        rating.save()
    exported = pd.read_csv(io.BytesIO(export(researcher_client, study, "ratings.csv")))
    level = np.where(exported["answer"] == "real", 6 - exported["confidence"], 5 + exported["confidence"])
    direct = or_hillis(
        pd.DataFrame(
            {
                "reader": exported["rater"],
                "case": exported["image"],
                "truth": (exported["truth"] == "synthetic").astype(int),
                "score": level,
            }
        )
    )["modalities"][0]
    page = researcher_client.get(reverse("analysis:study-analysis", args=[study.pk]), {"effect": 0.2}).content.decode()
    section = page[page.index('<section id="roc">') : page.index('<section id="agreement">')]
    assert f"<td>{direct['auc']:.3f}</td><td>3</td><td>38 (8 / 30)</td>" in section
    assert f"{direct['rrrc']['low']:.3f} to {direct['rrrc']['high']:.3f}" in section
    assert "answer x confidence, 10 levels" in section and section.count("<svg") >= 2
    assert "when the true AUC is 0.70" in section  # the planning table for the effect typed in
    results = pd.read_csv(io.BytesIO(export(researcher_client, study, "results.csv")))
    rrrc = results[results["statistic"] == "AUC, random readers and cases (OR-Hillis)"]
    pooled = rrrc[rrrc["section"] == "MRMC: reader-averaged"].iloc[0]
    assert (pooled["estimate"], pooled["low"], pooled["high"], pooled["n"]) == pytest.approx(
        (direct["auc"], direct["rrrc"]["low"], direct["rrrc"]["high"], 38)
    )
    assert len(rrrc[rrrc["section"] == "MRMC: by set"]) == SYNTHETIC_SETS
    assert len(results[results["section"] == "ROC: by rater"]) == len(RATERS)
    archive = zipfile.ZipFile(io.BytesIO(export(researcher_client, study, "report.zip")))
    assert {"report/plots/roc.png", "report/plots/roc.svg", "report/plots/auc-by-set.svg"} <= set(archive.namelist())
    html = archive.read("report/report.html").decode()
    assert "Reader-averaged AUC (OR-Hillis, jackknife)" in html and "Obuchowski-Rockette" in html


def test_two_studies_of_the_same_images_read_by_the_same_raters_are_compared_as_conditions(
    study, sets, raters, researcher_client, owner
):
    real, synthetic_sets = sets
    second = make_study("Second reading", real, synthetic_sets, owner, seed=3)
    rate(second, raters, np.random.default_rng(1))
    for rating in Rating.objects.select_related("item"):
        rating.confidence = 1 + rating.pk % 5
        rating.save()
    page = researcher_client.get(
        reverse("analysis:study-analysis", args=[study.pk]), {"studies": [second.pk], "readers": 6, "images": 80}
    ).content.decode()
    assert "Two conditions, same images and readers" in page
    assert "3 readers x 38 images read in every study" in page
    assert "<td>Second reading - Turing test</td>" in page or "<td>Turing test - Second reading</td>" in page
    assert "Power with 6 readers and 80 images:" in page
    results = pd.read_csv(io.BytesIO(export(researcher_client, study, "results.csv", studies=[second.pk])))
    conditions = results[results["section"] == "MRMC: conditions"]
    assert {"F (1, ddf), random readers and cases", "chi-square (1 df), these readers only"} <= set(
        conditions["statistic"]
    )
    assert (conditions["n"] == 38).all()


ATTENTION_IMAGES = 4
# Answers of the three raters (clinician, sonographer, engineer) to the 4 attention images, all plainly synthetic.
ATTENTION_ANSWERS = (
    ("synthetic", "synthetic", "synthetic", "synthetic"),  # 4 of 4: 100%
    ("synthetic", "real", "synthetic", "synthetic"),  # 3 of 4: 75%
    ("real", "real", "real", "real"),  # 0 of 4: 0%
)


@pytest.fixture
def attention_study(study, raters, tmp_path):
    """`study` with an attention-check source of 4 noise images expecting "synthetic", answered as
    ``ATTENTION_ANSWERS`` says."""
    folder = tmp_path / "early"
    folder.mkdir()
    rng = np.random.default_rng(99)
    for number in range(ATTENTION_IMAGES):
        (folder / f"{number}.png").write_bytes(png_bytes(rng.integers(0, 256, (64, 64), dtype=np.uint8)))
    early = import_image_set(folder, name="early snapshot", kind="synthetic").image_set
    StudySourceFactory(
        study=study, image_set=early, count=ATTENTION_IMAGES, attention_check=True, expected_answer="synthetic"
    )
    items = [StudyItemFactory(study=study, image=image, is_real=False) for image in early.images.order_by("pk")]
    for rater, answers in zip(raters, ATTENTION_ANSWERS, strict=True):
        for item, answer in zip(items, answers, strict=True):
            RatingFactory(item=item, rater=rater, answer=answer, quality=1)
    return study


def test_attention_pass_rates_and_exclusions_follow_a_hand_count(attention_study, raters, researcher_client, tmp_path):
    labels = [rater_label(rater.pk) for rater in raters]
    table = pd.read_csv(io.BytesIO(export(researcher_client, attention_study, "attention.csv", min_attention=75)))
    assert list(table["rater"]) == labels
    assert list(table["n_answered"]) == [4, 4, 4] and list(table["n_passed"]) == [4, 3, 0]
    assert list(table["pass_rate"]) == [1.0, 0.75, 0.0]
    assert list(table["excluded"]) == [False, False, True]  # 75% is not below 75%
    kept = pd.read_csv(io.BytesIO(export(researcher_client, attention_study, "ratings.csv", min_attention=75)))
    assert set(kept["rater"]) == set(labels[:2]) and len(kept) == 2 * (REAL_IMAGES + SYNTHETIC_SETS * IMAGES_PER_SET)

    page = researcher_client.get(
        reverse("analysis:study-analysis", args=[attention_study.pk]), {"min_attention": 80}
    ).content.decode()
    excluded = f"{labels[1]}, {labels[2]}"
    assert f"Excluded, having passed fewer than 80% of their attention checks: {excluded}." in page
    assert (
        f"Raters who passed fewer than 80% were excluded from every analysis: {labels[1]} (3 of 4), {labels[2]} "
        "(0 of 4)." in page
    )
    assert "1 raters (1 clinician) gave 38 ratings" in page
    attention_section = page[page.index('<section id="attention">') : page.index('<section id="turing">')]
    assert f"<td>{labels[1]}</td><td>3 / 4</td><td>75.0%</td><td>excluded</td>" in attention_section

    call_command("export_report", str(attention_study.pk), "--out", str(tmp_path / "out"), "--min-attention", "80")
    archive = zipfile.ZipFile(io.BytesIO(export(researcher_client, attention_study, "report.zip", min_attention=80)))
    for name in ("attention.csv", "ratings.csv"):
        assert (tmp_path / "out" / name).read_bytes() == archive.read(f"report/{name}"), name
    settings = pd.read_json(tmp_path / "out" / "settings.json", orient="records").iloc[0]
    assert settings["min_attention_percent"] == 80 and settings["excluded_raters"] == f"{labels[1]}; {labels[2]}"
    assert "4 from early snapshot (synthetic), attention check expecting synthetic" in settings["pool"]

    with pytest.raises(CommandError, match="the attention threshold is a percentage from 0 to 100, not 150"):
        call_command("export_report", str(attention_study.pk), "--out", "unused", "--min-attention", "150")
    refused = researcher_client.get(
        reverse("analysis:study-analysis", args=[attention_study.pk]), {"min_attention": 150}
    )
    assert refused.status_code == 409 and "less than or equal to 100" in refused.content.decode()


def test_attention_items_enter_no_other_statistic(attention_study, researcher_client):
    attention_images = set(
        StudyItem.objects.filter(image__image_set__name="early snapshot").values_list("image_id", flat=True)
    )
    assert Rating.objects.filter(item__image_id__in=attention_images).count() == 3 * ATTENTION_IMAGES
    rated = REAL_IMAGES + SYNTHETIC_SETS * IMAGES_PER_SET
    ratings = pd.read_csv(io.BytesIO(export(researcher_client, attention_study, "ratings.csv")))
    assert len(ratings) == rated * len(RATERS) and not set(ratings["image"]) & attention_images
    assert "early snapshot" not in set(ratings["set"])
    images = pd.read_csv(io.BytesIO(export(researcher_client, attention_study, "images.csv")))
    assert len(images) == rated and not set(images["image"]) & attention_images
    sets_table = pd.read_csv(io.BytesIO(export(researcher_client, attention_study, "sets.csv")))
    assert "early snapshot" not in set(sets_table["set"])
    results = pd.read_csv(io.BytesIO(export(researcher_client, attention_study, "results.csv")))
    pooled = results[(results["section"] == "turing: pooled") & (results["statistic"] == "accuracy")].iloc[0]
    study_ratings = Rating.objects.exclude(item__image_id__in=attention_images).select_related("item")
    correct = sum(rating.answer == ("real" if rating.item.is_real else "synthetic") for rating in study_ratings)
    assert pooled["n"] == rated * len(RATERS) and pooled["estimate"] == pytest.approx(correct / (rated * len(RATERS)))
    page = researcher_client.get(reverse("analysis:study-analysis", args=[attention_study.pk])).content.decode()
    assert f"gave {rated * len(RATERS)} ratings of {rated} images" in page
    assert "4 attention-check images, whose answer the researcher stated" in page
    assert "expected answer 7 times in 12 (58.3%). No rater was excluded on attention." in page


R, S = "real", "synthetic"
# The first and second showings of the 4 repeated images (2 real, then 2 synthetic) by the first two raters:
# (answer first, answer second, quality first, quality second). The third rater, excluded on attention at 75%,
# answers at random and must enter nothing.
REPEAT_ANSWERS = (
    ((R, R, 4, 4), (S, S, 2, 3), (R, S, 5, 5), (S, S, 1, 1)),
    ((R, R, 3, 3), (R, R, 4, 2), (S, S, 2, 2), (S, R, 5, 4)),
)


@pytest.fixture
def protocol_study(attention_study, raters):
    """`attention_study` showing 2 real and 2 synthetic images twice, answered as ``REPEAT_ANSWERS`` says."""
    attention_study.repeat_count = 4
    attention_study.save()
    pool = StudyItem.objects.filter(study=attention_study).exclude(image__image_set__name="early snapshot")
    firsts = list(pool.filter(is_real=True).order_by("pk")[:2]) + list(pool.filter(is_real=False).order_by("pk")[:2])
    seconds = [
        StudyItemFactory(
            study=attention_study, image=first.image, is_real=first.is_real, role=StudyItem.Role.REPEAT, repeat_of=first
        )
        for first in firsts
    ]
    rng = np.random.default_rng(5)
    for rater, answers in zip(raters, [*REPEAT_ANSWERS, None], strict=True):
        for index, (first, second) in enumerate(zip(firsts, seconds, strict=True)):
            if answers is None:
                answer_first, answer_second = rng.choice([R, S], 2)
                quality_first, quality_second = rng.integers(1, 6, 2)
            else:
                answer_first, answer_second, quality_first, quality_second = answers[index]
            Rating.objects.filter(item=first, rater=rater).update(answer=answer_first, quality=quality_first)
            RatingFactory(item=second, rater=rater, answer=answer_second, quality=quality_second)
    return attention_study


def test_a_constructed_study_gives_the_hand_counted_pass_rates_exclusions_and_intra_rater_kappas(
    protocol_study, raters, researcher_client, tmp_path
):
    """Hand computation. Answers, kappa = (p_o - p_e) / (1 - p_e) (Cohen 1960), first showing against second:
    rater 1: RR SS RS SS, p_o = 3/4, first R 1/2 S 1/2, second R 1/4 S 3/4, p_e = 1/8 + 3/8 = 1/2: kappa 1/2;
    rater 2: RR RR SS SR, p_o = 3/4, p_e = 1/2 * 3/4 + 1/2 * 1/4 = 1/2: kappa 1/2; pooled (de Vries et al. 2008,
    each rater's chance agreement from their own answers), (3/4 - 1/2) / (1 - 1/2) = 1/2.
    Quality, quadratic weights ((x - y) / 4)^2 (Cohen 1968): kappa = 1 - mean (x_i - y_i)^2 / mean over all
    i, j (x_i - y_j)^2 (the 1/16 cancels). Rater 1: x 4 2 5 1, y 4 3 5 1: 1 - (1/4) / (76/16) = 18/19; rater 2:
    x 3 4 2 5, y 3 2 2 4: 1 - (5/4) / (40/16) = 1/2; pooled, the raters' disagreements summed:
    1 - (1/4 + 5/4) / (76/16 + 40/16) = 1 - (6/4) / (116/16) = 1 - 24/116 = 23/29."""
    labels = [rater_label(rater.pk) for rater in raters]
    attention = pd.read_csv(io.BytesIO(export(researcher_client, protocol_study, "attention.csv", min_attention=75)))
    assert list(attention["n_passed"]) == [4, 3, 0] and list(attention["excluded"]) == [False, False, True]
    table = pd.read_csv(io.BytesIO(export(researcher_client, protocol_study, "repeats.csv", min_attention=75)))
    assert list(table["rater"]) == [*labels[:2], "pooled"]
    assert list(table["n_pairs"]) == [4, 4, 8]
    assert list(table["answer_agreement"]) == [0.75, 0.75, 0.75]
    assert list(table["kappa_answer"]) == pytest.approx([1 / 2, 1 / 2, 1 / 2])
    assert list(table["kappa_quality"]) == pytest.approx([18 / 19, 1 / 2, 23 / 29])
    assert (table["kappa_quality_low"] <= table["kappa_quality"]).all()
    assert (table["kappa_quality"] <= table["kappa_quality_high"]).all()
    pairs = pd.read_csv(io.BytesIO(export(researcher_client, protocol_study, "repeat_pairs.csv", min_attention=75)))
    assert len(pairs) == 8 and set(pairs["rater"]) == set(labels[:2])
    assert list(pairs[pairs["rater"] == labels[0]]["answer_second"]) == ["real", "synthetic", "synthetic", "synthetic"]
    # Only the first showing enters every other statistic.
    ratings = pd.read_csv(io.BytesIO(export(researcher_client, protocol_study, "ratings.csv", min_attention=75)))
    assert len(ratings) == 2 * (REAL_IMAGES + SYNTHETIC_SETS * IMAGES_PER_SET)
    assert not set(ratings["item"]) & set(StudyItem.objects.filter(role="repeat").values_list("pk", flat=True))

    page = researcher_client.get(
        reverse("analysis:study-analysis", args=[protocol_study.pk]), {"min_attention": 75}
    ).content.decode()
    section = page[page.index('<section id="repeats">') : page.index('<section id="turing">')]
    rows = {
        row[0]: row[1:]
        for row in re.findall(r"<tr><td>([\w-]+)</td><td>(\d+)</td><td>(.*?)</td>\s*<td>(.*?) ", section)
    }
    assert rows == {
        labels[0]: ("4", "75.0%", "0.50"),
        labels[1]: ("4", "75.0%", "0.50"),
        "pooled": ("8", "75.0%", "0.50"),
    }
    assert "<td>0.79 (" in section
    assert (
        "4 images were shown to each rater a second time, at least 10 images after the first showing, and only the "
        "first showing enters the other statistics; intra-rater agreement over 8 pairs" in page
    )
    call_command("export_report", str(protocol_study.pk), "--out", str(tmp_path / "out"), "--min-attention", "75")
    assert (tmp_path / "out" / "repeats.csv").read_bytes() == export(
        researcher_client, protocol_study, "repeats.csv", min_attention=75
    )
    settings = pd.read_json(tmp_path / "out" / "settings.json", orient="records").iloc[0]
    assert (settings["repeat_count"], settings["repeat_gap"], settings["practice_images"]) == (4, 10, 0)


class TableFolds(HTMLParser):
    """For every <table> of a page: the id of the section it is in and whether a <details> folds it."""

    def __init__(self):
        super().__init__()
        self.open, self.tables = [], []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            sections = [dict(attributes).get("id") for name, attributes in self.open if name == "section"]
            self.tables.append((sections[-1] if sections else None, any(name == "details" for name, _ in self.open)))
        if tag in ("section", "details"):
            self.open.append((tag, attrs))

    def handle_endtag(self, tag):
        if tag in ("section", "details"):
            self.open.pop()


def folds(page):
    parser = TableFolds()
    parser.feed(page)
    return parser.tables


def section(page, name):
    start = page.index(f'<section id="{name}">')
    return page[start : page.index("</section>", start)]


def without_svg_ids(html):
    return re.sub(r'(id="|xlink:href="#|url\(#)[\w-]+', r"\1", html)


def test_the_summary_comes_first_with_the_headline_numbers_and_the_long_tables_fold(study, researcher_client):
    page = researcher_client.get(reverse("analysis:study-analysis", args=[study.pk])).content.decode()
    sections = re.findall(r'<section id="([\w-]+)">', page)
    assert sections[0] == "summary" and page.index('<section id="summary">') < page.index("<details")
    summary = section(page, "summary")
    ratings = list(Rating.objects.select_related("item"))
    right = sum((rating.answer == "real") == rating.item.is_real for rating in ratings)
    assert (
        f"{100 * right / len(ratings):.1f}% (95% Wilson CI " in summary
        and f"{len(ratings)} ratings by 3 raters" in summary
    )
    assert f"Error rate {100 * (len(ratings) - right) / len(ratings):.1f}% (95% bootstrap CI" in summary  # HYPE
    results = pd.read_csv(io.BytesIO(export(researcher_client, study, "results.csv")))
    auc = results[
        (results["section"] == "MRMC: reader-averaged")
        & (results["statistic"] == "AUC, random readers and cases (OR-Hillis)")
    ].iloc[0]
    assert f"{auc['estimate']:.3f} (95% CI {auc['low']:.3f} to {auc['high']:.3f} for random readers" in summary
    # The best-agreeing metric is the set-level table's first row, and links to its scatter page.
    first = re.search(r"<tbody><tr><td><a href=\"([^\"]+)\">([^<]+)</a>", section(page, "set-level"))
    assert f'<a href="{first.group(1)}">{first.group(2)}</a>' in section(page, "summary")
    assert "Best-agreeing per-image metric</dt>" in summary and "per SD (mixed model)" in summary
    folded = {name: [fold for table_section, fold in folds(page) if table_section == name] for name in sections}
    for name in ("turing", "agreement", "quality", "set-level", "image-level"):
        assert folded[name] and all(folded[name]), name  # every long table of these sections folds
    assert folded["roc"].count(False) == 2  # the reader-averaged AUC and the planning table stay open
    assert folded["summary"] == []


def test_a_reader_averaged_auc_without_an_interval_is_summarised_without_one(study, researcher_client):
    for rating in Rating.objects.select_related("item"):
        rating.answer = "real" if rating.item.is_real else "synthetic"
        rating.confidence = 5
        rating.save()
    page = researcher_client.get(reverse("analysis:study-analysis", args=[study.pk])).content.decode()
    auc = re.search(r'<dd id="headline-auc">(.*?)</dd>', page).group(1)
    assert auc.startswith("1.000 (OR-Hillis; 0.5: readers cannot tell); 3 readers x 38 images.")
    assert "no variance left to make an interval from" in auc and "—" not in auc


def test_metrics_whose_test_could_not_run_are_one_sentence_not_a_row_each(sets, raters, owner, researcher_client):
    real, synthetic_sets = sets
    study = make_study("One set", real, synthetic_sets[:1], owner)
    rate(study, raters, np.random.default_rng(0))
    page = researcher_client.get(reverse("analysis:study-analysis", args=[study.pk])).content.decode()
    set_level = section(page, "set-level")
    metrics = set_level.count("<option>")
    assert metrics > 250  # FID, KID, PSNR and every LBP element
    assert f"{metrics} of {metrics} metrics could not be tested, so they are not listed" in set_level
    assert set_level.count("too few sets (n=1)") == 1 and "<tbody>" not in set_level
    assert 'Best-agreeing set-level metric</dt>\n  <dd id="headline-set-metric">None: ' in page
    assert "too few sets (n=1)" in section(page, "summary")
    image_level = section(page, "image-level")
    assert "could not be tested" not in image_level and "<tbody><tr><td>" in image_level  # every model ran


def test_the_report_opens_in_the_browser_with_the_site_around_it(study, sets, owner, researcher_client):
    response = researcher_client.get(reverse("analysis:report", args=[study.pk]))
    assert response.status_code == 200 and "Content-Disposition" not in response
    page = response.content.decode()
    assert 'class="site-header"' in page and "Log out" in page
    download = reverse("analysis:export", args=[study.pk, "report.html"])
    assert f'href="{download}?"' in page
    downloaded = export(researcher_client, study, "report.html").decode()
    for name in ("summary", "settings", "turing", "roc", "agreement", "quality", "set-level", "image-level"):
        # The same sections, plots and all (matplotlib names the shapes of each drawing afresh).
        assert without_svg_ids(section(page, name)) == without_svg_ids(section(downloaded, name)), name
    analysis_page = researcher_client.get(reverse("analysis:study-analysis", args=[study.pk])).content.decode()
    assert f'href="{reverse("analysis:report", args=[study.pk])}?"' in analysis_page
    empty = make_study("Not started", *sets, owner)
    no_ratings = researcher_client.get(reverse("analysis:report", args=[empty.pk]))
    assert no_ratings.status_code == 409 and "No report: no ratings yet" in no_ratings.content.decode()


def test_a_metrics_scatter_opens_on_a_page_with_its_numbers_points_and_downloads(study, sets, researcher_client):
    url = reverse("analysis:scatter", args=[study.pk])
    analysis_page = researcher_client.get(reverse("analysis:study-analysis", args=[study.pk])).content.decode()
    assert f'href="{url}?metric=fid"' in analysis_page and f'action="{url}"' in analysis_page
    response = researcher_client.get(url, {"metric": "fid", "raters": "all"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="site-header"' in page and "<h1>fid against the mean quality score</h1>" in page
    assert page.count("<svg") == 1 and "negative association" in page
    _, synthetic_sets = sets
    fids = {
        image_set.name: Evaluation.objects.get(synthetic_set=image_set).value("fid", "fid")
        for image_set in synthetic_sets
    }
    rows = re.findall(r"<tr><td>(epoch \d)</td><td>18</td><td>6</td><td>([\d.]+)</td><td>([\d.]+)</td></tr>", page)
    assert {name: float(fid) for name, fid, _ in rows} == pytest.approx(fids, rel=1e-3)
    for link in (
        reverse("analysis:plot", args=[study.pk, "scatter", "png"]),
        reverse("analysis:plot", args=[study.pk, "scatter", "svg"]),
        reverse("analysis:scatter-data", args=[study.pk]),
    ):
        assert f'href="{link}?raters=all&amp;metric=fid"' in page
    data = researcher_client.get(reverse("analysis:scatter-data", args=[study.pk]), {"metric": "fid"})
    assert data["Content-Disposition"] == f'attachment; filename="study-{study.pk}-all-scatter-fid.csv"'
    points = pd.read_csv(io.BytesIO(data.content)).set_index("set")
    assert list(points.columns) == ["n_ratings", "n_images", "fid", "mean_quality"]
    assert points["fid"].to_dict() == pytest.approx(fids)
    unknown = researcher_client.get(url, {"metric": "fid_typo"})
    assert unknown.status_code == 404 and 'class="site-header"' in unknown.content.decode()
    assert "No scatter: no set-level metric &#x27;fid_typo&#x27; in this analysis" in unknown.content.decode()
    assert researcher_client.get(reverse("analysis:scatter-data", args=[study.pk]), {"metric": "x"}).status_code == 404
    unchosen = researcher_client.get(url)
    assert unchosen.status_code == 404 and "No scatter: no metric chosen;" in unchosen.content.decode()
