"""Creating a study through the researcher's form, as a browser posts it."""

from django.urls import reverse


def create_study(client, real, synthetic_sets, **changes):
    fields = {
        "name": "Turing test",
        "rater_title": "Fetal head images",
        "instructions": "Real or synthetic?",
        "resolution": 64,
        "display_size": 256,
        "target_real_share": 0.5,
        "seed": 7,
        "repeat_count": 0,
        "repeat_gap": 10,
        "sources-TOTAL_FORMS": 8,
        "sources-INITIAL_FORMS": 0,
        "sources-MIN_NUM_FORMS": 1,
        "sources-MAX_NUM_FORMS": 1000,
        "sources-0-image_set": real.pk,
        "sources-0-count": 6,
        "sources-1-image_set": synthetic_sets[0].pk,
        "sources-1-count": 3,
        "sources-2-image_set": synthetic_sets[1].pk,
        "sources-2-count": 3,
    }
    fields.update(changes)
    return client.post(reverse("studies:study-create"), fields)
