from django.contrib import admin, messages

from outbox.models import OutboundEmail
from outbox.services import email_retry


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "subject", "recipients", "status", "attempts", "sent_at"]
    list_filter = ["status"]
    search_fields = ["subject", "to", "key"]
    ordering = ["-id"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]
    actions = ["retry"]

    @admin.display(description="destinatari")
    def recipients(self, obj):
        return ", ".join(obj.to)

    @admin.action(description="Ritenta l'invio delle e-mail non riuscite")
    def retry(self, request, queryset):
        done = sum(email_retry(email=e) for e in queryset)
        self.message_user(request, f"{done} e-mail rimesse in coda.", messages.SUCCESS)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
