# Bus dates arrive as datetime objects; datetimes in the result come back as ISO strings.
# expect: ok {"since": "2023-11-14T22:13:20+00:00", "days_to_new_year": 47, "weekday": "Tuesday"}
from datetime import datetime, timezone

client = crm.get_client(id=1)
since = client["since"]
new_year = datetime(2024, 1, 1, tzinfo=timezone.utc)
result = {
    "since": since,
    "days_to_new_year": (new_year - since).days,
    "weekday": since.strftime("%A"),
}
