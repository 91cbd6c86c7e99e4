"""WSGI entry point, for gunicorn (from the repository root; stacks/README.md):

  PYTHONPATH=stacks/common:stacks/django LAB_VIEWS=sync /usr/bin/python3 -m gunicorn \
      labsite.wsgi:application --bind 127.0.0.1:8000 --worker-class gthread --workers 1 --threads 200
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labsite.settings")

application = get_wsgi_application()
