"""How a model fit that fails or warns becomes a table row's note instead of an exception or a warning.

The image-level models (`evaluation.crossed_mixed_model`, `evaluation.logistic_gee`) fit one model per
metric; one that cannot be estimated must give NaN for that metric with the reason, not stop the table.

* ``FIT_ERRORS``: the exceptions a numerical fit raises when the data do not determine the model (singular
  matrices, overflow, perfect separation).
* `FitFailed`: the one exception a model raises instead; its message goes to the row's note.
* `run_quietly`: runs a fit with its warnings collected as text, a convergence warning being a failure.
"""

import warnings

import numpy as np
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError

FIT_ERRORS = (np.linalg.LinAlgError, ValueError, OverflowError, FloatingPointError, PerfectSeparationError)


class FitFailed(Exception):
    """A model could not be estimated; the message goes to the row's note."""


def run_quietly(fit):
    """``fit()`` with warnings turned into text: ``(result, messages)``; raises FitFailed on failure."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            result = fit()
        except FIT_ERRORS as error:
            raise FitFailed(f"{type(error).__name__}: {error}") from error
    messages = list(dict.fromkeys(str(warning.message).strip() for warning in caught))
    if any(issubclass(warning.category, ConvergenceWarning) for warning in caught):
        raise FitFailed("did not converge (" + "; ".join(messages) + ")")
    return result, messages
