from django.contrib import admin

from ratingsite.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("pk", "kind", "status", "progress_done", "progress_total", "created_by", "created", "finished")
    list_filter = ("status", "kind", "queue")
    readonly_fields = ("rq_id", "created", "started", "finished")
