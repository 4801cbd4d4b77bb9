"""Simulated rating studies and statsmodels' own fits that the metric-regression tests compare against."""

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.genmod.cov_struct import Exchangeable

from evaluation.logistic_gee import GEE_MAX_ITERATIONS

Z_95 = 1.959963984540054


def with_constant(regressor):
    return np.column_stack([np.ones(len(regressor)), regressor])


def standardised(values):
    return (values - values.mean()) / values.std(ddof=1)


def simulated_ratings(raters=3, per_rater=200, seed=0, quality_per_sd=0.5, log_odds_per_sd=0.7, psnr_per_rater=0.0):
    """Ratings with a rater intercept on quality, a known per-SD quality effect and a known odds ratio of "real".

    ``psnr_per_rater`` shifts the mean PSNR of each successive rater's images (raters shown different images).
    """
    rng = np.random.default_rng(seed)
    rater = np.repeat([f"rater{index}" for index in range(raters)], per_rater)
    rater_shift = np.repeat(rng.normal(0, 0.6, raters), per_rater)
    psnr = rng.normal(14.0, 2.0, raters * per_rater) + np.repeat(np.arange(raters) * psnr_per_rater, per_rater)
    standardised = (psnr - 14.0) / 2.0
    quality = 3.0 + quality_per_sd * standardised + rater_shift + rng.normal(0, 0.8, raters * per_rater)
    called_real = rng.random(raters * per_rater) < 1 / (1 + np.exp(-(-0.2 + log_odds_per_sd * standardised)))
    return pd.DataFrame(
        {
            "rater": rater,
            "item": rng.integers(0, 150, raters * per_rater),
            "quality": quality,
            "called_real": called_real.astype(int),
            "psnr_mean_db": psnr,
            "lbp_V8": rng.normal(size=raters * per_rater),
        }
    )


def crossed_study(seed, raters=3, images=40, quality_per_sd=0.0, log_odds_per_sd=0.0, rated_share=1.0):
    """Every rater rates every image (or a random ``rated_share`` of them) on 1-5, rounded.

    Images differ in quality and in how real they look for reasons other than the image-level metric, and
    raters differ in their mean score and in how readily they answer "real".
    """
    rng = np.random.default_rng(seed)
    item = np.tile(np.arange(images), raters)
    rater = np.repeat(np.arange(raters), images)
    metric = rng.normal(14.0, 2.0, images)
    standardised_metric = (metric[item] - 14.0) / 2.0
    image_quality, image_realism = rng.normal(0, 0.7, images), rng.normal(0, 1.0, images)
    rater_mean, rater_realism = rng.normal(0, 0.5, raters), rng.normal(0, 0.5, raters)
    quality = 3.0 + quality_per_sd * standardised_metric + image_quality[item] + rater_mean[rater]
    quality = np.clip(np.rint(quality + rng.normal(0, 0.8, len(item))), 1, 5)
    log_odds = -0.3 + log_odds_per_sd * standardised_metric + image_realism[item] + rater_realism[rater]
    ratings = pd.DataFrame(
        {
            "rater": [f"rater{index}" for index in rater],
            "item": item,
            "quality": quality,
            "called_real": (rng.random(len(item)) < 1 / (1 + np.exp(-log_odds))).astype(int),
            "psnr_mean_db": metric[item],
        }
    )
    return ratings[rng.random(len(ratings)) < rated_share].reset_index(drop=True)


def crossed_mixedlm(ratings):
    """statsmodels' REML fit with crossed variance components for rater and image, called directly."""
    data = ratings.assign(z=standardised(ratings.psnr_mean_db))
    components = {"rater": "0 + C(rater)", "item": "0 + C(item)"}
    return sm.MixedLM.from_formula("quality ~ z", data, groups=np.ones(len(data)), vc_formula=components).fit()


def image_clustered_gee(ratings, standardised_metric=None):
    """statsmodels' GEE clustered by image with rater dummies, called directly."""
    if standardised_metric is None:
        standardised_metric = standardised(ratings.psnr_mean_db)
    raters = pd.get_dummies(ratings.rater, drop_first=True, dtype=float).to_numpy()
    design = np.column_stack([with_constant(standardised_metric), raters])
    model = sm.GEE(
        ratings.called_real.to_numpy(),
        design,
        groups=ratings.item.to_numpy(),
        family=sm.families.Binomial(),
        cov_struct=Exchangeable(),
    )
    return model.fit(maxiter=GEE_MAX_ITERATIONS)
