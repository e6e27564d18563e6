# itertools and functools.

# == chain_and_from_iterable
from itertools import chain
[list(chain([1], (2, 3), "ab")), list(chain.from_iterable([[1, 2], [3]]))]

# == groupby_sorted
from itertools import groupby
data = sorted(["apple", "avocado", "banana", "blueberry", "cherry"], key=lambda w: w[0])
{k: list(g) for k, g in groupby(data, key=lambda w: w[0])}

# == groupby_unsorted_runs
from itertools import groupby
[(k, len(list(g))) for k, g in groupby("aaabbac")]

# == islice_variants
from itertools import islice, count
[list(islice(count(10, 5), 4)), list(islice("abcdefg", 2, None, 2))]

# == accumulate_default_and_func
from itertools import accumulate
import operator
[list(accumulate([1, 2, 3, 4])), list(accumulate([3, 1, 4], max)), list(accumulate([1, 2, 3], operator.mul, initial=10))]

# == product_permutations_combinations
from itertools import product, permutations, combinations, combinations_with_replacement
[list(product("ab", repeat=2)), len(list(permutations(range(4), 2))), list(combinations("abc", 2)), list(combinations_with_replacement([1, 2], 2))]

# == zip_longest_fill
from itertools import zip_longest
list(zip_longest([1, 2, 3], "ab", fillvalue="-"))

# == pairwise
from itertools import pairwise
[b - a for a, b in pairwise([1, 4, 9, 16])]

# == takewhile_dropwhile
from itertools import takewhile, dropwhile
[list(takewhile(lambda x: x < 3, [1, 2, 5, 1])), list(dropwhile(lambda x: x < 3, [1, 2, 5, 1]))]

# == compress_filterfalse
from itertools import compress, filterfalse
[list(compress("abcdef", [1, 0, 1, 0, 1])), list(filterfalse(str.isdigit, "a1b2"))]

# == repeat_cycle_starmap
from itertools import repeat, cycle, starmap, islice
[list(repeat("x", 3)), list(islice(cycle([1, 2]), 5)), list(starmap(pow, [(2, 3), (3, 2)]))]

# == tee_independent
from itertools import tee
a, b = tee([1, 2, 3])
next(a)
[list(a), list(b)]

# == batched_chunks
from itertools import islice
def chunks(items, n):
    it = iter(items)
    while batch := list(islice(it, n)):
        yield batch

list(chunks(range(7), 3))

# == count_float_step
from itertools import count, islice
list(islice(count(0, 0.1), 4))

# == reduce_basic
from functools import reduce
[reduce(lambda a, b: a * b, [1, 2, 3, 4]), reduce(lambda a, b: a + b, [], 0)]

# == reduce_empty_error
from functools import reduce
reduce(lambda a, b: a + b, [])

# == partial_application
from functools import partial
to_int_base2 = partial(int, base=2)
pow2 = partial(pow, 2)
[to_int_base2("1010"), pow2(10), to_int_base2.keywords]

# == lru_cache_fib
from functools import lru_cache
@lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

[fib(80), fib.cache_info().hits > 0]

# == lru_cache_info
from functools import lru_cache
@lru_cache(maxsize=2)
def sq(x):
    return x * x

for x in [1, 2, 1, 3, 1]:
    sq(x)
tuple(sq.cache_info())

# == cache_decorator
from functools import cache
calls = []
@cache
def slow(x):
    calls.append(x)
    return x + 1

[slow(1), slow(1), slow(2), calls]

# == cmp_to_key_sort
from functools import cmp_to_key
def compare(a, b):
    return (a > b) - (a < b) if a % 2 == b % 2 else (a % 2) - (b % 2)

sorted([5, 2, 3, 8, 1], key=cmp_to_key(compare))

# == wraps_preserves_name
from functools import wraps
def logged(fn):
    @wraps(fn)
    def inner(*a):
        return fn(*a)
    return inner

@logged
def add(a, b):
    "Adds."
    return a + b

[add.__name__, add.__doc__, add(1, 2)]

# == total_ordering
from functools import total_ordering
@total_ordering
class Version:
    def __init__(self, *parts):
        self.parts = parts
    def __eq__(self, other):
        return self.parts == other.parts
    def __lt__(self, other):
        return self.parts < other.parts

[Version(1, 2) >= Version(1, 1), Version(1, 0) > Version(2, 0), Version(3) <= Version(3)]

# == singledispatch
from functools import singledispatch
@singledispatch
def describe(x):
    return "thing"

@describe.register
def _(x: int):
    return "int"

@describe.register(list)
def _(x):
    return f"list of {len(x)}"

[describe(1), describe([1, 2]), describe("s"), describe(True)]

# == cached_property
from functools import cached_property
class Report:
    runs = 0
    @cached_property
    def total(self):
        Report.runs += 1
        return 42

r = Report()
[r.total, r.total, Report.runs]

# == partial_repr_func
from functools import partial
p = partial(max, key=len)
p(["aa", "b", "ccc"])

# == reduce_with_initial_dict
from functools import reduce
orders = [("a", 2), ("b", 1), ("a", 5)]
reduce(lambda acc, o: {**acc, o[0]: acc.get(o[0], 0) + o[1]}, orders, {})

# == permutations_strings
from itertools import permutations
["".join(p) for p in permutations("abc")]

# == product_dict_grid
from itertools import product
grid = {"size": ["S", "M"], "color": ["red", "blue"]}
[dict(zip(grid, combo)) for combo in product(*grid.values())]
