"""services.importer: parsers (a table of real-world CSV shapes, OFX 1.x and 2.x), money and dates,
fuzzing with random and mangled files, duplicates, rules and suggestions, and all-or-nothing writes."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import commit_or_rollback
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from test_rollup import raw_totals, rollup_totals
from test_transactions_service import check_ledger

from dashboard.services import bulk
from dashboard.services import importer as imp
from dashboard.services.budgets import create_budget
from dashboard.services.errors import NotFound, ServiceError
from dashboard.services.importer import CsvMapping, ImportFileError
from dashboard.services.transactions import create_transaction
from models import Category, Expense, ImportRule, MonthlyRollup, Transaction
from models.db import MAX_CENTS

D = Decimal
DATA = Path(__file__).resolve().parent / "data"


def rows_of(result: imp.ParseResult) -> list[tuple]:
    return [(r.date.isoformat(), str(r.amount), r.payee) for r in result.rows]


# ---------------------------------------------------------------------------------------------------
# CSV shapes: bytes in, rows out, with the mapping the importer guesses (and the user could change)
# ---------------------------------------------------------------------------------------------------

CSV_SHAPES = [
    pytest.param(
        b"Date,Payee,Amount\n2024-03-01,Coffee Shop,-4.50\n2024-03-02,Employer,\"2,500.00\"\n",
        {}, [("2024-03-01", "-4.50", "Coffee Shop"), ("2024-03-02", "2500.00", "Employer")], id="iso-signed-utf8"),
    pytest.param(
        "Buchungstag;Empfänger;Verwendungszweck;Betrag\n01.03.2024;Bäckerei Müller;Brötchen;-3,20\n"
        "15.03.2024;Arbeitgeber GmbH;Gehalt März;2.500,00\n".encode("latin-1"),
        {"decimal": ",", "date_format": "dmy", "delimiter": ";"},
        [("2024-03-01", "-3.20", "Bäckerei Müller"), ("2024-03-15", "2500.00", "Arbeitgeber GmbH")],
        id="day-first-decimal-comma-semicolon-latin1"),
    pytest.param(
        "\ufeffDate,Description,Debit,Credit\r\n03/01/2024,STARBUCKS,4.50,\r\n03/15/2024,PAYROLL,,\"1,250.00\"\r\n"
        "03/31/2024,FEE,2.00,\r\n".encode(),
        {"date_format": "mdy", "debit": 2, "credit": 3, "amount": None},
        [("2024-03-01", "-4.50", "STARBUCKS"), ("2024-03-15", "1250.00", "PAYROLL"), ("2024-03-31", "-2.00", "FEE")],
        id="month-first-debit-credit-bom-crlf"),
    pytest.param(
        b"13/03/2024,-12.00,Cinema\n01/03/2024,-4.50,Coffee shop\n",
        {"has_header": False, "date_format": "dmy"},
        [("2024-03-13", "-12.00", "Cinema"), ("2024-03-01", "-4.50", "Coffee shop")], id="no-header"),
    pytest.param(
        b"Date,Merchant,Amount\n2024-03-01,Refund,$12.00\n2024-03-02,Shoes,\"($1,049.99)\"\n2024-03-03,Cab,-$8.10\n"
        b"2024-03-04,Fee,2.50 DR\n",
        {}, [("2024-03-01", "12.00", "Refund"), ("2024-03-02", "-1049.99", "Shoes"), ("2024-03-03", "-8.10", "Cab"),
             ("2024-03-04", "-2.50", "Fee")], id="currency-parentheses-dr"),
    pytest.param(
        "Datum;Text;Betrag\n02.03.24;Miete;1.200,00-\n03.03.24;Zins;0,35\n04.03.24;Laden;1 234,56-\n".encode("cp1252"),
        {"decimal": ",", "date_format": "dmy"},
        [("2024-03-02", "-1200.00", "Miete"), ("2024-03-03", "0.35", "Zins"), ("2024-03-04", "-1234.56", "Laden")],
        id="trailing-minus-two-digit-year-space-thousands"),
    pytest.param(
        b"Account: 12345678\nStatement March 2024\n\nDate,Amount,Description\n2024-03-01,-4.50,Coffee\n",
        {"skip_rows": 3}, [("2024-03-01", "-4.50", "Coffee")], id="preamble-lines"),
    pytest.param(
        b"Date\tPayee\tAmount\n12 Mar 2024\tBook shop\t-19.99\n1 Apr 2024\tSalary\t3000\n",
        {"delimiter": "\t"}, [("2024-03-12", "-19.99", "Book shop"), ("2024-04-01", "3000.00", "Salary")],
        id="tab-month-names"),
    pytest.param(
        b'Date,Payee,Amount,Memo\n2024-03-01,"Smith, Jones & Co","-80.00","line one\nline two"\n',
        {}, [("2024-03-01", "-80.00", "Smith, Jones & Co")], id="quoted-comma-and-newline"),
    pytest.param(
        b"Posted Date,Description,Amount\n2024-03-05,GROCER,25.10\n2024-03-06,PAYMENT THANK YOU,-500.00\n",
        {"user:invert": True}, [("2024-03-05", "-25.10", "GROCER"), ("2024-03-06", "500.00", "PAYMENT THANK YOU")],
        id="card-statement-flipped-by-the-user"),
    pytest.param(
        "Date,Payee,Amount\n2024-03-01,Café Zoë,-3.00\n".encode("utf-16"), {},
        [("2024-03-01", "-3.00", "Café Zoë")], id="utf16-bom"),
    pytest.param(
        b"Date,Payee,Amount\n2024-03-01 14:22:05,Late coffee,-3.00\n2024-03-02T08:00:00Z,Bus,-2.75\n", {},
        [("2024-03-01", "-3.00", "Late coffee"), ("2024-03-02", "-2.75", "Bus")], id="dates-with-times"),
]


@pytest.mark.parametrize("data, expected_mapping, expected_rows", CSV_SHAPES)
def test_csv_shapes_are_guessed_and_parsed(data, expected_mapping, expected_rows):
    guess = imp.inspect_csv(data)
    chosen = {key[5:]: value for key, value in expected_mapping.items() if key.startswith("user:")}
    for key, value in expected_mapping.items():
        if not key.startswith("user:"):
            assert getattr(guess.mapping, key) == value, key
    result = imp.parse_csv(data, CsvMapping(**{**guess.mapping.to_dict(), **chosen}))
    assert result.errors == []
    assert rows_of(result) == expected_rows
    assert all(isinstance(r.amount, Decimal) for r in result.rows)


def test_encodings_are_reported():
    assert imp.decode_text(b"a,b\n")[1] == "UTF-8"
    assert imp.decode_text("\ufeffa,b\n".encode())[1] == "UTF-8 (with BOM)"
    assert imp.decode_text("é,€\n".encode("cp1252"))[1] == "Windows-1252"
    assert imp.decode_text(b"\x81\xe9,b\n") == ("\x81é,b\n", "Latin-1")  # 0x81 is not in cp1252


def test_category_column_and_description():
    data = b"Date,Payee,Memo,Amount,Category\n2024-03-01,Trader Joe's,weekly shop,-54.20,Food > Groceries\n"
    result = imp.parse_csv(data, imp.inspect_csv(data).mapping)
    row = result.rows[0]
    assert (row.payee, row.description, row.category) == ("Trader Joe's", "weekly shop", "Food > Groceries")


def test_user_mapping_changes_the_reading():
    data = b"Date,Amount,Payee\n03/04/2024,-1.00,X\n"
    guess = imp.inspect_csv(data)
    assert any("day-first or month-first" in w for w in guess.warnings)
    day_first = imp.parse_csv(data, CsvMapping(**{**guess.mapping.to_dict(), "date_format": "dmy"}))
    month_first = imp.parse_csv(data, CsvMapping(**{**guess.mapping.to_dict(), "date_format": "mdy"}))
    assert day_first.rows[0].date == date(2024, 4, 3)
    assert month_first.rows[0].date == date(2024, 3, 4)


@pytest.mark.parametrize("data, mapping, line, words", [
    (b"Date,Payee,Amount\n2024-03-01,A,-1.00\n2024-13-45,B,-2.00\n", None, 3, "not a date"),
    (b"Date,Payee,Amount\n2024-03-01,A,abc\n", None, 2, "not an amount"),
    (b"Date,Payee,Amount\n2024-03-01,A,\"-1,50\"\n", {"decimal": "."}, 2, "choose “,”"),
    (b"Date,Payee,Amount\n2024-03-01,A,-1.505\n", None, 2, "more than two decimals"),
    (b"Date,Payee,Amount\n2024-03-01,A\n", None, 2, "this line has 2 columns"),
    (b"Date,Payee,Amount\n2024-03-01,A,99999999999999999999\n", None, 2, "too large"),
    (b"Date,Payee,Debit,Credit\n2024-03-01,A,,\n", {"amount": None, "debit": 2, "credit": 3}, 2,
     "both the debit and the credit are empty"),
])
def test_bad_lines_name_the_line_and_the_reason(data, mapping, line, words):
    base = imp.inspect_csv(data).mapping
    mapping = CsvMapping(**{**base.to_dict(), **(mapping or {})})
    result = imp.parse_csv(data, mapping)
    assert result.errors and result.errors[0].line == line and words in result.errors[0].reason
    with pytest.raises(ImportFileError) as info:
        result.raise_for_errors()
    assert info.value.line == line and info.value.message.startswith(f"Line {line}: ")


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"just one column\nanother\n", "Only one column"),
    (b"PK\x03\x04rest", "zip"),
    (b"%PDF-1.7 ...", "PDF"),
    (b"Date,Amount\n\x00\x01\x02", "binary"),
])
def test_unreadable_files_are_refused_clearly(data, words):
    with pytest.raises(ImportFileError) as info:
        imp.parse_file(data, "statement.csv")
    assert words in info.value.message


def test_mapping_is_checked():
    data = b"Date,Payee,Amount\n2024-03-01,A,-1.00\n"
    with pytest.raises(ImportFileError, match="not in the file"):
        imp.parse_csv(data, CsvMapping(date=0, amount=7))
    with pytest.raises(ImportFileError, match="amount column"):
        imp.parse_csv(data, CsvMapping(date=0))
    with pytest.raises(ImportFileError, match="different columns"):
        imp.parse_csv(data, CsvMapping(date=0, amount=0))
    with pytest.raises(ImportFileError):
        CsvMapping.from_dict({"date": "x"})
    assert CsvMapping.from_dict({"date": "0", "amount": 2, "evil": "__import__('os')"}).amount == 2


# ---------------------------------------------------------------------------------------------------
# Money and dates, exactly
# ---------------------------------------------------------------------------------------------------

@given(st.integers(min_value=-MAX_CENTS, max_value=MAX_CENTS), st.sampled_from([".", ","]),
       st.booleans(), st.sampled_from(["minus", "parens", "trailing"]))
def test_money_round_trips_in_every_style(cents, decimal, grouped, negative_style):
    value = abs(cents)
    units, rest = divmod(value, 100)
    thousands = "," if decimal == "." else "."
    whole = f"{units:,}".replace(",", thousands) if grouped else str(units)
    text = f"{whole}{decimal}{rest:02d}"
    if cents < 0:
        text = {"minus": f"-{text}", "parens": f"({text})", "trailing": f"{text}-"}[negative_style]
    parsed = imp.parse_money(text, decimal)
    assert parsed == Decimal(cents) / 100 and isinstance(parsed, Decimal)


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2150, 12, 31)),
       st.sampled_from(["iso", "dmy", "mdy"]), st.sampled_from(["/", "-", "."]))
def test_dates_round_trip(day, fmt, sep):
    text = {"iso": f"{day.year}{sep}{day.month:02d}{sep}{day.day:02d}",
            "dmy": f"{day.day}{sep}{day.month}{sep}{day.year}",
            "mdy": f"{day.month:02d}{sep}{day.day:02d}{sep}{day.year}"}[fmt]
    assert imp.parse_date_text(text, fmt) == day


# ---------------------------------------------------------------------------------------------------
# OFX and QFX
# ---------------------------------------------------------------------------------------------------

def test_ofx_1_sgml():
    result = imp.parse_file((DATA / "statement_v1.ofx").read_bytes(), "statement_v1.ofx")
    assert result.format == "ofx" and result.errors == []
    assert result.info == {"accounts": ["000123456789"], "currencies": ["USD"]}
    assert rows_of(result) == [
        ("2024-03-01", "-1850.00", "MAPLE COURT APTS"), ("2024-03-05", "-4.75", "BLUE BOTTLE COFFEE"),
        ("2024-03-05", "-4.75", "BLUE BOTTLE COFFEE"), ("2024-03-12", "-120.00", "Check 1042"),
        ("2024-03-29", "5400.00", "NORTHWIND PAYROLL")]
    assert [r.external_id for r in result.rows][:2] == ["202403010001", "202403050001"]
    assert result.rows[-1].description == "Salary & bonus"
    assert result.rows[0].line == 39   # the line of its <STMTTRN>


def test_qfx_2_xml_card_statement():
    data = (DATA / "statement_v2.qfx").read_bytes()
    result = imp.parse_file(data, "card.qfx")
    assert result.info["currencies"] == ["EUR"]
    assert rows_of(result) == [("2024-03-02", "-62.40", "Café Müller & Söhne"),
                               ("2024-03-10", "-1234.50", "Electronics Store"),
                               ("2024-03-15", "25.00", "Refund Online Shop")]
    assert result.rows[0].description == "Card 1111"
    # Detected by content whatever the file is called; a BOM in front is fine.
    assert imp.parse_file(b"\xef\xbb\xbf" + data, "download.txt").format == "ofx"


def test_ofx_problems_are_clear():
    v1 = (DATA / "statement_v1.ofx").read_bytes()
    with pytest.raises(ImportFileError, match="not an OFX statement"):
        imp.parse_ofx(b"OFXHEADER:100\nDATA:OFXSGML\nnonsense</OFX>")
    with pytest.raises(ImportFileError, match="incomplete"):
        imp.parse_ofx(v1[: len(v1) // 2])
    bad_amount = imp.parse_ofx(v1.replace(b"<TRNAMT>-120.00", b"<TRNAMT>twelve"))
    assert bad_amount.errors[0].line == 61 and "not an amount" in bad_amount.errors[0].reason
    no_date = imp.parse_ofx(v1.replace(b"<DTPOSTED>20240312\r\n", b"").replace(b"<DTPOSTED>20240312\n", b""))
    assert "no date" in no_date.errors[0].reason
    empty = v1.split(b"<STMTTRN>")[0] + b"</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    with pytest.raises(ImportFileError, match="no transactions"):
        imp.parse_ofx(empty)


# ---------------------------------------------------------------------------------------------------
# Fuzzing: random bytes and mangled files never escape as anything but ImportFileError
# ---------------------------------------------------------------------------------------------------

SAMPLES = [bytes(p.values[0]) for p in CSV_SHAPES] + [
    (DATA / "statement_v1.ofx").read_bytes(), (DATA / "statement_v2.qfx").read_bytes()]


def _mangle(data: bytes, draw) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["cut", "insert", "flip", "truncate", "duplicate"]))
        if not out:
            break
        at = draw(st.integers(0, len(out) - 1))
        if action == "cut":
            del out[at:at + draw(st.integers(1, 40))]
        elif action == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=20))
        elif action == "flip":
            out[at] = draw(st.integers(0, 255))
        elif action == "truncate":
            del out[at:]
        else:
            out[at:at] = out[max(0, at - 30):at]
    return bytes(out)


def _parse_any(data: bytes, name: str):
    """What the import page does with a file: inspect a CSV, then parse it with the guess."""
    return imp.parse_file(data, name)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from(["x.csv", "x.ofx", "x.qfx", "x"]))
def test_random_bytes_give_rows_or_a_clear_error(data, name):
    try:
        result = _parse_any(data, name)
    except ImportFileError as error:
        assert error.message
        return
    assert all(isinstance(r.amount, Decimal) for r in result.rows)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SAMPLES), st.data())
def test_mangled_files_give_rows_or_a_clear_error(sample, data):
    mangled = _mangle(sample, data.draw)
    for name in ("x.csv", "x.ofx"):
        try:
            result = _parse_any(mangled, name)
        except ImportFileError as error:
            assert error.message
            continue
        for row in result.rows:
            assert isinstance(row.amount, Decimal) and row.amount == row.amount.quantize(D("0.01"))
            assert len(row.payee) <= imp.PAYEE_MAX and len(row.description) <= imp.DESCRIPTION_MAX


# ---------------------------------------------------------------------------------------------------
# With the database
# ---------------------------------------------------------------------------------------------------

@pytest.fixture()
def cats(db_session):
    rows = db_session.execute(select(Category.name, Category.id).where(Category.user_id.is_(None))).all()
    return {name: cid for name, cid in rows}


@pytest.fixture()
def world(db_session, make_user, make_account):
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    return {"alice": alice, "bob": bob, "checking": make_account(alice, "Checking"),
            "card": make_account(alice, "Card", "credit_card"), "bob_account": make_account(bob, "Checking")}


def tx_count(session, user_id=None) -> int:
    stmt = select(func.count()).select_from(Transaction)
    if user_id is not None:
        stmt = stmt.where(Transaction.user_id == user_id)
    return session.scalar(stmt)


def csv_bytes(rows, header="Date,Payee,Amount") -> bytes:
    return (header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)).encode()


def do_import(session, user, account, data: bytes, decisions=None, name="s.csv"):
    return commit_or_rollback(session, imp.run_import, user.id, account.id, imp.parse_file(data, name), decisions)


COFFEE = ("2024-03-05", "Blue Bottle", "-4.75")


def test_csv_import_writes_expenses_income_and_rollup(db_session, world):
    alice, checking = world["alice"], world["checking"]
    data = csv_bytes([("2024-03-01", "Rent", "-1850.00"), COFFEE, ("2024-03-29", "Payroll", "5400.00"),
                      ("2024-04-02", "Market", "-20.10")])
    result = do_import(db_session, alice, checking, data)
    assert (result.added, result.skipped) == (4, 0)
    assert result.months == [date(2024, 3, 1), date(2024, 4, 1)]
    assert (result.spending_cents, result.income_cents) == (187485, 540000)
    kinds = dict(db_session.execute(select(Transaction.payee, Transaction.kind)).all())
    assert kinds == {"Rent": "expense", "Blue Bottle": "expense", "Payroll": "income", "Market": "expense"}
    check_ledger(db_session)
    assert raw_totals(db_session, alice.id) == rollup_totals(db_session, alice.id)


def test_same_file_twice_adds_nothing(db_session, world):
    data = (DATA / "statement_v1.ofx").read_bytes()
    first = do_import(db_session, world["alice"], world["checking"], data, name="s.ofx")
    second = do_import(db_session, world["alice"], world["checking"], data, name="s.ofx")
    assert (first.added, second.added, second.skipped) == (5, 0, 5)
    assert "Nothing new" in second.message
    csv = csv_bytes([COFFEE, ("2024-03-06", "Bus", "-2.75")])
    assert do_import(db_session, world["alice"], world["card"], csv).added == 2
    assert do_import(db_session, world["alice"], world["card"], csv).added == 0
    assert tx_count(db_session) == 7


def test_two_overlapping_statements(db_session, world):
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(31)]
    rows = [(d.isoformat(), f"Shop {d.day % 5}", f"-{d.day}.25") for d in days]
    first = csv_bytes(rows[:20])      # 1-20 January
    second = csv_bytes(rows[9:])      # 10-31 January: 11 rows overlap
    assert do_import(db_session, world["alice"], world["checking"], first).added == 20
    result = do_import(db_session, world["alice"], world["checking"], second)
    assert (result.added, result.skipped) == (11, 11)
    assert tx_count(db_session) == 31


def test_identical_real_rows_are_counted_not_collapsed(db_session, world):
    alice, checking = world["alice"], world["checking"]
    two = csv_bytes([COFFEE, COFFEE])
    assert do_import(db_session, alice, checking, two).added == 2        # two real coffees
    assert do_import(db_session, alice, checking, two).added == 0        # the same statement again
    three = csv_bytes([COFFEE, COFFEE, COFFEE, ("2024-03-06", "blue  BOTTLE", "-4.75")])
    plan = imp.plan_import(db_session, alice.id, checking.id, imp.parse_file(three, "s.csv"))
    assert [r.status for r in plan.rows] == ["duplicate", "duplicate", "new", "new"]
    assert "one more" in plan.rows[2].reason
    assert do_import(db_session, alice, checking, three).added == 2
    assert tx_count(db_session) == 4


def test_fitid_dedupes_even_identical_rows_and_matches_csv_imports(db_session, world):
    alice, checking = world["alice"], world["checking"]
    ofx = (DATA / "statement_v1.ofx").read_bytes()
    # The same rent and one coffee came in earlier from a CSV (no bank ids).
    do_import(db_session, alice, checking, csv_bytes([("2024-03-01", "Maple Court Apts", "-1850.00"),
                                                      ("2024-03-05", "BLUE BOTTLE COFFEE", "-4.75")]))
    plan = imp.plan_import(db_session, alice.id, checking.id, imp.parse_file(ofx, "s.ofx"))
    assert [r.status for r in plan.rows] == ["duplicate", "duplicate", "new", "new", "new"]
    assert do_import(db_session, alice, checking, ofx, name="s.ofx").added == 3
    ids = set(db_session.scalars(select(Transaction.external_id).where(Transaction.external_id.is_not(None))))
    assert ids == {"202403050002", "202403120001", "202403290001"}
    # A repeated FITID in one file is a duplicate, and importing it anyway drops the id.
    doubled = ofx.replace(b"<FITID>202403050002", b"<FITID>202403050001")
    plan = imp.plan_import(db_session, world["alice"].id, world["card"].id, imp.parse_file(doubled, "s.ofx"))
    assert plan.rows[2].status == "duplicate" and "twice" in plan.rows[2].reason
    result = do_import(db_session, alice, world["card"], doubled, decisions={plan.rows[2].line: True}, name="s.ofx")
    assert result.added == 5


def test_user_decisions_override(db_session, world):
    alice, checking = world["alice"], world["checking"]
    data = csv_bytes([COFFEE, ("2024-03-06", "Bus", "-2.75"), ("2024-03-07", "Pizza", "-12.00")])
    do_import(db_session, alice, checking, csv_bytes([COFFEE]))
    # Line 2 (the coffee) is a duplicate: import it anyway; line 3 (bus) is new: leave it out.
    result = do_import(db_session, alice, checking, data, decisions={"2": True, "3": False, "x": True, "4": "yes"})
    assert result.added == 2
    payees = sorted(db_session.scalars(select(Transaction.payee)))
    assert payees == ["Blue Bottle", "Blue Bottle", "Pizza"]


def test_bad_lines_stop_the_import_unless_left_out(db_session, world):
    alice, checking = world["alice"], world["checking"]
    data = b"Date,Payee,Amount\n2024-03-01,A,-1.00\n2024-03-02,B,oops\n2024-03-03,C,-3.00\n"
    with pytest.raises(ImportFileError) as info:
        do_import(db_session, alice, checking, data)
    assert info.value.line == 3 and "“oops” is not an amount" in info.value.message
    assert tx_count(db_session) == 0
    assert do_import(db_session, alice, checking, data, decisions={3: False}).added == 2


def test_many_bad_lines_cannot_be_waved_through(db_session, world, monkeypatch):
    """Only the first lines with problems are listed; leaving those out does not import past the rest."""
    monkeypatch.setattr(imp, "MAX_ERRORS_LISTED", 2)
    data = b"Date,Payee,Amount\n" + b"".join(b"2024-03-01,P,bad%d\n" % i for i in range(5)) + b"2024-03-02,Q,-1.00\n"
    parsed = imp.parse_file(data, "s.csv")
    assert (len(parsed.errors), parsed.error_count) == (2, 5)
    with pytest.raises(ImportFileError, match="3 more lines"):
        commit_or_rollback(db_session, imp.run_import, world["alice"].id, world["checking"].id, parsed, {2: False, 3: False})
    assert tx_count(db_session) == 0


def test_zero_amounts_are_skipped(db_session, world):
    data = csv_bytes([("2024-03-01", "Info line", "0.00"), COFFEE])
    plan = imp.plan_import(db_session, world["alice"].id, world["checking"].id, imp.parse_file(data, "s.csv"))
    assert [r.status for r in plan.rows] == ["skipped", "new"]
    assert do_import(db_session, world["alice"], world["checking"], data, decisions={2: True}).added == 1


def test_someone_elses_account_is_refused_and_nothing_written(db_session, world):
    data = csv_bytes([COFFEE])
    with pytest.raises(NotFound):
        commit_or_rollback(db_session, imp.run_import, world["alice"].id, world["bob_account"].id, imp.parse_file(data, "s.csv"))
    with pytest.raises(ServiceError):
        imp.plan_import(db_session, world["alice"].id, "1; DROP TABLE users", imp.parse_file(data, "s.csv"))
    assert tx_count(db_session) == 0


# -- categories: rules, the file's column, history ----------------------------------------------------

def test_rules_file_categories_and_history(db_session, world, cats):
    alice, checking = world["alice"], world["checking"]
    imp.create_rule(db_session, alice.id, pattern="bottle", category_id=cats["Coffee"])
    imp.create_rule(db_session, alice.id, pattern=r"^uber\s*(eats)?", match_type="regex",
                    category_id=cats["Restaurants"])
    imp.create_rule(db_session, alice.id, pattern="amazon", category_id=cats["Household"])
    # Bob's rule never applies to Alice.
    imp.create_rule(db_session, world["bob"].id, pattern="market", category_id=cats["Fuel"])
    db_session.commit()
    # History: Alice filed "Corner Market #12" under Groceries before.
    create_transaction(db_session, alice.id, account_id=checking.id, date=date(2024, 1, 3), amount=D("-9.00"),
                       payee="Corner Market #12", category_id=cats["Groceries"])
    db_session.commit()
    data = (b"Date,Payee,Amount,Category\n"
            b"2024-03-01,BLUE BOTTLE 0042,-4.75,\n"
            b"2024-03-02,UBER EATS,-23.00,\n"
            b"2024-03-03,Corner Market #99,-15.00,\n"
            b"2024-03-04,Gas Co,-40.00,Transportation > Fuel\n"
            b"2024-03-05,Amazon refund,12.00,\n"
            b"2024-03-06,Mystery,-1.00,Not A Category\n"
            b"2024-03-07,Employer,100.00,Salary\n")
    plan = imp.plan_import(db_session, alice.id, checking.id, imp.parse_file(data, "s.csv"))
    got = [(r.payee, r.category_id, r.category_source, r.kind) for r in plan.rows]
    assert got == [
        ("BLUE BOTTLE 0042", cats["Coffee"], "rule", "expense"),
        ("UBER EATS", cats["Restaurants"], "rule", "expense"),
        ("Corner Market #99", cats["Groceries"], "history", "expense"),
        ("Gas Co", cats["Fuel"], "file", "expense"),
        ("Amazon refund", cats["Household"], "rule", "expense"),     # a refund: positive expense
        ("Mystery", None, "", "expense"),
        ("Employer", cats["Salary"], "file", "income"),
    ]
    assert "Unknown category" in plan.rows[5].reason
    commit_or_rollback(db_session, imp.run_import, alice.id, checking.id, imp.parse_file(data, "s.csv"))
    refund = db_session.scalar(select(Transaction).where(Transaction.payee == "Amazon refund"))
    assert refund.amount == D("12.00") and refund.kind == "expense"
    assert [e.amount for e in refund.expenses] == [D("-12.00")]
    check_ledger(db_session)


def test_rule_editing_checks_patterns_and_ownership(db_session, world, cats):
    alice, bob = world["alice"], world["bob"]
    for pattern, match_type, words in [("", "contains", "Enter"), ("x" * 201, "contains", "200"),
                                       ("(unclosed", "regex", "valid pattern"), ("(?=x)y", "regex", "Look-arounds"),
                                       (r"(a)\1", "regex", "Back-references"), ("a{1000}{1000}", "regex", "repet"),
                                       ("x", "glob", "contains")]:
        with pytest.raises(ServiceError, match=words):
            imp.create_rule(db_session, alice.id, pattern=pattern, match_type=match_type, category_id=cats["Coffee"])
    bob_category = Category(user_id=bob.id, name="Bob's", kind="expense")
    db_session.add(bob_category)
    db_session.commit()
    with pytest.raises(NotFound):
        imp.create_rule(db_session, alice.id, pattern="x", category_id=bob_category.id)
    rule = imp.create_rule(db_session, alice.id, pattern="cafe", category_id=cats["Coffee"])
    db_session.commit()
    with pytest.raises(NotFound):
        imp.update_rule(db_session, bob.id, rule.id, pattern="hacked")
    with pytest.raises(NotFound):
        imp.delete_rule(db_session, bob.id, rule.id)
    imp.update_rule(db_session, alice.id, rule.id, pattern="caf(e|é)", match_type="regex")
    db_session.commit()
    assert db_session.get(ImportRule, rule.id).match_type == "regex"
    frame = imp.list_rules(db_session, alice.id)
    assert list(frame["pattern"]) == ["caf(e|é)"]
    imp.delete_rule(db_session, alice.id, rule.id)
    db_session.commit()
    assert imp.list_rules(db_session, alice.id).empty


# -- the bulk path and all-or-nothing -----------------------------------------------------------------

def _many_rows(n: int, seed: int = 7) -> list[tuple]:
    rng = random.Random(seed)
    start = date(2024, 1, 1)
    payees = ["Corner Market", "Blue Bottle", "Shell", "Payroll", "Cinema"]
    rows = []
    for _ in range(n):
        payee = rng.choice(payees)
        cents = rng.randint(100, 90000) if payee == "Payroll" else -rng.randint(100, 9000)
        rows.append(((start + timedelta(days=rng.randrange(120))).isoformat(), payee,
                     f"{cents // 100 if cents >= 0 else -(-cents // 100)}.{abs(cents) % 100:02d}"))
    return rows


def test_bulk_path_keeps_the_invariants(db_session, world, cats):
    alice, checking = world["alice"], world["checking"]
    create_budget(db_session, alice.id, category_id=cats["Groceries"], amount=D("500"), start_date=date(2024, 2, 1))
    imp.create_rule(db_session, alice.id, pattern="market", category_id=cats["Groceries"])
    create_transaction(db_session, alice.id, account_id=checking.id, date=date(2024, 1, 2), amount=D("-5.00"),
                       payee="Before")
    db_session.commit()
    data = csv_bytes(_many_rows(imp.BULK_THRESHOLD + 200))
    result = do_import(db_session, alice, checking, data)
    assert result.added == imp.BULK_THRESHOLD + 200
    check_ledger(db_session)          # lines sum to -amount, copies, budgets as computed independently
    assert raw_totals(db_session, alice.id) == rollup_totals(db_session, alice.id)
    budgeted = db_session.scalar(select(func.count()).select_from(Expense).where(Expense.budget_id.is_not(None)))
    assert budgeted > 0
    # The ORM still works after the bulk ids (no collision with the next id).
    create_transaction(db_session, alice.id, account_id=checking.id, date=date(2024, 6, 1), amount=D("-1.00"),
                       payee="After")
    db_session.commit()
    assert do_import(db_session, alice, checking, data).added == 0


def test_bulk_and_small_paths_agree(db_session, world, monkeypatch):
    rows = _many_rows(120, seed=3)
    do_import(db_session, world["alice"], world["checking"], csv_bytes(rows))
    monkeypatch.setattr(imp, "BULK_THRESHOLD", 0)
    do_import(db_session, world["alice"], world["card"], csv_bytes(rows))
    def snapshot(account):
        return sorted(db_session.execute(
            select(Transaction.date, Transaction.amount, Transaction.kind, Transaction.payee, Transaction.category_id)
            .where(Transaction.account_id == account.id)).all())
    assert snapshot(world["checking"]) == snapshot(world["card"])
    check_ledger(db_session)


def _state(session, user_id):
    return (tx_count(session), session.scalar(select(func.count()).select_from(Expense)),
            sorted(session.execute(select(MonthlyRollup.month, MonthlyRollup.total_cents)
                                   .where(MonthlyRollup.user_id == user_id)).all()))


def test_failure_halfway_leaves_nothing_small_path(db_session, world, monkeypatch):
    alice, checking = world["alice"], world["checking"]
    do_import(db_session, alice, checking, csv_bytes([("2024-03-01", "Existing", "-1.00")]))
    before = _state(db_session, alice.id)
    calls = {"n": 0}
    real = imp.create_transaction

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(imp, "create_transaction", flaky)
    with pytest.raises(ImportFileError, match="nothing was added"):
        do_import(db_session, alice, checking, csv_bytes(_many_rows(10)))
    assert _state(db_session, alice.id) == before


def test_failure_halfway_leaves_nothing_bulk_path(db_session, world, monkeypatch):
    alice, checking = world["alice"], world["checking"]
    do_import(db_session, alice, checking, csv_bytes([("2024-03-01", "Existing", "-1.00")]))
    before = _state(db_session, alice.id)
    monkeypatch.setattr(bulk, "FIRST_CHUNK", 100)
    monkeypatch.setattr(bulk, "CHUNK", 100)
    monkeypatch.setattr(imp, "PROGRESS_CHUNK", 100)   # an import writes in chunks of this size
    real = bulk.insert_rows
    calls = {"n": 0}

    def flaky(session, name, columns, rows):
        calls["n"] += 1
        if calls["n"] == 5:   # the third chunk's transactions
            raise RuntimeError("connection lost")
        return real(session, name, columns, rows)

    monkeypatch.setattr(bulk, "insert_rows", flaky)
    with pytest.raises(ImportFileError, match="nothing was added"):
        do_import(db_session, alice, checking, csv_bytes(_many_rows(imp.BULK_THRESHOLD + 100)))
    assert calls["n"] == 5
    assert _state(db_session, alice.id) == before


def test_a_database_refusal_names_the_line(db_session, world, monkeypatch):
    """A row the transaction service refuses (here: a payee it finds too long) names its line."""
    monkeypatch.setattr(imp, "PAYEE_MAX", 500)
    data = csv_bytes([COFFEE, ("2024-03-06", "x" * 300, "-1.00")])
    with pytest.raises(ImportFileError) as info:
        do_import(db_session, world["alice"], world["checking"], data)
    assert info.value.line == 3 and "At most 200 characters" in info.value.message
    assert tx_count(db_session) == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(SAMPLES), st.data())
def test_mangled_files_import_fully_or_not_at_all(db_session, world, sample, data):
    """Whatever the file, the import adds exactly what it reports, or raises a clear error and adds nothing."""
    mangled = _mangle(sample, data.draw)
    alice, checking = world["alice"], world["checking"]
    before = tx_count(db_session)
    try:
        parsed = imp.parse_file(mangled, "x.ofx" if sample.lstrip(b"\xef\xbb\xbf").startswith((b"OFX", b"<?xml"))
                                else "x.csv")
        result = commit_or_rollback(db_session, imp.run_import, alice.id, checking.id, parsed, {e.line: False for e in parsed.errors})
    except ImportFileError as error:
        assert error.message and error.__cause__ is None   # a clear error, not a wrapped crash
        assert tx_count(db_session) == before
        return
    assert tx_count(db_session) == before + result.added
    check_ledger(db_session)
