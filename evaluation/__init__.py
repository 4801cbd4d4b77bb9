"""Quality metrics for synthetic image sets and the statistics that relate them to expert ratings.

Plain Python, no Django: usable from a notebook and from `python -m evaluation`.
"""
