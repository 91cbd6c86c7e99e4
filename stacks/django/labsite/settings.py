"""Settings of the lab's Django project: no database, no middleware, no
templates; only the contract's routes (bench/). LAB_VIEWS picks the views:
"sync" (bench/views.py, the default) or "async" (bench/async_views.py)."""

import os

SECRET_KEY = "lab-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = ["bench"]
# No middleware, as in TechEmpower's Django app: every request goes straight
# to its view. (A default project's middleware would add work per request,
# and under ASGI each sync middleware is another hop through sync_to_async.)
MIDDLEWARE = []

LAB_VIEWS = os.environ.get("LAB_VIEWS", "sync")
if LAB_VIEWS not in ("sync", "async"):
    raise RuntimeError("LAB_VIEWS must be sync or async, not %r" % LAB_VIEWS)
ROOT_URLCONF = "labsite.urls"
WSGI_APPLICATION = "labsite.wsgi.application"

DATABASES = {}
USE_TZ = True
