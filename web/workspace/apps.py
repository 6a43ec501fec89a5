from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "web.workspace"
    label = "workspace"
    verbose_name = "Chấm điểm Chỉ số CCHC"
