from django.urls import path

from . import council_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("dang-nhap/", views.login_view, name="login"),
    path("dot/moi/", views.round_new, name="round_new"),
    path("dot/<int:pk>/", views.round_detail, name="round"),
    path("dot/<int:pk>/bang-dieu-khien/", council_views.dashboard, name="dashboard"),
    path("dot/<int:pk>/khao-sat/", council_views.survey, name="survey"),
    path("dot/<int:pk>/ket-thuc/", council_views.close_round, name="close_round"),
    path("dot/<int:pk>/phan-cong/", council_views.assignments, name="assignments"),
    path("dot/<int:pk>/ket-qua/<int:rc>/<str:name>", council_views.result_file, name="result_file"),
    path("don-vi/<int:pk>/", views.unit_page, name="unit"),
    path("don-vi/<int:pk>/gui/", views.submit, name="submit"),
    path("don-vi/<int:pk>/rut-lai/", views.withdraw, name="withdraw"),
    path("don-vi/<int:pk>/mo-lai/", views.reopen, name="reopen"),
    path("don-vi/<int:pk>/tep/", views.upload, name="upload"),
    path("don-vi/<int:pk>/tep/<int:file_id>/", views.download, name="download"),
    path("don-vi/<int:pk>/so-lieu/", views.workbook, name="workbook"),
    path("don-vi/<int:pk>/so-lieu.yaml", views.evidence_file, name="evidence_file"),
    path("don-vi/<int:pk>/tham-dinh/", council_views.appraisal_page, name="appraisal"),
    path("don-vi/<int:pk>/giai-trinh/", council_views.explain, name="explain"),
    path("nhat-ky/", council_views.audit_log, name="audit_log"),
    path("thong-bao/", council_views.notice_list, name="notices"),
]
