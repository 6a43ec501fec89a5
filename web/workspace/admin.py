from django.contrib import admin

from .models import Assessment, EvidenceFile, Profile, Reopening, Round, RoundCriteria, Unit


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    list_display = ("title", "year", "self_assessment_closes")


@admin.register(RoundCriteria)
class RoundCriteriaAdmin(admin.ModelAdmin):
    list_display = ("criteria_id", "round", "name", "sha256")
    exclude = ("content",)
    readonly_fields = ("round", "name", "sha256", "criteria_id", "title", "unit_types")


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "unit_type", "round")
    list_filter = ("round", "unit_type")
    search_fields = ("name", "code")


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "unit")
    list_filter = ("role",)
    filter_horizontal = ("assigned",)
    autocomplete_fields = ("unit",)


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    """Read-only here: a unit's form changes only through the workspace's rules."""

    list_display = ("unit", "state", "version", "saved_at", "submitted_at", "reopened")
    list_filter = ("state",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Reopening)
class ReopeningAdmin(admin.ModelAdmin):
    list_display = ("unit", "by", "at", "reason")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EvidenceFile)
class EvidenceFileAdmin(admin.ModelAdmin):
    list_display = ("unit", "item", "name", "kind", "size", "uploaded_at")

    def has_change_permission(self, request, obj=None):
        return False
