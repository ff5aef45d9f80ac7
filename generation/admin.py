"""The studio's rows in the admin, for superusers only: jobs, training runs and users' checkpoints are private
(docs/studio.md)."""

from django.contrib import admin

from generation.models import GenerationJob, TrainingJob, UserCheckpoint


class SuperuserOnlyAdmin(admin.ModelAdmin):
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(GenerationJob)
class GenerationJobAdmin(SuperuserOnlyAdmin):
    list_display = ("id", "owner", "model_name", "variation", "status", "progress", "saved", "seconds", "created_at")
    list_filter = ("status", "model_name", "saved")
    search_fields = ("owner__username",)
    readonly_fields = [f.name for f in GenerationJob._meta.fields]


@admin.register(UserCheckpoint)
class UserCheckpointAdmin(SuperuserOnlyAdmin):
    list_display = ("id", "owner", "name", "architecture", "created_at")
    readonly_fields = [f.name for f in UserCheckpoint._meta.fields]


@admin.register(TrainingJob)
class TrainingJobAdmin(SuperuserOnlyAdmin):
    list_display = ("id", "owner", "model_name", "dataset", "status", "steps_done", "steps_total", "created_at")
    list_filter = ("status", "model_name", "dataset")
    search_fields = ("owner__username",)
    readonly_fields = [f.name for f in TrainingJob._meta.fields]
