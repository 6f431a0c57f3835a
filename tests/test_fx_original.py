"""Issue 17: a card statement's foreign amount (transactions.original_amount + original_currency) is
read from CSV and OFX, written by both import paths and the bulk writer, shown in the grids, kept by the
export that restores and by the CSV download; and the bulk writer refuses amounts finer than the
account currency's minor unit (no half yen)."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from conftest import commit_or_rollback, login
from sqlalchemy import select

from dashboard.services import archive as ex
from dashboard.services import fx
from dashboard.services import importer as imp
from dashboard.services.accounts import create_account
from dashboard.services.bulk import NewTransaction, write_transactions
from dashboard.services.errors import ServiceError
from models import Transaction

D = Decimal


def test_check_original_keeps_both_signed_like_the_amount():
    assert fx.check_original(D("-10.00"), "11.87", " usd ", "EUR") == (D("-11.87"), "USD")
    assert fx.check_original(D("5.00"), "-700", "JPY", "EUR") == (D("700"), "JPY")
    assert fx.check_original(D("-10.00"), None, None, "EUR") == (None, None)
    assert fx.check_original(D("-10.00"), "10.00", "EUR", "EUR") == (None, None)   # not foreign
    for amount, currency, words in (("1.5", "JPY", "no decimals"), ("1.234", "KWD", "3 decimals"),
                                    ("5", "", "together"), ("", "USD", "together"), ("0", "USD", "other than zero"),
                                    ("x", "USD", "not a number"), ("5", "XYZ", "currency")):
        with pytest.raises(ServiceError, match=words):
            fx.check_original(D("-1.00"), amount, currency, "EUR")


CARD_CSV = (b"Date,Merchant,Amount,Original amount,Original currency\n"
            b"2026-01-05,Hotel New York,-118.73,139.50,USD\n"
            b"2026-01-06,Bakery,-3.20,,\n"
            b"2026-01-07,Ramen Tokyo,-12.40,\"2,000\",JPY\n")


def test_csv_original_columns_are_guessed_and_imported(db_session, make_user):
    user = make_user(currency="EUR")
    card = create_account(db_session, user.id, name="Card", type="credit_card")
    db_session.commit()
    guess = imp.inspect_csv(CARD_CSV)
    assert (guess.mapping.amount, guess.mapping.original_amount, guess.mapping.original_currency) == (2, 3, 4)
    assert guess.mapping.currency is None
    parsed = imp.parse_csv(CARD_CSV, guess.mapping)
    assert [(r.original_amount, r.original_currency) for r in parsed.rows] == [
        (D("139.50"), "USD"), (None, None), (D("2000"), "JPY")]
    commit_or_rollback(db_session, imp.run_import, user.id, card.id, parsed)
    got = db_session.execute(select(Transaction.payee, Transaction.amount, Transaction.original_amount,
                                    Transaction.original_currency).order_by(Transaction.date)).all()
    assert [tuple(r) for r in got] == [("Hotel New York", D("-118.73"), D("-139.50"), "USD"),
                                       ("Bakery", D("-3.20"), None, None),
                                       ("Ramen Tokyo", D("-12.40"), D("-2000.00"), "JPY")]


def test_a_bad_original_amount_is_a_line_error_in_the_plan(db_session, make_user):
    user = make_user(currency="EUR")
    card = create_account(db_session, user.id, name="Card", type="credit_card")
    db_session.commit()
    data = b"Date,Merchant,Amount,Original amount,Original currency\n2026-01-07,Ramen,-12.40,1999.5,JPY\n"
    parsed = imp.parse_csv(data, imp.inspect_csv(data).mapping)
    plan = imp.plan_import(db_session, user.id, card.id, parsed)
    assert plan.rows[0].status == imp.ERROR and "no decimals" in plan.rows[0].reason


def test_the_bulk_import_path_keeps_the_original_amount(db_session, make_user):
    user = make_user(currency="EUR")
    card = create_account(db_session, user.id, name="Card", type="credit_card")
    db_session.commit()
    lines = ["Date,Merchant,Amount,Original amount,Original currency"]
    lines += [f"2026-02-{1 + n % 28:02d},Shop {n},-{n + 1}.00,{n + 2}.10,USD" for n in range(imp.BULK_THRESHOLD + 5)]
    data = ("\n".join(lines) + "\n").encode()
    parsed = imp.parse_csv(data, imp.inspect_csv(data).mapping)
    commit_or_rollback(db_session, imp.run_import, user.id, card.id, parsed)
    got = db_session.execute(select(Transaction.amount, Transaction.original_amount, Transaction.original_currency)
                             .where(Transaction.payee == "Shop 7")).one()
    assert tuple(got) == (D("-8.00"), D("-9.10"), "USD")


OFX = b"""OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20260110<LANGUAGE>ENG</SONRS>
</SIGNONMSGSRSV1><CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<CCSTMTRS><CURDEF>EUR<CCACCTFROM><ACCTID>4111</CCACCTFROM><BANKTRANLIST><DTSTART>20260101<DTEND>20260110
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260105<TRNAMT>-118.73<FITID>1<NAME>Hotel New York
<ORIGCURRENCY><CURRATE>0.8511<CURSYM>USD</ORIGCURRENCY></STMTTRN>
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260106<TRNAMT>-2000<FITID>2<NAME>Ramen Tokyo
<CURRENCY><CURRATE>0.0062<CURSYM>JPY</CURRENCY></STMTTRN>
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260107<TRNAMT>-3.20<FITID>3<NAME>Bakery</STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>0<DTASOF>20260110</LEDGERBAL></CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>
"""


def test_ofx_origcurrency_and_currency_aggregates():
    """ORIGCURRENCY: TRNAMT is in CURDEF, the original is TRNAMT / CURRATE. CURRENCY: TRNAMT is in
    CURSYM, the amount in CURDEF is TRNAMT x CURRATE. Each rounded half-even to the cent."""
    parsed = imp.parse_ofx(OFX)
    assert parsed.errors == []
    assert [(r.amount, r.original_amount, r.original_currency) for r in parsed.rows] == [
        (D("-118.73"), D("-139.50"), "USD"),      # 118.73 / 0.8511 = 139.5018...
        (D("-12.40"), D("-2000"), "JPY"),         # 2000 x 0.0062
        (D("-3.20"), None, None)]


def test_bulk_writer_refuses_half_yen_and_writes_whole_yen(db_session, make_user):
    user = make_user(currency="EUR")
    yen = create_account(db_session, user.id, name="Yen", currency="JPY")
    db_session.commit()
    day = date(2026, 1, 5)
    for bad, words in ((NewTransaction(yen.id, day, -150, "expense", None, "half"), "finer than JPY"),
                       (NewTransaction(yen.id, day, -200, "expense", None, "split", lines=((None, 150, ""), (None, 50, ""))),
                        "finer than JPY"),
                       (NewTransaction(yen.id, day, -200, "expense", None, "orig", original_cents=-5,
                                       original_currency="JPY"), "finer than JPY"),
                       (NewTransaction(yen.id, day, -200, "expense", None, "pair", original_cents=-5), "its currency")):
        with pytest.raises(ServiceError, match=words):
            commit_or_rollback(db_session, write_transactions, user.id, [bad])
    assert db_session.scalar(select(Transaction.id)) is None
    commit_or_rollback(db_session, write_transactions, user.id, [
        NewTransaction(yen.id, day, -1200, "expense", None, "ok", original_cents=-789, original_currency="USD")])
    got = db_session.execute(select(Transaction.amount, Transaction.original_amount, Transaction.original_currency)).one()
    assert tuple(got) == (D("-12.00"), D("-7.89"), "USD")


def test_export_restore_grid_and_download_keep_the_original_amount(app, db_session, make_user, client):
    from dashboard.services import transaction_grid as grid
    from dashboard.services.transactions import create_transaction

    alice = make_user("alice@example.com", currency="EUR")
    card = create_account(db_session, alice.id, name="Card", type="credit_card")
    commit_or_rollback(db_session, create_transaction, alice.id, account_id=card.id, date="2026-01-05",
                       amount="-118.73", payee="Hotel", original_amount="139.50", original_currency="USD")
    commit_or_rollback(db_session, create_transaction, alice.id, account_id=card.id, date="2026-01-06",
                       amount="-3.20", payee="Bakery")
    records = grid.grid_records(grid.rows_page(db_session, alice.id, grid.parse_filters({}), 0, 10))
    assert [(r["payee"], r["original_cents"], r["original_currency"]) for r in records] == [
        ("Bakery", None, None), ("Hotel", -13950, "USD")]

    buffer = io.BytesIO()
    ex.write_archive(db_session, alice.id, buffer)
    bob = make_user("bob@example.com", currency="EUR")
    commit_or_rollback(db_session, ex.restore_archive, bob.id, ex.read_archive(buffer.getvalue()))
    got = db_session.execute(select(Transaction.payee, Transaction.original_amount, Transaction.original_currency)
                             .where(Transaction.user_id == bob.id).order_by(Transaction.date)).all()
    assert [tuple(r) for r in got] == [("Hotel", D("-139.50"), "USD"), ("Bakery", None, None)]

    login(client, "alice@example.com")
    with app.app_context():   # its own context, as in production (tests/test_hardening.py)
        text = client.get("/export/spending.csv?from=2026-01-01&to=2026-01-31&preset=custom",
                          buffered=True).get_data(as_text=True)
    header, *lines = text.strip().splitlines()
    assert header.endswith(",amount,currency,original_amount,original_currency,tags")
    # signed like the row's amount: spending is positive in the explorer's download
    assert any(line.startswith("2026-01-05,Hotel") and line.endswith(",118.73,EUR,139.50,USD,") for line in lines)
    assert any(line.startswith("2026-01-06,Bakery") and line.endswith(",3.20,EUR,,,") for line in lines)


def test_the_original_column_shows_only_for_people_with_foreign_amounts(db_session, make_user, client):
    """The Transactions grid's "Original" column takes room only when the person has such rows (read
    from a partial index of those rows); another user's foreign amounts do not show it."""
    from dashboard.pages import transactions as page
    from dashboard.services import transaction_grid as grid
    from dashboard.services.transactions import create_transaction

    alice, bob = make_user("alice@example.com", currency="EUR"), make_user("bob@example.com", currency="EUR")
    card = create_account(db_session, alice.id, name="Card", type="credit_card")
    bobs = create_account(db_session, bob.id, name="Card", type="credit_card")
    commit_or_rollback(db_session, create_transaction, alice.id, account_id=card.id, date="2026-01-06",
                       amount="-3.20", payee="Bakery")
    commit_or_rollback(db_session, create_transaction, bob.id, account_id=bobs.id, date="2026-01-05",
                       amount="-118.73", payee="Hotel", original_amount="139.50", original_currency="USD")
    assert not grid.has_original_amounts(db_session, alice.id)
    assert grid.has_original_amounts(db_session, bob.id)

    def hidden(originals: bool) -> bool:
        column = next(c for c in page._grid_columns("EUR", [], originals=originals) if c["field"] == "original_cents")
        return bool(column.get("hide"))

    assert hidden(False) and not hidden(True)
    login(client, "alice@example.com")
    assert client.get("/transactions").status_code == 200


