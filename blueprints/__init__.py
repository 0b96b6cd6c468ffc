"""The screens, by who uses them: one blueprint per role's home, plus auth, public, complaints
(the register and a record), penalties (a complaint's penalty), reports (quality's and the
manager's figures), notices (the bell) and admin. What every screen shares sits beside them:
_access (guards, ids → objects), _args (query values), _render (page or fragment, toasts,
labels), _errors (error pages, security headers), _perform (running a domain step), _transfer
(gzip, static caching)."""


def register_web(app) -> None:
    """The hooks every screen shares, before any blueprint (their routes use the `id` converter).
    Order matters: _transfer's after-request hook is registered first so that it runs last, on the
    finished response; NUL bytes are refused before the password gate looks up the user."""
    from blueprints._access import register_access
    from blueprints._errors import register_errors
    from blueprints._render import register_rendering
    from blueprints._transfer import register_transfer
    register_transfer(app)
    register_errors(app)
    register_access(app)
    register_rendering(app)


def register_blueprints(app):
    from blueprints.admin import bp as admin_bp
    from blueprints.auth import bp as auth_bp
    from blueprints.complaints import bp as complaints_bp
    from blueprints.handler import bp as handler_bp
    from blueprints.manager import bp as manager_bp
    from blueprints.meetings import bp as meetings_bp
    from blueprints.notices import bp as notices_bp
    from blueprints.ops import bp as ops_bp, register_metrics
    from blueprints.penalties import bp as penalties_bp
    from blueprints.public import bp as public_bp
    from blueprints.quality import bp as quality_bp
    from blueprints.receiver import bp as receiver_bp
    from blueprints.reports import bp as reports_bp

    register_metrics(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(receiver_bp, url_prefix="/receiver")
    app.register_blueprint(handler_bp, url_prefix="/handler")
    app.register_blueprint(quality_bp, url_prefix="/quality")
    app.register_blueprint(manager_bp, url_prefix="/manager")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(complaints_bp, url_prefix="/complaints")
    app.register_blueprint(meetings_bp, url_prefix="/meetings")
    # Same URLs as when these screens were part of the register (bookmarks, links in e-mails).
    app.register_blueprint(reports_bp, url_prefix="/complaints")
    app.register_blueprint(notices_bp, url_prefix="/complaints/notices")
    app.register_blueprint(penalties_bp, url_prefix="/complaints/<id:complaint_id>/penalty")
