"""Extensions created unbound and bound in the app factory."""

from flask_sqlalchemy import SQLAlchemy

from server.models.base import Base

db = SQLAlchemy(model_class=Base)
