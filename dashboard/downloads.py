"""Download routes: the spending explorer's filtered rows as CSV (streamed, never held in memory) and the
whole-account archive (written by dashboard/services/archive.py)."""
from __future__ import annotations

import csv
import io
from datetime import date

from flask import Blueprint, Response, request, send_file, stream_with_context
from flask_login import current_user, login_required

from dashboard.services import spending as svc
from dashboard.services.archive import safe_text
from models import db, from_cents

bp = Blueprint("downloads", __name__)


def _csv_line(values) -> str:
    """One CSV line; every text cell, whatever its column, goes through the one formula neutraliser
    (services.archive.safe_text: a leading apostrophe before = + - @ tab CR or ')."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([safe_text(v) if isinstance(v, str) else v for v in values])
    return buffer.getvalue()


@bp.route("/export/spending.csv")
@login_required
def spending_csv():
    user_id = current_user.id
    filters = svc.parse_filters(request.args.to_dict(), date.today())

    def generate():
        yield _csv_line(["date", "payee", "description", "category", "account", "amount", "currency",
                         "original_amount", "original_currency", "tags"])
        for row in svc.iter_rows(db.session, user_id, filters):
            original = "" if row.original_cents is None else from_cents(row.original_cents)
            yield _csv_line([row.date, row.payee, row.description, row.category, row.account,
                             from_cents(row.amount_cents), row.currency, original, row.original_currency or "",
                             row.tags])

    name = f"ledgerlens-{filters.flow}-{filters.start}-{filters.end}.csv"
    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/export/account.zip")
@login_required
def account_zip():
    """Everything the logged-in user owns, as a zip of CSV files the Import page can read back."""
    from tempfile import SpooledTemporaryFile

    from dashboard.services.archive import export_filename, write_archive

    buffer = SpooledTemporaryFile(max_size=32 * 1024 * 1024)
    write_archive(db.session, current_user.id, buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype="application/zip", as_attachment=True, download_name=export_filename(),
                     max_age=0)
