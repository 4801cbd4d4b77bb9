"""The rq worker of the site: rq's own, with the libraries of the jobs imported once, before the first job.

rq runs each job in a work horse forked from the worker. The site's modules import torch, scipy and the
metrics' libraries only inside the jobs that use them, so that no page waits for them; imported here, by
the worker, every work horse starts with them instead of importing them again (seconds) for each job.
"""

from importlib import import_module

from rq import Worker

JOB_LIBRARIES = ("synthesis.training", "synthesis.generation", "evaluation.registry")


class JobLibrariesWorker(Worker):
    def work(self, *args, **kwargs):
        for module in JOB_LIBRARIES:
            import_module(module)
        return super().work(*args, **kwargs)
