# The standard-library modules models reach for.
# expect: ok {"words": [["the", 3], ["fox", 2]], "mean": 3.2, "median": 3, "emails": ["ann@corp.com"], "pairs": 6, "json": "{\"a\": 1}", "sqrt": 3.0}
import itertools
import json
import math
import re
import statistics
from collections import Counter
from functools import reduce

text = "The fox and the dog and THE fox"
words = Counter(word.lower() for word in re.findall(r"[a-z]+", text, re.I))
values = [1, 2, 3, 4, 6]
result = {
    "words": [[word, count] for word, count in words.most_common(2)],
    "mean": statistics.mean(values),
    "median": statistics.median(values),
    "emails": re.findall(r"[\w.]+@[\w.]+", "mail ann@corp.com now"),
    "pairs": len(list(itertools.combinations("abcd", 2))),
    "json": json.dumps({"a": reduce(lambda x, y: x * y, [1, 1])}),
    "sqrt": math.sqrt(9),
}
