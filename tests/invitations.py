"""Following a rater's invitation link as the researcher's page gives it."""

import re

INVITATION_LINK = re.compile(r"https?://[^\s<\"]+/accounts/invitation/[\w-]+/")
RATER_PASSWORD = "a-rater-chose-this-42"


def invitation_link(page):
    """The invitation link in a page the researcher sees (the study page, after inviting)."""
    return INVITATION_LINK.search(page).group(0)


def accept(client, link, password=RATER_PASSWORD):
    """Set the rater's password on the link's page, as the rater (the client is logged in as them after)."""
    client.logout()
    response = client.post(link, {"new_password1": password, "new_password2": password})
    assert response.status_code == 302, response.content.decode()
    return password
