"""Wall-clock time to instants, with one DST rule for every wall-clock trigger.

The rule: a wall time that does not exist (it falls in a spring-forward gap) fires once, at the first instant
after the gap; a wall time that occurs twice (a fall-back overlap) fires once, at its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from shiftwork.errors import InvalidSpec


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`, or a clear error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:  # OSError: a name longer than a file name can be
        close = sorted(z for z in available_timezones() if name.lower().split("/")[-1] in z.lower())[:3]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise InvalidSpec("timezone", name, f"is not an IANA time zone name such as Europe/London{hint}") from error


def exists(wall: datetime, tz: ZoneInfo) -> bool:
    """Whether the naive wall time occurs in tz (it does not inside a spring-forward gap)."""
    aware = wall.replace(tzinfo=tz)
    round_trip = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return round_trip == wall


def to_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant a naive wall time fires at, under the DST rule."""
    if exists(wall, tz):
        return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    # In a gap: the answer is the transition instant. The wall time read with the offsets before and after
    # the transition gives two instants that bracket it; bisect on whole seconds.
    one = int(wall.replace(tzinfo=tz, fold=0).timestamp())
    two = int(wall.replace(tzinfo=tz, fold=1).timestamp())
    low, high = min(one, two), max(one, two)  # wall(low) is before the gap, wall(high) after it
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).replace(tzinfo=None) > wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def to_wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)
