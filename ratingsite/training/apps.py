from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "ratingsite.training"
    label = "training"

    def ready(self):
        from ratingsite.jobs.models import OUTCOMES_ON_DISK
        from ratingsite.training.jobs import TRAINING_JOB_KIND, finish_training_job_from_files

        OUTCOMES_ON_DISK[TRAINING_JOB_KIND] = finish_training_job_from_files
