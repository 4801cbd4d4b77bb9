"""The top of the house: what spans every app. The home page walks through a study over all of them, and
`manage.py serve` runs the whole site (the embedded Redis, an rq worker with the jobs' libraries, gunicorn).
No other app imports this one."""
