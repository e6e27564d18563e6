# copy, operator, string, textwrap, contextlib, abc, types, numbers.

# == copy_shallow_vs_deep
import copy
orig = {"a": [1, 2], "b": {"c": 3}}
shallow, deep = copy.copy(orig), copy.deepcopy(orig)
orig["a"].append(99)
[shallow["a"], deep["a"]]

# == copy_deep_cycles
import copy
a = [1]
a.append(a)
b = copy.deepcopy(a)
[b[1] is b, b[1] is a]

# == copy_custom_class
import copy
class Node:
    def __init__(self, v, kids=None):
        self.v, self.kids = v, kids or []

n = Node(1, [Node(2)])
m = copy.deepcopy(n)
m.kids[0].v = 20
[n.kids[0].v, m.kids[0].v]

# == copy_list_methods
xs = [[1], [2]]
ys = xs.copy()
ys[0].append(5)
ys.append([3])
[xs, ys]

# == operator_itemgetter_sort
from operator import itemgetter
rows = [{"n": "b", "a": 2}, {"n": "a", "a": 2}, {"n": "c", "a": 1}]
[r["n"] for r in sorted(rows, key=itemgetter("a", "n"))]

# == operator_attrgetter
from operator import attrgetter
from collections import namedtuple
P = namedtuple("P", "name age")
people = [P("x", 30), P("y", 20)]
[p.name for p in sorted(people, key=attrgetter("age"))]

# == operator_methodcaller_and_funcs
import operator
[operator.methodcaller("upper")("abc"), operator.add(2, 3), operator.mul("ab", 2), operator.neg(5), operator.truediv(1, 4), operator.itemgetter(1, 0)("ab")]

# == operator_reduce_mul
import operator
from functools import reduce
reduce(operator.mul, range(1, 11))

# == operator_contains_and_index
import operator
[operator.contains([1, 2], 2), operator.index(7), operator.getitem({"k": 1}, "k")]

# == string_constants
import string
[string.ascii_lowercase, string.digits, string.punctuation, string.hexdigits, len(string.printable)]

# == string_capwords
import string
string.capwords("  hello   big  world ")

# == string_template_substitute
from string import Template
t = Template("$who owes $$${amount}")
t.substitute(who="Ann", amount="5.00")

# == string_template_missing_error
from string import Template
Template("$who and $what").substitute(who="x")

# == string_template_safe
from string import Template
Template("$who and $what").safe_substitute(who="x")

# == string_formatter_parse
from string import Formatter
[(lit, field, spec) for lit, field, spec, _ in Formatter().parse("a{x:>3}b{y}")]

# == textwrap_wrap_fill
import textwrap
text = "The quick brown fox jumps over the lazy dog and keeps running far away."
[textwrap.wrap(text, width=20), textwrap.fill(text, width=30)]

# == textwrap_dedent_indent
import textwrap
block = """
    def f():
        return 1
"""
textwrap.indent(textwrap.dedent(block).strip(), "> ")

# == textwrap_shorten
import textwrap
[textwrap.shorten("Hello  world, this is a long sentence", width=20), textwrap.shorten("short", 10, placeholder="…")]

# == textwrap_wrap_long_word
import textwrap
textwrap.wrap("supercalifragilistic word", width=8)

# == contextlib_suppress
from contextlib import suppress
with suppress(KeyError):
    {}["missing"]
result = "survived"

# == contextlib_contextmanager
from contextlib import contextmanager
log = []
@contextmanager
def tag(name):
    log.append(f"<{name}>")
    try:
        yield name.upper()
    finally:
        log.append(f"</{name}>")

with tag("b") as t:
    log.append(t)
log

# == contextlib_contextmanager_exception
from contextlib import contextmanager
events = []
@contextmanager
def guard():
    try:
        yield
    except ValueError as e:
        events.append(f"handled {e}")

with guard():
    raise ValueError("oops")
events

# == contextlib_exitstack
from contextlib import ExitStack, contextmanager
order = []
@contextmanager
def res(n):
    order.append(f"open {n}")
    yield n
    order.append(f"close {n}")

with ExitStack() as stack:
    vals = [stack.enter_context(res(i)) for i in range(3)]
order

# == contextlib_nullcontext_closing
from contextlib import nullcontext, closing
class Thing:
    closed = False
    def close(self):
        self.closed = True

with nullcontext(5) as v:
    pass
t = Thing()
with closing(t):
    pass
[v, t.closed]

# == context_manager_class_exit_suppress
class Swallow:
    def __enter__(self):
        return self
    def __exit__(self, kind, value, tb):
        self.seen = kind.__name__ if kind else None
        return True

with Swallow() as s:
    raise KeyError("x")
s.seen

# == abc_abstract_subclass
from abc import ABC, abstractmethod
class Repo(ABC):
    @abstractmethod
    def get(self, key): ...
    def get_or(self, key, default):
        v = self.get(key)
        return default if v is None else v

class Mem(Repo):
    def get(self, key):
        return {"a": 1}.get(key)

[Mem().get_or("a", 0), Mem().get_or("b", 0), isinstance(Mem(), Repo)]

# == abc_missing_method_error
from abc import ABC, abstractmethod
class Base(ABC):
    @abstractmethod
    def one(self): ...
    @abstractmethod
    def two(self): ...

class Half(Base):
    def one(self):
        return 1

Half()

# == abc_register_virtual
from abc import ABC
class Jsonable(ABC):
    pass

Jsonable.register(dict)
[isinstance({}, Jsonable), issubclass(list, Jsonable)]

# == types_simple_namespace
from types import SimpleNamespace
ns = SimpleNamespace(a=1, b="x")
ns.c = [1]
[repr(ns), ns.a, ns == SimpleNamespace(a=1, b="x", c=[1])]

# == types_mapping_proxy
from types import MappingProxyType
ro = MappingProxyType({"k": 1})
try:
    ro["k"] = 2
except TypeError as e:
    result = [ro["k"], str(e)]

# == types_function_and_generator_types
import types
def gen():
    yield 1

[isinstance(gen, types.FunctionType), isinstance(gen(), types.GeneratorType), isinstance(len, types.BuiltinFunctionType)]

# == numbers_tower
import numbers
from fractions import Fraction
from decimal import Decimal
[isinstance(1, numbers.Integral), isinstance(1.5, numbers.Real), isinstance(Fraction(1, 2), numbers.Rational), isinstance(Decimal(1), numbers.Real), isinstance(1j, numbers.Complex), isinstance(True, numbers.Number)]

# == numbers_number_check_in_function
from numbers import Number
def total(values):
    return sum(v for v in values if isinstance(v, Number) and not isinstance(v, bool))

total([1, "2", 3.5, None, True])
