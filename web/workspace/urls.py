from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("dang-nhap/", views.login_view, name="login"),
    path("dot/moi/", views.round_new, name="round_new"),
    path("dot/<int:pk>/", views.round_detail, name="round"),
    path("don-vi/<int:pk>/", views.unit_page, name="unit"),
    path("don-vi/<int:pk>/gui/", views.submit, name="submit"),
    path("don-vi/<int:pk>/rut-lai/", views.withdraw, name="withdraw"),
    path("don-vi/<int:pk>/mo-lai/", views.reopen, name="reopen"),
    path("don-vi/<int:pk>/tep/", views.upload, name="upload"),
    path("don-vi/<int:pk>/tep/<int:file_id>/", views.download, name="download"),
    path("don-vi/<int:pk>/so-lieu/", views.workbook, name="workbook"),
    path("don-vi/<int:pk>/so-lieu.yaml", views.evidence_file, name="evidence_file"),
]
