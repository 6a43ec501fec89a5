from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

admin.site.site_header = "cchc — Quản trị"
admin.site.site_title = "cchc"

urlpatterns = [
    path("quan-tri/", admin.site.urls),
    path("dang-xuat/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("web.workspace.urls")),
]
