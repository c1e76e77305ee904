"""The JSON API under /api/v1: thin views that parse, call the sync core, and render."""

from flask import Flask


def init_app(app: Flask) -> None:
    from server.web.api import auth, blobs, openapi, push_group, sync

    push_group.init_app(app)

    for module in (auth, sync, blobs, openapi):
        app.register_blueprint(module.bp, url_prefix="/api/v1")
