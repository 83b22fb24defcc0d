"""Amounts as Chinese legal documents write them: ``人民币12,345.67元`` and the capital form
(大写) ``壹万贰仟叁佰肆拾伍元陆角柒分`` that cannot be altered by adding a stroke."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = ["capital", "figures"]

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ((3, "仟"), (2, "佰"), (1, "拾"), (0, ""))
_GROUPS = ("", "万", "亿", "万亿")


def _group(n: int) -> str:
    """0 < n < 10000, with 零 for zeros between digits (never at the end)."""
    out = ""
    pending_zero = False
    for power, unit in _PLACES:
        digit = n // 10**power % 10
        if digit == 0:
            pending_zero = bool(out)
        else:
            out += ("零" if pending_zero else "") + _DIGITS[digit] + unit
            pending_zero = False
    return out


def capital(amount: Decimal) -> str:
    """The capital form of a non-negative amount in yuan, rounded to the fen."""
    if amount < 0:
        raise ValueError("amounts are not negative")
    fen_total = int(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)
    yuan, fen_part = divmod(fen_total, 100)
    if yuan >= 10**16:
        raise ValueError("amount too large")
    jiao, fen = divmod(fen_part, 10)
    groups = []
    rest = yuan
    while rest:
        rest, group = divmod(rest, 10000)
        groups.append(group)
    text = ""
    pending_zero = False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            pending_zero = bool(text)
            continue
        if text and (pending_zero or group < 1000):
            text += "零"
        text += _group(group) + _GROUPS[index]
        pending_zero = False
    if text:
        text += "元"
    if jiao == 0 and fen == 0:
        return (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif text:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    return text


def figures(amount: Decimal) -> str:
    """``12,345.67``: thousands separated, two decimals."""
    return f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
