"""The golden ratings frame the rating-statistics tests share: 3 raters x 68 images with known truth."""

import numpy as np
import pandas as pd

N_REAL, N_SYNTHETIC = 8, 60
SKILLS = (0.55, 0.75, 0.9)
PROFESSIONS = ("clinician", "sonographer", "engineer")


def golden_ratings(n_raters=3, seed=0):
    """``n_raters`` raters x 68 images (8 real, 60 synthetic), every rater rating every image once.

    Rater ``r`` answers right with probability ``SKILLS[r % 3]`` shifted by the image's difficulty, so
    raters differ in skill and images in how convincing they are. Quality (1-5) is the image's own
    level (higher for real images) plus the rater's leniency and noise, rounded and clipped.
    """
    rng = np.random.default_rng(seed)
    n_images = N_REAL + N_SYNTHETIC
    truth = np.array(["real"] * N_REAL + ["synthetic"] * N_SYNTHETIC)
    image_difficulty = rng.normal(0, 0.15, n_images)
    image_level = np.where(truth == "real", 3.8, 2.8) + rng.normal(0, 0.8, n_images)
    frames = []
    for rater in range(n_raters):
        right = rng.random(n_images) < np.clip(SKILLS[rater % 3] - image_difficulty, 0.02, 0.98)
        leniency = rng.normal(0, 0.4)
        quality = np.clip(np.rint(image_level + leniency + rng.normal(0, 0.6, n_images)), 1, 5).astype(int)
        frames.append(
            pd.DataFrame(
                {
                    "rater": f"rater{rater:02d}",
                    "profession": PROFESSIONS[rater % 3],
                    "item": np.arange(n_images),
                    "set": np.where(truth == "real", "hc18", "dcgan64-e300"),
                    "truth": truth,
                    "answer": np.where(right, truth, np.where(truth == "real", "synthetic", "real")),
                    "quality": quality,
                    "seconds": rng.uniform(1, 9, n_images),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
