def errors_as_message(form):
    """A bound form's errors as one line, for views that report them with `django.contrib.messages`."""
    return "; ".join(error for errors in form.errors.values() for error in errors)
