from ratingsite.accounts.models import is_rater, is_researcher


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_researcher": False, "is_rater": False}
    return {"is_researcher": is_researcher(user), "is_rater": is_rater(user)}
