"""Money and number formatting for display: one place, used by pages and figures alike."""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

CURRENCY_SYMBOLS = {
    "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹", "CAD": "CA$",
    "AUD": "A$", "NZD": "NZ$", "CHF": "CHF ", "SEK": "kr ", "NOK": "kr ", "DKK": "kr ",
    "PLN": "zł ", "BRL": "R$", "MXN": "MX$", "ZAR": "R ", "KRW": "₩",
}
ZERO_DECIMAL = {"JPY", "KRW"}


def currency_symbol(currency: str) -> str:
    return CURRENCY_SYMBOLS.get((currency or "USD").upper(), f"{(currency or '').upper()} ")


def to_decimal(amount) -> Decimal:
    """Decimal from a Decimal, an int of cents is NOT assumed: pass cents through ``cents=True``."""
    if isinstance(amount, Decimal):
        return amount
    return Decimal(str(amount))


def format_money(amount, currency: str = "USD", *, cents: bool = False, signed: bool = False,
                 compact: bool = False) -> str:
    """``$1,234.50``, ``-$12.00``; ``cents=True`` when ``amount`` is integer cents;
    ``signed`` adds a + to positives; ``compact`` gives ``$12.3k`` for axis-like labels."""
    if amount is None:
        return "–"
    value = Decimal(int(amount)) / 100 if cents else to_decimal(amount)
    symbol = currency_symbol(currency)
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    value = abs(value)
    if compact and value >= 1000:
        for limit, suffix in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(1000), "k")):
            if value >= limit:
                return f"{sign}{symbol}{(value / limit).quantize(Decimal('0.1'))}{suffix}"
    places = Decimal("1") if (currency or "").upper() in ZERO_DECIMAL else Decimal("0.01")
    value = value.quantize(places, rounding=ROUND_HALF_EVEN)
    return f"{sign}{symbol}{value:,}"


def format_percent(ratio, *, signed: bool = False) -> str:
    if ratio is None:
        return "–"
    value = float(ratio) * 100
    return f"{value:+.1f}%" if signed else f"{value:.1f}%"


def plotly_money_format(currency: str) -> tuple[str, str]:
    """(prefix, d3 format) for Plotly axes and hover templates: ``$`` and ``,.2f``."""
    symbol = currency_symbol(currency)
    return symbol, ",.0f" if (currency or "").upper() in ZERO_DECIMAL else ",.2f"
