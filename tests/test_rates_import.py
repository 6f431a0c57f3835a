"""Exchange-rate files (dashboard/services/rates.py): the ECB's CSV and XML, a plain CSV, bounds."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.services import fx, rates
from dashboard.services.errors import ServiceError
from dashboard.services.importer import ImportFileError
from models import ExchangeRate

D = Decimal

ECB_CSV = (b"Date,USD,JPY,CYP,KWD,\n"
           b"2024-01-05,1.0921,158.08,N/A,0.3361,\n"
           b"2024-01-04,1.0953,157.21,N/A,0.3370,\n")
ECB_DAILY = b"Date, USD, JPY, \n05 January 2024, 1.0921, 158.08, \n"
ECB_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <Cube>
    <Cube time="2024-01-05"><Cube currency="USD" rate="1.0921"/><Cube currency="JPY" rate="158.08"/></Cube>
    <Cube time="2024-01-04"><Cube currency="USD" rate="1.0953"/><Cube currency="JPY" rate="abc"/></Cube>
  </Cube>
</gesmes:Envelope>"""


def test_ecb_csv():
    parsed = rates.parse_rates(ECB_CSV, "GBP")
    assert parsed.format == "ECB CSV"
    assert parsed.rates[("EUR", "USD", date(2024, 1, 5))] == D("1.0921")
    assert parsed.rates[("EUR", "KWD", date(2024, 1, 4))] == D("0.337")
    assert len(parsed.rates) == 6 and parsed.skipped == 2 and parsed.errors == []
    daily = rates.parse_rates(ECB_DAILY, "GBP")
    assert daily.rates == {("EUR", "USD", date(2024, 1, 5)): D("1.0921"), ("EUR", "JPY", date(2024, 1, 5)): D("158.08")}


def test_ecb_xml():
    parsed = rates.parse_rates(ECB_XML, "GBP")
    assert parsed.format == "ECB XML"
    assert parsed.rates == {("EUR", "USD", date(2024, 1, 5)): D("1.0921"), ("EUR", "JPY", date(2024, 1, 5)): D("158.08"),
                            ("EUR", "USD", date(2024, 1, 4)): D("1.0953")}
    assert len(parsed.errors) == 1 and "2024-01-04" in parsed.errors[0][1]


def test_xml_with_a_doctype_is_refused():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
            b'<Cube time="2024-01-05"><Cube currency="USD" rate="&lol2;"/></Cube>')
    with pytest.raises(ImportFileError, match="DOCTYPE"):
        rates.parse_rates(bomb, "EUR")
    with pytest.raises(ImportFileError, match="cannot be read"):
        rates.parse_rates(b"<Cube><Cube time='2024-01-01'>", "EUR")


def test_plain_csv_with_and_without_header_and_base():
    parsed = rates.parse_rates(b"date,currency,rate\n2024-01-05,usd,1.09\n2024-01-06,JPY,158\n"
                               b"2024-13-01,USD,1\n2024-01-07,USD,-1\n2024-01-07,EUR,1\n2024-01-07,USD\n", "EUR")
    assert parsed.format == "plain CSV"
    assert parsed.rates == {("EUR", "USD", date(2024, 1, 5)): D("1.09"), ("EUR", "JPY", date(2024, 1, 6)): D("158")}
    assert [line for line, _ in parsed.errors] == [4, 5, 6, 7]
    no_header = rates.parse_rates(b"2024-01-05,USD,1.09,GBP\n2024-01-05,JPY,190\n", "EUR")
    assert no_header.rates == {("GBP", "USD", date(2024, 1, 5)): D("1.09"), ("EUR", "JPY", date(2024, 1, 5)): D("190")}
    with pytest.raises(ImportFileError, match="header"):
        rates.parse_rates(b"day,rate\n2024-01-05,1\n", "EUR")


def test_files_beyond_the_bounds_are_refused(monkeypatch):
    with pytest.raises(ImportFileError, match="larger"):
        rates.parse_rates(b"x" * (rates.MAX_RATE_FILE_BYTES + 1), "EUR")
    monkeypatch.setattr(rates, "MAX_RATES", 3)
    with pytest.raises(ImportFileError, match="more than 3 rates"):
        rates.parse_rates(ECB_CSV, "EUR")
    monkeypatch.setattr(rates, "MAX_XML_ELEMENTS", 5)
    with pytest.raises(ImportFileError, match="more than 5 elements"):
        rates.parse_rates(ECB_XML, "EUR")
    for empty in (b"", b"   \n", b"PK\x03\x04zip"):
        with pytest.raises(ImportFileError):
            rates.parse_rates(empty, "EUR")


@given(st.binary(max_size=300))
def test_any_bytes_give_rates_or_a_clear_refusal(data):
    try:
        parsed = rates.parse_rates(data, "EUR")
    except ImportFileError:
        return
    for (base, currency, _day), rate in parsed.rates.items():
        assert base != currency and rate > 0


def test_import_adds_replaces_and_leaves_alone_per_user(db_session, make_user):
    alice, bob = make_user("alice@example.com", currency="EUR"), make_user("bob@example.com")
    first = rates.import_rates(db_session, alice.id, rates.parse_rates(ECB_CSV, "EUR"))
    db_session.commit()
    assert first == rates.RatesImported(added=6, changed=0, unchanged=0)
    corrected = ECB_CSV.replace(b"1.0921", b"1.0925")
    again = rates.import_rates(db_session, alice.id, rates.parse_rates(corrected, "EUR"))
    db_session.commit()
    assert again == rates.RatesImported(added=0, changed=1, unchanged=5)
    assert db_session.query(ExchangeRate).filter_by(user_id=alice.id).count() == 6
    assert db_session.query(ExchangeRate).filter_by(user_id=bob.id).count() == 0
    book = fx.load_rates(db_session, alice.id, {"EUR", "USD"}, date(2024, 1, 1), date(2024, 1, 31))
    assert book.quote("EUR", "USD", date(2024, 1, 9)) == D("1.0925")
    assert rates.list_rates(db_session, alice.id)[0] == {"day": "2024-01-05", "base": "EUR", "currency": "JPY",
                                                         "rate": "158.08"}
    with pytest.raises(ServiceError):
        rates.import_rates(db_session, alice.id, rates.RatesFile("plain CSV"))
    assert rates.delete_rates(db_session, alice.id, [("EUR", "USD")]) == 2


def test_rate_pairs_summarise_each_pair(db_session, make_user):
    alice = make_user("alice@example.com", currency="EUR")
    rates.import_rates(db_session, alice.id, rates.parse_rates(ECB_CSV, "EUR"))
    db_session.commit()
    pairs = {(p["base"], p["currency"]): p for p in rates.rate_pairs(db_session, alice.id)}
    assert set(pairs) == {("EUR", "USD"), ("EUR", "JPY"), ("EUR", "KWD")}
    assert pairs[("EUR", "USD")] == {"base": "EUR", "currency": "USD", "first_day": date(2024, 1, 4),
                                     "last_day": date(2024, 1, 5), "count": 2, "rate": "1.0921"}
