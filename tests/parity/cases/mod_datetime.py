# The datetime module.

# == date_arithmetic
from datetime import date, timedelta
d = date(2024, 2, 28)
[d + timedelta(days=1), d + timedelta(days=2), (date(2024, 12, 25) - d).days]

# == datetime_result_isoformat
from datetime import datetime
datetime(2024, 3, 5, 14, 30, 0, 123456)

# == aware_datetime_result
from datetime import datetime, timezone, timedelta
datetime(2024, 3, 5, 14, 30, tzinfo=timezone(timedelta(hours=2)))

# == date_result
from datetime import date
date(2023, 1, 9)

# == time_result
from datetime import time
time(9, 5, 7)

# == timedelta_result_seconds
from datetime import timedelta
timedelta(days=1, hours=2, minutes=3, seconds=4.5)

# == timedelta_str_repr
from datetime import timedelta
td = timedelta(days=-1, seconds=30)
[str(td), repr(td), str(timedelta(hours=25, microseconds=5)), str(timedelta(0))]

# == timedelta_total_seconds
from datetime import timedelta
[timedelta(weeks=1).total_seconds(), timedelta(milliseconds=1500).total_seconds()]

# == timedelta_division
from datetime import timedelta
[timedelta(hours=3) / timedelta(minutes=45), timedelta(hours=3) // timedelta(minutes=45), str(timedelta(hours=1) * 1.5), str(timedelta(days=1) / 3)]

# == strftime_common
from datetime import datetime
d = datetime(2024, 7, 4, 9, 5, 3)
[d.strftime("%Y-%m-%d"), d.strftime("%d %b %Y %I:%M %p"), d.strftime("%a %A %B %j %U %w"), d.strftime("%H%M%S.%f")]

# == strptime_parse
from datetime import datetime
datetime.strptime("2024-03-05 14:07", "%Y-%m-%d %H:%M")

# == strptime_error
from datetime import datetime
datetime.strptime("2024/03/05", "%Y-%m-%d")

# == fromisoformat
from datetime import datetime, date
[datetime.fromisoformat("2024-03-05T14:07:09"), date.fromisoformat("2024-12-31"), datetime.fromisoformat("2024-03-05T14:07:09+01:00")]

# == fromisoformat_z_suffix
from datetime import datetime
datetime.fromisoformat("2024-03-05T14:07:09Z")

# == isoformat_variants
from datetime import datetime
d = datetime(2024, 1, 2, 3, 4, 5)
[d.isoformat(), d.isoformat(sep=" "), d.isoformat(timespec="minutes"), d.date().isoformat()]

# == weekday_isocalendar
from datetime import date
d = date(2024, 1, 1)
[d.weekday(), d.isoweekday(), tuple(d.isocalendar()), d.isocalendar().week]

# == date_replace_and_compare
from datetime import date
d = date(2024, 1, 31)
[d.replace(day=1), d.replace(year=2025) > d]

# == invalid_date_error
from datetime import date
date(2023, 2, 29)

# == invalid_month_error
from datetime import date
date(2024, 13, 1)

# == naive_aware_compare_error
from datetime import datetime, timezone
datetime(2024, 1, 1) < datetime(2024, 1, 1, tzinfo=timezone.utc)

# == timezone_conversion
from datetime import datetime, timezone, timedelta
utc = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
utc.astimezone(timezone(timedelta(hours=-5)))

# == timezone_str
from datetime import timezone, timedelta
[str(timezone.utc), str(timezone(timedelta(hours=5, minutes=30))), timezone(timedelta(hours=-3)).tzname(None)]

# == utcoffset_and_tzname
from datetime import datetime, timezone, timedelta
d = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=1), "CET"))
[str(d.utcoffset()), d.tzname(), d.strftime("%z %Z")]

# == timestamp_aware
from datetime import datetime, timezone
datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp()

# == fromtimestamp_utc
from datetime import datetime, timezone
datetime.fromtimestamp(1700000000, tz=timezone.utc)

# == days_between_dates
from datetime import date
start, end = date(2024, 1, 15), date(2024, 3, 1)
(end - start).days

# == business_days_count
from datetime import date, timedelta
start, end = date(2024, 3, 1), date(2024, 3, 31)
days = (end - start).days + 1
sum(1 for i in range(days) if (start + timedelta(days=i)).weekday() < 5)

# == month_end_dates
from datetime import date, timedelta
ends = []
for month in range(1, 13):
    first_next = date(2024 + month // 12, month % 12 + 1, 1)
    ends.append((first_next - timedelta(days=1)).day)
ends

# == age_in_years
from datetime import date
born, today = date(1990, 8, 15), date(2024, 8, 14)
today.year - born.year - ((today.month, today.day) < (born.month, born.day))

# == datetime_repr_str
from datetime import datetime
d = datetime(2024, 5, 6, 7, 8, 9)
[repr(d), str(d), repr(d.date()), str(d.time())]

# == datetime_min_max
from datetime import date
[str(date.min), str(date.max)]

# == datetime_combine
from datetime import datetime, date, time
datetime.combine(date(2024, 2, 2), time(8, 30))

# == date_ordinal
from datetime import date
[date(2024, 1, 1).toordinal(), date.fromordinal(738000)]

# == timedelta_negative_normalization
from datetime import timedelta
td = timedelta(hours=-1)
[td.days, td.seconds, td.microseconds]

# == timedelta_overflow_error
from datetime import timedelta
timedelta(days=1_000_000_000)

# == sort_datetimes
from datetime import datetime
stamps = ["2024-03-01T10:00", "2023-12-31T23:59", "2024-01-15T08:30"]
[d.isoformat() for d in sorted(datetime.fromisoformat(s) for s in stamps)]

# == group_by_week
from datetime import date, timedelta
start = date(2024, 1, 1)
weeks = {}
for i in range(0, 20, 3):
    d = start + timedelta(days=i)
    weeks.setdefault(d.isocalendar().week, []).append(d.day)
weeks

# == datetime_hash_dict_key
from datetime import date
counts = {}
for d in [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 1)]:
    counts[d] = counts.get(d, 0) + 1
{k.isoformat(): v for k, v in counts.items()}

# == strftime_padding_year
from datetime import date
date(9, 1, 1).strftime("%Y")

# == datetime_with_micro_iso
from datetime import datetime
datetime(2024, 1, 1, 0, 0, 0, 500).isoformat()

# == date_subtract_datetime_error
from datetime import date, datetime
date(2024, 1, 2) - datetime(2024, 1, 1)

# == timedelta_components
from datetime import timedelta
td = timedelta(days=2, hours=5, minutes=30)
hours, rest = divmod(td.seconds, 3600)
[td.days, hours, rest // 60]

# == datetime_replace_tz
from datetime import datetime, timezone
datetime(2024, 1, 1, 12).replace(tzinfo=timezone.utc).isoformat()

# == next_weekday
from datetime import date, timedelta
d = date(2024, 3, 6)
days_ahead = (0 - d.weekday()) % 7 or 7
d + timedelta(days=days_ahead)
