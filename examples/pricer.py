"""An Excel add-in: Black-Scholes option prices as worksheet functions.

shiftwork excel serve examples/pricer.py     # then, in a sheet: =PRICER.PRICE_OPTION(100, 95, 0.2, 0.01, 1)
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import date

from shiftwork.excel import Addin, ExcelError

addin = Addin("Options Pricer", "Option pricing functions")  # namespace PRICER, from this file's name


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


@addin.expose(
    description="Black-Scholes price of a European option",
    help="spot, strike, vol, rate, expiry in years; call (TRUE) or put (FALSE)",
    arguments={
        "spot": "Price of the underlying now",
        "strike": "Strike price",
        "vol": "Annual volatility, 0.2 for 20%",
        "rate": "Continuously compounded risk-free rate, 0.01 for 1%",
        "expiry": "Time to expiry in years",
        "call": "TRUE for a call (the default), FALSE for a put",
    },
)
def price_option(spot: float, strike: float, vol: float, rate: float, expiry: float, call: bool = True) -> float:
    if spot <= 0 or strike <= 0:
        raise ExcelError("#NUM!", f"spot and strike must be positive (spot {spot:g}, strike {strike:g})")
    if vol <= 0 or expiry <= 0:
        raise ExcelError("#NUM!", f"vol and expiry must be positive (vol {vol:g}, expiry {expiry:g})")
    d1 = (math.log(spot / strike) + (rate + vol * vol / 2) * expiry) / (vol * math.sqrt(expiry))
    d2 = d1 - vol * math.sqrt(expiry)
    discount = strike * math.exp(-rate * expiry)
    if call:
        return spot * _normal_cdf(d1) - discount * _normal_cdf(d2)
    return discount * _normal_cdf(-d2) - spot * _normal_cdf(-d1)


@addin.expose(description="Call prices for a range of spots (spills a range of the same shape)")
def grid(
    spots: list[list[float]], strike: float, vol: float = 0.2, rate: float = 0.01, expiry: float = 1.0
) -> list[list[float]]:
    return [[price_option(spot, strike, vol, rate, expiry) for spot in row] for row in spots]


@addin.expose(description="Years from today (or from a given date) to an expiry date")
def year_fraction(expiry: date, start: date | None = None) -> float:
    days = (expiry - (start or date.today())).days
    if days <= 0:
        raise ExcelError("#NUM!", f"expiry {expiry} is not after {start or date.today()}")
    return days / 365.0


@addin.expose(description="A price that moves: a streaming cell, updated every second", volatile=False)
def ticker(spot: float, vol: float = 0.2, seconds: float = 1.0) -> Iterator[float]:
    price = spot
    step = 0
    while True:
        yield round(price, 4)
        step += 1
        price = spot * math.exp(vol * math.sin(step) * math.sqrt(seconds / 252))
        time.sleep(seconds)
