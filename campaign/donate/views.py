"""The donate page (Stripe Checkout arrives with the donations issue)."""

from flask import Blueprint, render_template

bp = Blueprint("donate", __name__, url_prefix="/donate")


@bp.get("")
def index():
    """Where the support banner leads: for now, says giving is coming."""
    return render_template("donate/index.html")