BESIDE_CSV = (b"Date,Payee,Amount,Currency,Amount (EUR)\n"
              b"2026-01-05,Hotel New York,-139.50,USD,-118.73\n"
              b"2026-01-06,Bakery,-3.20,EUR,-3.20\n"
              b"2026-01-07,Ramen Tokyo,-2000,JPY,-12.40\n")


def test_csv_with_the_account_currency_amount_beside_the_foreign_one(db_session, make_user):
    """Amount + Currency as charged, and the amount in the account's currency in its own column: the
    latter is the transaction's amount, the former its original amount (none for a row in the account's
    own currency)."""
    user = make_user(currency="EUR")
    card = create_account(db_session, user.id, name="Card", type="credit_card")
    db_session.commit()
    guess = imp.inspect_csv(BESIDE_CSV)
    m = guess.mapping
    assert (m.amount, m.original_amount, m.original_currency, m.currency) == (4, 2, 3, None)
    parsed = imp.parse_csv(BESIDE_CSV, m)
    assert not parsed.errors
    commit_or_rollback(db_session, imp.run_import, user.id, card.id, parsed)
    got = db_session.execute(select(Transaction.payee, Transaction.amount, Transaction.original_amount,
                                    Transaction.original_currency).order_by(Transaction.date)).all()
    assert [tuple(r) for r in got] == [("Hotel New York", D("-118.73"), D("-139.50"), "USD"),
                                       ("Bakery", D("-3.20"), None, None),
                                       ("Ramen Tokyo", D("-12.40"), D("-2000.00"), "JPY")]
    # Without the account-currency column the currency column keeps its meaning (a foreign row is refused)
    plain = imp.inspect_csv(b"Date,Payee,Amount,Currency\n2026-01-05,Hotel,-139.50,USD\n").mapping
    assert (plain.amount, plain.currency, plain.original_amount) == (2, 3, None)


def test_a_malformed_file_with_the_amount_beside_is_refused_and_changes_nothing(db_session, make_user):
    user = make_user(currency="EUR")
    card = create_account(db_session, user.id, name="Card", type="credit_card")
    db_session.commit()
    data = (b"Date,Payee,Amount,Currency,Amount (EUR)\n"
            b"2026-01-05,Hotel,abc,USD,-118.73\n"
            b"2026-01-06,Shop,-5.00,XX1,-4.20\n")
    parsed = imp.parse_csv(data, imp.inspect_csv(data).mapping)
    assert [e.line for e in parsed.errors] == [2, 3]
    assert "original amount" in parsed.errors[0].reason and "abc" in parsed.errors[0].reason
    assert "“XX1” is not a currency code" in parsed.errors[1].reason
    with pytest.raises(imp.ImportFileError, match="original amount"):
        imp.run_import(db_session, user.id, card.id, parsed)
    db_session.rollback()
    assert db_session.scalar(select(Transaction.id).where(Transaction.user_id == user.id)) is None
