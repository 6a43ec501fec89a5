"""WSGI entry point (served by waitress through `cchc serve`)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.cchcweb.settings")
application = get_wsgi_application()
