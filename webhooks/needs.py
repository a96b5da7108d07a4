"""CS pages for needs: the table, the intake form and one page per need."""

from flask import Blueprint

bp = Blueprint("needs", __name__)
