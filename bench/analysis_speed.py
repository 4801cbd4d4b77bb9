"""Speed of a whole study analysis at the reference study's size, against statsmodels' MixedLM per metric.

Run: ``.venv/bin/python bench/analysis_speed.py [--raters 3] [--resamples 1000]``

Builds a study like the reference one (8 real + 60 synthetic images from 20 sets, every image rated by
each rater) with 274 set-level metrics (the headline metrics and the 256 LBP elements) and 267 per-image
metrics, then times `evaluation.analysis.analyse` (every test, HYPE bootstrap included) and
`results_table`. Baseline in the same process: the same image-level quality model (crossed random
intercepts for rater and image) fitted with statsmodels' MixedLM (variance components) for a sample of
the metrics, scaled to all of them; `evaluation.crossed_mixed_model` fits it in the closed form its
docstring derives. Prints both and the ratio.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.analysis import analyse, results_table  # noqa: E402

REAL, SETS, PER_SET = 8, 20, 3
SET_METRICS, IMAGE_METRICS = 274, 267
BASELINE_SAMPLE = 8


def study_frames(raters, seed=0):
    rng = np.random.default_rng(seed)
    images = REAL + SETS * PER_SET
    truth = np.array(["real"] * REAL + ["synthetic"] * (SETS * PER_SET))
    sets = np.array(["hc18"] * REAL + [f"set{index // PER_SET}" for index in range(SETS * PER_SET)])
    level = np.where(truth == "real", 4.0, 2.0 + rng.normal(0, 0.8, images))
    rows = []
    for rater in range(raters):
        right = rng.random(images) < 0.7
        rows.append(
            pd.DataFrame(
                {
                    "rater": f"rater{rater}",
                    "profession": ("clinician", "engineer", "sonographer")[rater % 3],
                    "item": np.arange(images),
                    "set": sets,
                    "truth": truth,
                    "answer": np.where(right, truth, np.where(truth == "real", "synthetic", "real")),
                    "quality": np.clip(np.rint(level + rng.normal(0, 0.7, images)), 1, 5).astype(int),
                }
            )
        )
    ratings = pd.concat(rows, ignore_index=True)
    set_names = [f"set{index}" for index in range(SETS)]
    set_metrics = pd.DataFrame(rng.normal(size=(SETS, SET_METRICS)), columns=[f"m{k}" for k in range(SET_METRICS)])
    set_metrics.insert(0, "set", set_names)
    items = np.arange(REAL, images)
    image_metrics = pd.DataFrame(
        rng.normal(size=(len(items), IMAGE_METRICS)), columns=[f"p{k}" for k in range(IMAGE_METRICS)]
    )
    image_metrics.insert(0, "item", items)
    return ratings, set_metrics, image_metrics


def mixedlm_seconds(ratings, image_metrics):
    """MixedLM (crossed rater and image intercepts) for ``BASELINE_SAMPLE`` metrics, scaled to all of them."""
    synthetic = ratings[ratings["truth"] == "synthetic"].merge(image_metrics, on="item")
    began = time.perf_counter()
    for column in image_metrics.columns[1 : BASELINE_SAMPLE + 1]:
        frame = synthetic.assign(z=(synthetic[column] - synthetic[column].mean()) / synthetic[column].std())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            smf.mixedlm(
                "quality ~ z",
                frame.assign(everything=1),
                groups="everything",
                re_formula="0",
                vc_formula={"rater": "0 + C(rater)", "image": "0 + C(item)"},
            ).fit(reml=True)
    return (time.perf_counter() - began) * IMAGE_METRICS / BASELINE_SAMPLE


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raters", type=int, default=3)
    parser.add_argument("--resamples", type=int, default=1000)
    arguments = parser.parse_args()
    ratings, set_metrics, image_metrics = study_frames(arguments.raters)

    began = time.perf_counter()
    analysis = analyse(ratings, set_metrics, image_metrics, resamples=arguments.resamples)
    analysed = time.perf_counter() - began
    results = results_table(analysis)
    tabled = time.perf_counter() - began - analysed

    image_level_began = time.perf_counter()
    analyse(ratings, None, image_metrics, resamples=10)
    image_level = time.perf_counter() - image_level_began
    baseline = mixedlm_seconds(ratings, image_metrics)

    print(
        f"{arguments.raters} raters x {REAL + SETS * PER_SET} images, {SET_METRICS} set metrics, "
        f"{IMAGE_METRICS} per-image metrics, {arguments.resamples} bootstrap resamples"
    )
    print(f"  whole analysis: {analysed:.2f} s; results table ({len(results)} rows): {tabled:.2f} s")
    print(f"  analysis without set level, 10 resamples (mostly the image-level models): {image_level:.2f} s")
    print(
        f"  baseline, statsmodels MixedLM (crossed effects) for the quality model alone: {baseline:.2f} s "
        f"(from {BASELINE_SAMPLE} metrics)"
    )
    print(f"  ratio baseline / analysis without set level: {baseline / image_level:.1f}x")


if __name__ == "__main__":
    main()
