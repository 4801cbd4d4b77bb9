"""The Django project: settings, URLs and one app per concept (accounts, jobs, imagesets)."""
