# SPDX-License-Identifier: AGPL-3.0-or-later
import os

from django.core.wsgi import get_wsgi_application

from encaisse.customers.seller import current_seller

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "encaisse.settings")
application = get_wsgi_application()
# Production refuses to serve pages without the seller's legal identity: ImproperlyConfigured names
# every missing or invalid ENCAISSE_SELLER_* variable (gunicorn runs no system checks). Raised here,
# not in the settings, so that `encaisse check --deploy` still starts and lists the same problems.
current_seller()
