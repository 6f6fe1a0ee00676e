"""Aso City recovery works tracker."""

from flask import Flask

from config import ROOT, load_config


def create_app(config_override: dict | None = None) -> Flask:
    """Create and configure an instance of the application."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(load_config())
    if config_override:
        app.config.update(config_override)

    from tracker.accounts import security
    from tracker.accounts.joining import bp as joining_bp
    from tracker.accounts.self_service import bp as account_bp
    from tracker.accounts.two_factor import bp as two_factor_bp
    from tracker.accounts.views import bp as accounts_bp
    from tracker.admin.users import bp as admin_users_bp
    from tracker.admin.views import bp as admin_bp
    from tracker.alerts import cli as alerts_cli
    from tracker.alerts.views import bp as alerts_bp
    from tracker.api.views import bp as api_bp
    from tracker.core import db, errors
    from tracker.editing.restrictions import bp as restrictions_bp
    from tracker.editing.views import bp as editing_bp
    from tracker.editing.withdrawal import bp as withdrawal_bp
    from tracker.feeds.views import bp as feeds_bp
    from tracker.hazards import cli as hazards_cli
    from tracker.imports import cli as imports_cli
    from tracker.imports.views import bp as imports_bp
    from tracker.indicators import units
    from tracker.indicators.views import bp as indicators_api_bp
    from tracker.meeting.views import bp as meeting_bp
    from tracker.near.views import bp as near_bp
    from tracker.ogc.views import bp as ogc_bp
    from tracker.plan import names as plan_names
    from tracker.reports import views as reports
    from tracker.serving import (
        answer_cache,
        assets,
        compression,
        hashed_assets,
        headers,
        icons,
        input_guards,
        metrics,
        request_log,
    )
    from tracker.serving.health import bp as health_bp
    from tracker.updates.api import bp as updates_api_bp
    from tracker.updates.photo_files import bp as photos_bp
    from tracker.updates.views import bp as staff_bp
    from tracker.web.views import bp as web_bp
    from tracker.wiring import cli
    from tracker.wiring.metrics import bp as metrics_bp
    from tracker.wiring.openapi import bp as openapi_bp
    from tracker.words import formatting, i18n, vocab

    request_log.init_app(app)
    metrics.init_app(app)
    input_guards.init_app(app)
    db.init_app(app)
    answer_cache.init_app(app)
    i18n.init_app(app)
    formatting.init_app(app)
    vocab.init_app(app)
    units.init_app(app)
    plan_names.init_app(app)
    compression.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    imports_cli.init_app(app)
    hazards_cli.init_app(app)
    security.init_app(app)
    headers.init_app(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(metrics_bp)
    alerts_cli.init_app(app)
    app.register_blueprint(assets.bp)
    app.register_blueprint(icons.bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(two_factor_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(admin_users_bp)
    app.register_blueprint(joining_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(openapi_bp)
    app.register_blueprint(editing_bp)
    app.register_blueprint(withdrawal_bp)
    app.register_blueprint(indicators_api_bp)
    app.register_blueprint(meeting_bp)
    app.register_blueprint(near_bp)
    app.register_blueprint(ogc_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(restrictions_bp)
    app.register_blueprint(alerts_bp)
    app.register_blueprint(updates_api_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(photos_bp)
    reports.init_app(app)
    # Last: it reads every blueprint's static folder, and serves ahead of the app.
    hashed_assets.init_app(app)
    if app.config.get("PROXY_FIX"):
        # One proxy in front (the TLS terminator): trust its X-Forwarded-For/-Proto/-Host
        # for exactly one hop, so a client cannot forge its own address or scheme.
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Flask's documented way to wrap its WSGI app, which its types call a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    return app
