# Realistic glue a model writes around bus results: ranking, grouping, dates, money, JSON.

# == rank_clients_by_revenue
clients = [
    {"name": "Acme", "revenue": 120_000.5, "region": "EU"},
    {"name": "Globex", "revenue": 98_500.0, "region": "US"},
    {"name": "Initech", "revenue": 120_000.5, "region": "US"},
    {"name": "Umbrella", "revenue": 45_250.75, "region": "EU"},
]
ranked = sorted(clients, key=lambda c: (-c["revenue"], c["name"]))
[{"rank": i, "name": c["name"], "revenue": f"{c['revenue']:,.2f}"} for i, c in enumerate(ranked, 1)]

# == dense_rank_with_ties
scores = {"ann": 90, "bob": 85, "cid": 90, "dan": 70}
levels = sorted(set(scores.values()), reverse=True)
{name: levels.index(s) + 1 for name, s in sorted(scores.items())}

# == top_n_per_group
from collections import defaultdict
trades = [("EU", "t1", 5), ("US", "t2", 9), ("EU", "t3", 7), ("US", "t4", 1), ("EU", "t5", 6)]
groups = defaultdict(list)
for region, tid, size in trades:
    groups[region].append((size, tid))
{r: [tid for _, tid in sorted(v, reverse=True)[:2]] for r, v in sorted(groups.items())}

# == group_sum_average
orders = [
    {"customer": "a", "amount": 10.0},
    {"customer": "b", "amount": 5.5},
    {"customer": "a", "amount": 2.25},
    {"customer": "c", "amount": 8.0},
    {"customer": "b", "amount": 4.5},
]
summary = {}
for o in orders:
    s = summary.setdefault(o["customer"], {"count": 0, "total": 0.0})
    s["count"] += 1
    s["total"] += o["amount"]
for s in summary.values():
    s["avg"] = round(s["total"] / s["count"], 2)
summary

# == itertools_groupby_report
from itertools import groupby
from operator import itemgetter
rows = [("2024-01", "a", 3), ("2024-01", "b", 4), ("2024-02", "a", 1)]
[{"month": m, "total": sum(r[2] for r in g)} for m, g in groupby(rows, key=itemgetter(0))]

# == pivot_table
sales = [("north", "q1", 10), ("south", "q1", 7), ("north", "q2", 12), ("south", "q2", 3), ("north", "q1", 1)]
quarters = sorted({q for _, q, _ in sales})
table = {}
for region, q, v in sales:
    table.setdefault(region, dict.fromkeys(quarters, 0))[q] += v
table

# == dedupe_keep_latest
from datetime import datetime
events = [
    {"id": 1, "at": "2024-03-01T10:00:00", "v": "old"},
    {"id": 2, "at": "2024-03-01T09:00:00", "v": "only"},
    {"id": 1, "at": "2024-03-02T08:00:00", "v": "new"},
]
latest = {}
for e in events:
    at = datetime.fromisoformat(e["at"])
    if e["id"] not in latest or at > latest[e["id"]][0]:
        latest[e["id"]] = (at, e["v"])
{k: v for k, (_, v) in sorted(latest.items())}

# == date_arithmetic_due_dates
from datetime import date, timedelta
invoices = [("inv1", "2024-01-15", 30), ("inv2", "2024-02-20", 14), ("inv3", "2024-03-01", 60)]
today = date(2024, 3, 10)
out = []
for name, issued, terms in invoices:
    due = date.fromisoformat(issued) + timedelta(days=terms)
    out.append({"invoice": name, "due": due, "overdue_days": max(0, (today - due).days)})
out

# == date_range_bucketing
from datetime import date, timedelta
start = date(2024, 1, 29)
days = [start + timedelta(days=i) for i in range(10)]
by_month = {}
for d in days:
    by_month.setdefault(d.strftime("%Y-%m"), []).append(d.day)
by_month

# == quarter_of_dates
from datetime import date
dates = ["2024-01-05", "2024-04-30", "2024-09-15", "2024-12-31"]
[f"Q{(date.fromisoformat(d).month - 1) // 3 + 1}" for d in dates]

