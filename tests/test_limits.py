"""Issue 13 items 2-5: no file or request may make the server read without bound.

The archive is streamed and refused as soon as it passes a limit (bytes or rows), OFX line numbers
are found in one pass and OFX size is bounded, a CSV's columns and rows are bounded (and the mapping
preview is small), and request bodies have a size limit (413)."""
from __future__ import annotations

import io
import json
import tracemalloc
import zipfile

import pytest
from conftest import login
from test_import_callbacks import inspect, upload

from dashboard.services import archive as ex
from dashboard.services import importer as imp
from dashboard.services.importer import ImportFileError

MiB = 1024 * 1024


def _archive(transactions_body: bytes) -> bytes:
    """A Ledgerlens export whose transactions.csv is the header plus ``transactions_body``; the zip
    itself stays small however large the body (it compresses)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("manifest.json", json.dumps({"format": ex.FORMAT, "version": ex.VERSION}))
        for name, columns in ex.MEMBERS.items():
            body = ",".join(columns).encode() + b"\n"
            if name == "transactions.csv":
                body += transactions_body
            archive.writestr(name, body)
    return buffer.getvalue()


def _peak_while(fn) -> tuple[Exception | None, int]:
    tracemalloc.start()
    try:
        try:
            fn()
            error = None
        except Exception as exc:   # noqa: BLE001 - returned for the test to look at
            error = exc
        return error, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- item 2: zip bomb -----------------------------------------------------------------------------

def test_zip_bomb_of_rows_is_refused_while_streaming():
    """100 MiB of tiny rows in a zip of a few hundred KiB: refused after MAX_ARCHIVE_ROWS, having held
    only a bounded part of it (before: every row was read into memory first, 2.6 GB for this file)."""
    row = b"1,1,A,2024-01-01,-1.00,expense,,,p,,,,\n"
    data = _archive(row * (100 * MiB // len(row)))
    assert len(data) < 2 * MiB
    error, peak = _peak_while(lambda: ex.read_archive(data))
    assert isinstance(error, ImportFileError) and "too large" in error.message
    assert f"{ex.MAX_ARCHIVE_ROWS:,} rows" in error.message
    assert peak < 120 * MiB, f"peak {peak / MiB:.0f} MiB"


def test_zip_bomb_of_bytes_is_refused_while_streaming():
    """Few rows, each huge (under the CSV field limit): refused when MAX_ARCHIVE_UNCOMPRESSED bytes have
    been inflated, whatever the zip declares."""
    row = b"1,1,A,2024-01-01,-1.00,expense,,,p,," + b"x" * 900_000 + b",,\n"
    data = _archive(row * (ex.MAX_ARCHIVE_UNCOMPRESSED // len(row) + 20))
    error, peak = _peak_while(lambda: ex.read_archive(data))
    assert isinstance(error, ImportFileError) and "too large" in error.message
    assert peak < ex.MAX_ARCHIVE_UNCOMPRESSED * 3, f"peak {peak / MiB:.0f} MiB"


def test_zip_with_thousands_of_entries_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", "{}")
        for i in range(ex.MAX_ARCHIVE_ENTRIES + 1):
            archive.writestr(f"x{i}", "")
    with pytest.raises(ImportFileError, match="files"):
        ex.read_archive(buffer.getvalue())


# -- item 3: OFX ----------------------------------------------------------------------------------

OFX_HEAD = (b"OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
            b"COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1"
            b"<STATUS><CODE>0<SEVERITY>INFO</STATUS><STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1<ACCTID>2"
            b"<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST><DTSTART>20240101<DTEND>20240102\n")
OFX_TAIL = (b"</BANKTRANLIST><LEDGERBAL><BALAMT>0<DTASOF>20240101</LEDGERBAL></STMTRS></STMTTRNRS>"
            b"</BANKMSGSRSV1></OFX>\n")


def _ofx(n: int, extra_lines: int = 0) -> bytes:
    trn = b"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240101<TRNAMT>-1.00<FITID>%d<NAME>x" + b"\n" * extra_lines + b"</STMTTRN>\n"
    return OFX_HEAD + b"".join(trn % i for i in range(n)) + OFX_TAIL


def test_ofx_line_numbers_are_found_in_one_pass(monkeypatch):
    result = imp.parse_ofx(_ofx(3, extra_lines=2))
    assert [r.line for r in result.rows] == [12, 15, 18]
    assert imp._line_numbers(b"a\nb\n\nc", [0, 2, 4, 5]) == [1, 2, 3, 4]


def test_ofx_beyond_its_limits_is_refused_before_parsing():
    with pytest.raises(ImportFileError, match="more than 100,000 transactions"):
        imp.parse_ofx(_ofx(imp.MAX_IMPORT_ROWS + 1))
    with pytest.raises(ImportFileError, match="tags"):
        imp.parse_ofx(OFX_HEAD + b"<MEMO>x" * (imp.MAX_OFX_TAGS + 1) + OFX_TAIL)


# -- item 4: CSV ----------------------------------------------------------------------------------

def test_csv_with_a_million_columns_is_refused_quickly_and_small():
    data = b",".join([b"c"] * 1_000_000) + b"\n" + b",".join([b"1"] * 1_000_000) + b"\n"
    error, peak = _peak_while(lambda: imp.inspect_csv(data))
    assert isinstance(error, ImportFileError) and "columns" in error.message
    assert peak < 64 * MiB, f"peak {peak / MiB:.0f} MiB"
    with pytest.raises(ImportFileError, match="columns"):
        imp.parse_csv(data, imp.CsvMapping(date=0, amount=1))


def test_csv_row_limit_and_small_preview():
    data = b"Date,Amount,Payee\n" + b"2024-01-01,-1.00,x\n" * (imp.MAX_IMPORT_ROWS + 1)
    with pytest.raises(ImportFileError, match="more than 100,000 rows"):
        imp.parse_csv(data, imp.CsvMapping(date=0, amount=1, payee=2))
    ok = b"Date,Amount,Payee\n" + b"2024-01-01,-1.00,x\n" * imp.MAX_IMPORT_ROWS
    assert len(imp.parse_csv(ok, imp.CsvMapping(date=0, amount=1, payee=2)).rows) == imp.MAX_IMPORT_ROWS
    wide = ("Date,Amount," + "P" * 5000 + "\n2024-01-01,-1.00," + "y" * 50_000 + "\n").encode()
    guess = imp.inspect_csv(wide)
    assert max(len(c) for c in guess.columns) <= imp.PREVIEW_CELL
    assert max(len(c) for row in guess.sample for c in row) <= imp.PREVIEW_CELL


# -- item 5: request size -------------------------------------------------------------------------

def test_request_bodies_have_a_limit(app, client, make_user):
    make_user("alice@example.com")
    login(client, "alice@example.com")
    big = json.dumps({"output": "x.y", "inputs": [{"id": "x", "property": "y", "value": "a" * (40 * MiB)}]})
    response = client.post("/_dash-update-component", data=big, content_type="application/json")
    assert response.status_code == 413
    assert app.config["DASH_MAX_CONTENT_LENGTH"] < 40 * MiB
    # Forms (login, settings) get 1 MiB: a larger form is not parsed (werkzeug drops it: no CSRF token).
    assert app.config["MAX_CONTENT_LENGTH"] == MiB
    response = client.post("/login", data={"email": "x" * (2 * MiB), "password": "y"})
    assert response.status_code in (400, 413)


def test_an_upload_at_the_stated_limit_still_fits(app, client, make_user, make_account):
    user = make_user("alice@example.com")
    account = make_account(user)
    login(client, "alice@example.com")
    line = b"2024-01-01,-1.00,x\n"
    data = b"Date,Amount,Payee\n" + line * ((imp.MAX_UPLOAD_BYTES - 40) // len(line))
    assert len(data) <= imp.MAX_UPLOAD_BYTES
    status, body = inspect(client, upload(data, "s.csv"))
    assert status == 200 and "3 columns" in json.dumps(body)
    del account
