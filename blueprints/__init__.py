"""One blueprint per role, plus auth, admin and public. Each is a package with its views."""


def register_blueprints(app):
    from blueprints.admin import bp as admin_bp
    from blueprints.auth import bp as auth_bp
    from blueprints.complaints import bp as complaints_bp
    from blueprints.handler import bp as handler_bp
    from blueprints.manager import bp as manager_bp
    from blueprints.penalties import bp as penalties_bp
    from blueprints.public import bp as public_bp
    from blueprints.quality import bp as quality_bp
    from blueprints.receiver import bp as receiver_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(receiver_bp, url_prefix="/receiver")
    app.register_blueprint(handler_bp, url_prefix="/handler")
    app.register_blueprint(quality_bp, url_prefix="/quality")
    app.register_blueprint(manager_bp, url_prefix="/manager")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(complaints_bp, url_prefix="/complaints")
    app.register_blueprint(penalties_bp, url_prefix="/complaints/<id:complaint_id>/penalty")