# == durations_from_timestamps
from datetime import datetime
calls = [("2024-03-05T09:00:00", "2024-03-05T09:12:30"), ("2024-03-05T10:00:00", "2024-03-05T11:01:05")]
secs = [(datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() for a, b in calls]
[secs, sum(secs) / len(secs), f"{int(sum(secs) // 60)}m{int(sum(secs) % 60):02d}s"]

# == money_decimal_totals
from decimal import Decimal, ROUND_HALF_UP
cart = [{"sku": "a", "price": "19.99", "qty": 3}, {"sku": "b", "price": "0.10", "qty": 7}]
cents = Decimal("0.01")
lines = [(c["sku"], (Decimal(c["price"]) * c["qty"]).quantize(cents)) for c in cart]
subtotal = sum(v for _, v in lines)
discount = (subtotal * Decimal("0.15")).quantize(cents, rounding=ROUND_HALF_UP)
{"lines": {k: str(v) for k, v in lines}, "subtotal": str(subtotal), "discount": str(discount), "total": str(subtotal - discount)}

# == money_float_pitfall_vs_decimal
from decimal import Decimal
[sum([0.1] * 3) == 0.3, sum([Decimal("0.1")] * 3) == Decimal("0.3")]

# == money_currency_format
amounts = [1234.5, -0.5, 1e6, 0.005]
[f"${a:,.2f}" if a >= 0 else f"-${-a:,.2f}" for a in amounts]

# == fx_conversion_round
rates = {"EUR": 1.0862, "GBP": 1.2674, "JPY": 0.00667}
holdings = {"EUR": 1500, "GBP": 220.5, "JPY": 125000}
{c: round(amount * rates[c], 2) for c, amount in holdings.items()}

# == json_reshape_nested
import json
payload = json.loads('''
{"data": {"accounts": [
  {"id": "A1", "owner": {"name": "Ann"}, "balances": [{"ccy": "USD", "amt": 10.5}, {"ccy": "EUR", "amt": 3}]},
  {"id": "B2", "owner": {"name": "Bob"}, "balances": []}
]}}
''')
[
    {"id": a["id"], "owner": a["owner"]["name"], "total": sum(b["amt"] for b in a["balances"]), "ccys": [b["ccy"] for b in a["balances"]]}
    for a in payload["data"]["accounts"]
]

# == json_flatten_keys
def flatten(obj, prefix=""):
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.update(flatten(v, f"{prefix}{i}."))
    else:
        out[prefix[:-1]] = obj
    return out

flatten({"a": {"b": 1, "c": [2, {"d": 3}]}, "e": None})

# == json_merge_defaults
defaults = {"theme": "light", "layout": {"cols": 2, "rows": 3}, "tags": ["x"]}
override = {"layout": {"cols": 4}, "tags": ["y"]}
def merge(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(a[k], v) if isinstance(v, dict) and isinstance(a.get(k), dict) else v
    return out

merge(defaults, override)

# == json_safe_get_chain
data = {"user": {"profile": None, "emails": ["a@x.io"]}}
def dig(obj, *path, default=None):
    for key in path:
        try:
            obj = obj[key]
        except (KeyError, IndexError, TypeError):
            return default
    return obj

[dig(data, "user", "emails", 0), dig(data, "user", "profile", "name"), dig(data, "nope", default="-")]

# == json_roundtrip_with_dates
import json
from datetime import date
rows = [{"day": date(2024, 3, d), "n": d * 2} for d in (1, 2)]
text = json.dumps(rows, default=lambda o: o.isoformat())
[text, json.loads(text)[1]["day"]]

# == csv_to_records_typed
import csv, io
raw = "id,price,active\n1,9.99,true\n2,12,false\n"
[{"id": int(r["id"]), "price": float(r["price"]), "active": r["active"] == "true"} for r in csv.DictReader(io.StringIO(raw))]

# == percent_breakdown
counts = {"open": 7, "closed": 12, "blocked": 1}
total = sum(counts.values())
{k: f"{v / total:.1%}" for k, v in counts.items()}

# == running_balance
txns = [100.0, -20.5, -30.25, 50.0, -99.25]
balance, out = 0.0, []
for t in txns:
    balance += t
    out.append(round(balance, 2))
out

# == histogram_text
data = [1, 3, 3, 2, 5, 3, 1]
from collections import Counter
c = Counter(data)
print("\n".join(f"{k}: {'#' * c[k]}" for k in sorted(c)))

# == table_print
rows = [("Acme", 12, 1234.5), ("Globex", 3, 99.0)]
print(f"{'Name':<8} {'Qty':>4} {'Total':>10}")
for name, qty, total in rows:
    print(f"{name:<8} {qty:>4d} {total:>10,.2f}")

# == normalize_phone_numbers
import re
raw = ["(555) 123-4567", "555.123.4567", "+1 555 123 4567", "1234"]
out = []
for r in raw:
    digits = re.sub(r"\D", "", r)[-10:]
    out.append(f"{digits[:3]}-{digits[3:6]}-{digits[6:]}" if len(digits) == 10 else None)
out

# == parse_log_lines
import re
from collections import Counter
log = """2024-03-05 10:00:01 ERROR db timeout
2024-03-05 10:00:02 INFO ok
2024-03-05 10:00:03 ERROR db timeout
2024-03-05 10:00:04 WARN slow"""
levels = Counter(m.group(1) for m in re.finditer(r"^\S+ \S+ (\w+)", log, re.M))
dict(levels.most_common())

# == moving_average
prices = [10, 11, 12, 13, 12, 11]
n = 3
[round(sum(prices[i - n + 1 : i + 1]) / n, 3) for i in range(n - 1, len(prices))]

# == set_operations_report
crm = {"ann", "bob", "cid", "dan"}
billing = {"bob", "dan", "eve"}
{"only_crm": sorted(crm - billing), "only_billing": sorted(billing - crm), "both": sorted(crm & billing), "all": len(crm | billing)}

# == chunked_batches
ids = list(range(1, 12))
[ids[i : i + 4] for i in range(0, len(ids), 4)]

# == status_summary_sentence
tickets = [{"s": "open"}, {"s": "closed"}, {"s": "open"}]
n_open = sum(t["s"] == "open" for t in tickets)
f"{n_open} of {len(tickets)} tickets open ({n_open / len(tickets):.0%})"

# == zip_two_sources_join
clients = [{"id": 1, "name": "A"}, {"id": 2, "name": "B"}, {"id": 3, "name": "C"}]
balances = {1: 10.0, 3: -2.5}
[{**c, "balance": balances.get(c["id"], 0.0)} for c in clients]

# == weighted_average
positions = [(100, 10.5), (50, 11.0), (25, 9.75)]
round(sum(q * p for q, p in positions) / sum(q for q, _ in positions), 4)

# == median_of_groups
import statistics
data = {"a": [3, 1, 2], "b": [10, 20], "c": [5]}
{k: statistics.median(v) for k, v in data.items()}

# == percentile_nearest_rank
import math
values = sorted([15, 20, 35, 40, 50])
def pct(p):
    return values[max(0, math.ceil(p / 100 * len(values)) - 1)]

[pct(5), pct(30), pct(40), pct(50), pct(100)]

# == async_fan_out_enrich
import asyncio
DIRECTORY = {1: "Ann", 2: "Bob", 3: "Cid"}
async def get_name(i):
    await asyncio.sleep(0.001 * (4 - i))
    return DIRECTORY[i]
async def get_orders(i):
    await asyncio.sleep(0.001 * i)
    return [i * 10, i * 20]

ids = [1, 2, 3]
names, orders = await asyncio.gather(
    asyncio.gather(*(get_name(i) for i in ids)),
    asyncio.gather(*(get_orders(i) for i in ids)),
)
[{"name": n, "total": sum(o)} for n, o in zip(names, orders)]

# == async_retry_on_failure
import asyncio
attempts = {"n": 0}
async def flaky():
    attempts["n"] += 1
    if attempts["n"] < 3:
        raise ConnectionError("try again")
    return "ok"

async def with_retry(fn, tries=5):
    for i in range(tries):
        try:
            return await fn()
        except ConnectionError:
            await asyncio.sleep(0)
    raise RuntimeError("gave up")

[await with_retry(flaky), attempts["n"]]

# == async_partial_failures_summary
import asyncio
async def check(host):
    await asyncio.sleep(0)
    if host.endswith(".bad"):
        raise TimeoutError(f"{host} did not answer")
    return f"{host} up"

hosts = ["a.ok", "b.bad", "c.ok"]
res = await asyncio.gather(*(check(h) for h in hosts), return_exceptions=True)
{"up": [r for r in res if isinstance(r, str)], "errors": [str(r) for r in res if isinstance(r, BaseException)]}

# == invert_mapping_lists
owners = {"ann": ["a1", "a2"], "bob": ["b1"], "cid": ["a2"]}
inv = {}
for person, accts in owners.items():
    for a in accts:
        inv.setdefault(a, []).append(person)
inv

# == sort_versions
versions = ["1.10.0", "1.2.9", "1.2.10", "0.9", "1.2"]
sorted(versions, key=lambda v: tuple(int(p) for p in v.split(".")))

# == slugify
import re
def slugify(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")

[slugify("Hello, World!"), slugify("  Q3 Report (final) "), slugify("ÄÖ x")]

# == business_hours_check
from datetime import datetime, time
opens, closes = time(9), time(17, 30)
stamps = ["2024-03-04T08:59", "2024-03-04T09:00", "2024-03-09T10:00", "2024-03-05T17:30"]
[(opens <= (d := datetime.fromisoformat(s)).time() < closes) and d.weekday() < 5 for s in stamps]

# == compound_interest
principal, rate, years = 1000.0, 0.05, 10
[round(principal * (1 + rate) ** y, 2) for y in (1, 5, 10)]

# == loan_payment
r, n, pv = 0.06 / 12, 360, 250_000
round(pv * r / (1 - (1 + r) ** -n), 2)
