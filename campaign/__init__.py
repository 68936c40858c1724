"""campaign: a self-hosted advocacy campaign site."""

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from campaign import (
    abuse,
    cli,
    edge,
    errors,
    forms,
    fragments,
    http_cache,
    i18n,
    localised,
    migrations,
    permissions,
    security,
    static_files,
)
from campaign.config import load_config
from campaign.extensions import (
    babel,
    cache,
    compress,
    csrf,
    db,
    limiter,
    login_manager,
    mail,
)
from campaign.paths import folder
from campaign.tasks import celery_init_app


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, error pages, commands."""
    app = i18n.App(  # Flask, with static URLs kept out of language prefixes
        __name__,
        template_folder=folder("templates"),
        static_folder=folder("static"),
        instance_relative_config=True,
    )
    load_config(app, test_config)
    register_proxy_fix(app)
    register_extensions(app)
    register_blueprints(app)
    connect_features()
    errors.register(app)
    edge.register(app)
    security.register(app)
    http_cache.register(app)
    static_files.register(app)
    permissions.register(app)
    cli.register(app)
    logging.basicConfig(level=logging.INFO)
    return app


def register_proxy_fix(app: Flask) -> None:
    """Trust X-Forwarded-* from the configured number of proxies, no more."""
    hops = app.config["PROXY_FIX_X_FOR"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_extensions(app: Flask) -> None:
    """Bind the unbound extension objects to this app."""
    db.init_app(app)
    migrations.register(app)
    csrf.init_app(app)
    compress.init_app(app)
    cache.init_app(app)
    login_manager.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    # Flask-Babel keeps loaded catalogues on the (shared) extension object,
    # keyed by locale only: a new app may read other folders, so start afresh
    # (domain_instance is a cached_property; dropping it drops its cache).
    babel.__dict__.pop("domain_instance", None)
    i18n.register(app)
    localised.register(app)
    fragments.register(app)
    forms.register(app)
    abuse.register(app)
    celery_init_app(app)


def connect_features() -> None:
    """Features talk through signals, so none imports another's internals."""
    from campaign.mailing.services import subscribe_signer
    from campaign.petition.signals import signer_joined_list

    # A confirmed signature with the list box ticked joins the list.
    signer_joined_list.connect(subscribe_signer)


def register_blueprints(app: Flask) -> None:
    """One blueprint per feature, and one for each feature's organiser pages."""
    from campaign.donate.organiser_views import bp as donate_organiser_bp
    from campaign.donate.views import bp as donate_bp
    from campaign.donate.views import webhook_bp
    from campaign.health.views import bp as health_bp
    from campaign.images.views import bp as images_bp
    from campaign.images.views import organiser_bp as images_organiser_bp
    from campaign.mailing.organiser_views import bp as mailing_organiser_bp
    from campaign.mailing.subscriber_views import bp as subscribers_bp
    from campaign.mailing.update_views import bp as petition_updates_bp
    from campaign.mailing.views import bp as mailing_bp
    from campaign.organiser.views import bp as organiser_bp
    from campaign.pages.views import bp as pages_bp
    from campaign.petition.organiser_views import bp as petition_organiser_bp
    from campaign.petition.views import bp as petition_bp
    from campaign.privacy.public_views import bp as self_service_bp
    from campaign.privacy.views import bp as privacy_bp
    from campaign.revisions.views import bp as revisions_bp
    from campaign.story.organiser_views import bp as story_organiser_bp
    from campaign.story.views import bp as story_bp

    for blueprint in (
        story_bp,
        petition_bp,
        mailing_bp,
        donate_bp,
        webhook_bp,
        health_bp,
        organiser_bp,
        petition_organiser_bp,
        petition_updates_bp,
        mailing_organiser_bp,
        subscribers_bp,
        donate_organiser_bp,
        story_organiser_bp,
        images_bp,
        images_organiser_bp,
        privacy_bp,
        self_service_bp,
        revisions_bp,
        pages_bp,
    ):
        app.register_blueprint(blueprint)
