"""The page of an invitation link, where a new rater sets their own password."""

from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import SetPasswordForm
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View

from ratingsite.accounts.models import Invitation


@method_decorator(login_not_required, name="dispatch")
class InvitationAccept(View):
    """Anyone holding the link: its token (256 random bits, kept only as a hash) is the permission, once, until
    it expires."""

    def dispatch(self, request, token):
        self.invitation = Invitation.objects.by_token(token)
        if self.invitation is None:
            return render(request, "registration/invitation_invalid.html", status=410)
        return super().dispatch(request, token)

    def get(self, request, token):
        return self.page(request, SetPasswordForm(self.invitation.user))

    def post(self, request, token):
        form = SetPasswordForm(self.invitation.user, request.POST)
        if not form.is_valid():
            return self.page(request, form, status=400)
        with transaction.atomic():
            # Marked used in the same statement that checks it is not: two tabs posting at once set one password.
            if not Invitation.objects.usable().filter(pk=self.invitation.pk).update(used=timezone.now()):
                return render(request, "registration/invitation_invalid.html", status=410)
            user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")

    def page(self, request, form, status=200):
        context = {"form": form, "invitation": self.invitation}
        return render(request, "registration/invitation_accept.html", context, status=status)
