"""The site itself: the home page and `manage.py serve`, which runs the whole tool on one machine.

This app has no models; the concepts live in accounts, jobs and imagesets.
"""
