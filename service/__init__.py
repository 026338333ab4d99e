"""The HTTP face of the model: `create_app(config)` builds the Flask app."""

from service.app import create_app

__all__ = ["create_app"]
