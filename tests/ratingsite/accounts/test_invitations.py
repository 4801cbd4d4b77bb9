"""Invitation links: a new rater sets their own password once, before the link expires; no password is shown."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from ratingsite.accounts.models import Invitation, RaterProfile, token_hash
from ratingsite.studies.models import Participation
from tests.factories import RaterFactory, ResearcherFactory, StudyFactory
from tests.invitations import RATER_PASSWORD, accept, invitation_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(client):
    researcher = ResearcherFactory()
    client.force_login(researcher)
    return StudyFactory(name="internal", rater_title="Head images", instructions="", created_by=researcher)


def invite(client, study, **fields):
    data = {"username": "dr_new", "profession": "engineer", "years_of_experience": "", **fields}
    return client.post(reverse("studies:rater-invite", args=[study.pk]), data, follow=True).content.decode()


def test_an_invited_rater_sets_their_own_password_once_through_the_link(client, study):
    page = invite(client, study)
    link = invitation_link(page)
    assert "Their password" not in page and "shown only this once" not in page
    rater = Participation.objects.get(study=study).rater
    assert not rater.has_usable_password()  # nobody, the researcher included, knows a password of theirs
    assert RaterProfile.objects.get(user=rater).years_of_experience is None  # years are optional
    client.logout()
    form = client.get(link).content.decode()
    assert "Welcome, dr_new" in form and "new_password1" in form
    refused = client.post(link, {"new_password1": "short", "new_password2": "short"})
    assert refused.status_code == 400 and Invitation.objects.usable().exists()
    accept(client, link)
    assert client.get(reverse("home")).content.decode().count("Head images") == 1  # logged in, their study listed
    client.logout()
    assert client.login(username="dr_new", password=RATER_PASSWORD)
    client.logout()
    used = client.get(link)
    assert used.status_code == 410 and "has been used already, has expired" in used.content.decode()
    assert client.post(link, {"new_password1": "x" * 20, "new_password2": "x" * 20}).status_code == 410
    assert client.login(username="dr_new", password=RATER_PASSWORD)  # the used link changed nothing


def test_a_link_expires_and_a_new_one_replaces_the_old(client, study, settings):
    settings.INVITATION_VALID_DAYS = 3
    first = invitation_link(invite(client, study))
    other_page = invite(client, study, username="dr_other")
    assert "works once, for 3 days" in other_page
    other_link = invitation_link(other_page)
    Invitation.objects.filter(user__username="dr_other").update(expires=timezone.now() - timedelta(seconds=1))
    rater = Participation.objects.get(rater__username="dr_new").rater
    reissued = client.post(reverse("studies:rater-link-reissue", args=[study.pk, rater.pk]), follow=True)
    second = invitation_link(reissued.content.decode())
    assert second != first and Invitation.objects.filter(user=rater).count() == 1
    client.logout()
    assert client.get(first).status_code == 410  # replaced
    other = Invitation.objects.get(user__username="dr_other")
    assert other.expires < timezone.now() and client.get(reverse("home")).status_code == 302
    expired = client.get(other_link)
    assert expired.status_code == 410 and "has expired" in expired.content.decode()
    assert not Invitation.objects.filter(user__username="dr_other", used__isnull=False).exists()
    accept(client, second)
    # Only a hash of the token is kept: the database alone cannot open the link.
    token = second.rstrip("/").rsplit("/", 1)[1]
    assert Invitation.objects.get(user=rater).token_hash == token_hash(token) and token not in str(
        list(Invitation.objects.values())
    )


def test_a_rater_who_has_set_a_password_gets_no_new_link(client, study):
    link = invitation_link(invite(client, study))
    accept(client, link)
    client.force_login(study.created_by)
    rater = Participation.objects.get(study=study).rater
    page = client.get(study.get_absolute_url()).content.decode()
    assert "New invitation link" not in page
    response = client.post(reverse("studies:rater-link-reissue", args=[study.pk, rater.pk]), follow=True)
    assert "has set their password already" in response.content.decode() and not Invitation.objects.usable().exists()


def test_where_the_site_sends_email_the_link_is_emailed(client, study, settings):
    settings.INVITATIONS_BY_EMAIL = True
    page = invite(client, study, email="dr.new@example.org")
    link = invitation_link(page)
    assert "Emailed their link to dr.new@example.org" in page
    (message,) = mail.outbox
    assert message.to == ["dr.new@example.org"] and link in message.body and "Head images" in message.subject
    assert "internal" not in message.subject + message.body  # the study's internal name stays internal


def test_the_study_page_maps_pseudonyms_to_invited_names(client, study):
    invite(client, study)
    rater = Participation.objects.get(study=study).rater
    page = client.get(study.get_absolute_url()).content.decode()
    assert re.search(rf"<td>dr_new</td><td>rater-{rater.pk}</td><td>engineer</td><td>—</td>", page)


def test_an_existing_raters_account_is_added_without_a_link(client, study):
    existing = RaterFactory(username="dr_known")
    page = invite(client, study, username="dr_known")
    assert "Added the existing account dr_known" in page and "/accounts/invitation/" not in page
    assert Participation.objects.filter(study=study, rater=existing).exists()
