"""ASGI entry point, for uvicorn (from the repository root; stacks/README.md):

  PYTHONPATH=stacks/common LAB_VIEWS=async /usr/bin/python3 -m uvicorn labsite.asgi:application \
      --app-dir stacks/django --host 127.0.0.1 --port 8000 --loop uvloop --http httptools \
      --no-access-log --lifespan off
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labsite.settings")

application = get_asgi_application()
