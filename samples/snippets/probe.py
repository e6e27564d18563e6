# A clean-state probe, run after every red-team snippet: any state a hostile run left behind
# (patched modules, builtins, classes, registries, namespaces, leftover globals) shows here.
# expect: ok {"len": 2, "json": "{\"a\": [1]}", "counter": [["a", 2]], "sequence": false, "clients": ["Ada", "Bob"], "now": true, "re": ["1", "2"], "mean": 2, "leftover": [], "deep": 300, "random_fresh": true, "decimal_prec": 28, "first_weekday": 0, "excel_delimiter": ","}
import collections
import collections.abc
import datetime
import json
import re
import statistics
import random
import decimal
import calendar
import csv


def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)


clients = crm.get_clients(adviser="ann")
result = {
    "len": len([1, 2]),
    "json": json.dumps({"a": [1]}),
    "counter": collections.Counter("aab").most_common(1),
    "sequence": isinstance({}, collections.abc.Sequence),
    "clients": [client["name"] for client in clients],
    "now": isinstance(datetime.datetime.now(), datetime.datetime),
    "re": re.findall(r"\d", "a1b2"),
    "mean": statistics.mean([1, 2, 3]),
    "leftover": [name for name in ("secret", "chunks", "nested", "real", "sys") if name in dir()],
    "deep": depth(300),
    "random_fresh": random.random() != 0.13436424411240122,
    "decimal_prec": decimal.getcontext().prec,
    "first_weekday": calendar.firstweekday(),
    "excel_delimiter": csv.get_dialect("excel").delimiter,
}
