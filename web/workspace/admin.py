from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

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


class ProfileInline(admin.StackedInline):
    """The role (and unit, or assigned units) on the user's own page, where accounts are made."""

    model = Profile
    can_delete = False
    filter_horizontal = ("assigned",)
    autocomplete_fields = ("unit",)


class WorkspaceUserAdmin(UserAdmin):
    inlines = [ProfileInline]
    list_display = ("username", "first_name", "last_name", "role", "is_active")

    @admin.display(description="vai trò")
    def role(self, user):
        profile = getattr(user, "profile", None)
        return profile.get_role_display() if profile else "—"


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), WorkspaceUserAdmin)
