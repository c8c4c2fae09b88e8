"""/v1, the authenticated API: every resource's blueprint sits under this one, which
authenticates each request once, before any of their routes runs."""

from __future__ import annotations

from flask import Blueprint

from api import batches, catalogs, deliveries, jobs, queues, webhooks
from api import settings as tenant_settings
from api.auth import authenticate

bp = Blueprint("v1", __name__, url_prefix="/v1")
bp.before_request(authenticate)
for _resource in (jobs.bp, deliveries.bp, webhooks.bp, catalogs.bp, tenant_settings.bp,
                  batches.bp, queues.bp):
    bp.register_blueprint(_resource)
