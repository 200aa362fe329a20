from django.contrib import admin

from operations.models import LifecycleRun


@admin.register(LifecycleRun)
class LifecycleRunAdmin(admin.ModelAdmin):
    list_display = ["day", "status", "started_at", "finished_at", "run_id"]
    list_filter = ["status"]
    ordering = ["-started_at"]
    readonly_fields = [f.name for f in LifecycleRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD")
