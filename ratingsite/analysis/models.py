"""Analysis of rating studies: which metric agrees with expert judgement, and how well synthetic images fool experts.

This app stores nothing of its own. It reads the ratings of one or more `ratingsite.studies` studies
(optionally only some professions' raters), the set-level and per-image values of the `ratingsite.metrics`
evaluations of the rated synthetic sets, and the training settings of the sets' runs, and hands them as
pandas frames (`ratingsite.analysis.data`) to `evaluation.analysis`, which does every statistic. A
`ratingsite.analysis.reports.StudyReport` is one such analysis with its plots and export files; the
analysis page, the downloads and ``manage.py export_report`` all come from it. A grid's metrics page
(`ratingsite.analysis.grid_views`) shows the evaluations of a grid's sets over its training settings, with
their significance.
"""
