# Iteration builtins: sorted, list.sort, enumerate, zip, map, filter, any, all, reversed,
# range, isinstance, chr/ord, iter/next.

# == sorted_numbers
sorted([5, 2, 9, 1])

# == sorted_reverse
sorted([5, 2, 9, 1], reverse=True)

# == sorted_key_len
sorted(["banana", "fig", "apple", "kiwi"], key=len)

# == sorted_stable_ties
rows = [("b", 2), ("a", 1), ("c", 2), ("d", 1)]
sorted(rows, key=lambda r: r[1])

# == sorted_stable_reverse_ties
rows = [("b", 2), ("a", 1), ("c", 2), ("d", 1)]
sorted(rows, key=lambda r: r[1], reverse=True)

# == sorted_multi_key
people = [{"n": "ann", "age": 30}, {"n": "bob", "age": 25}, {"n": "al", "age": 30}]
[p["n"] for p in sorted(people, key=lambda p: (-p["age"], p["n"]))]

# == sorted_strings_case
sorted(["b", "A", "a", "B"])

# == sorted_casefold_key
sorted(["b", "A", "a", "B"], key=str.lower)

# == sorted_dict_keys
sorted({"z": 1, "a": 2, "m": 3})

# == sorted_dict_items_by_value
d = {"x": 3, "y": 1, "z": 2}
sorted(d.items(), key=lambda kv: kv[1])

# == sorted_tuples_natural
sorted([(2, "b"), (1, "z"), (2, "a")])

# == sorted_mixed_error
sorted([3, "a", 1])

# == sorted_none_key_error
sorted([1, None, 2])

# == sorted_keyword_only
sorted([3, 1], None)

# == list_sort_in_place_returns_none
xs = [3, 1, 2]
r = xs.sort()
[r, xs]

# == list_sort_key_reverse
xs = ["aa", "b", "ccc", "dd"]
xs.sort(key=len, reverse=True)
xs

# == list_sort_stability_multi_pass
records = [("ann", "b"), ("bob", "a"), ("cat", "b"), ("dan", "a")]
records.sort(key=lambda r: r[0], reverse=True)
records.sort(key=lambda r: r[1])
records

# == sorted_floats_with_negative_zero
sorted([0.0, -0.0, -1.5, 1e-9])

# == sorted_by_attrgetter_like
from collections import namedtuple
P = namedtuple("P", "name score")
ps = [P("a", 3), P("b", 1), P("c", 2)]
[p.name for p in sorted(ps, key=lambda p: p.score)]

# == enumerate_start
list(enumerate("abc", start=1))

# == enumerate_dict
{i: c for i, c in enumerate("xyz")}

# == zip_shortest
list(zip([1, 2, 3], "ab"))

# == zip_strict_error
list(zip([1, 2, 3], "ab", strict=True))

# == zip_unzip
pairs = [(1, "a"), (2, "b"), (3, "c")]
nums, letters = zip(*pairs)
[nums, letters]

# == zip_dict
dict(zip(["a", "b"], [1, 2]))

# == map_multiple_iterables
list(map(lambda a, b: a * b, [1, 2, 3], [4, 5, 6]))

# == map_str_int
list(map(int, "1 2 3".split()))

# == filter_none
list(filter(None, [0, 1, "", "a", None, [], [0]]))

# == filter_predicate
list(filter(lambda n: n % 3 == 0, range(20)))

# == any_all_empty
[any([]), all([])]

# == any_all_generators
nums = [2, 4, 6, 7]
[all(n % 2 == 0 for n in nums), any(n > 6 for n in nums)]

# == reversed_list_and_range
[list(reversed([1, 2, 3])), list(reversed(range(5)))]

# == reversed_string_join
"".join(reversed("stressed"))

# == range_properties
r = range(10, 0, -3)
[list(r), len(r), r[1], 7 in r, r.index(4)]

# == range_repr
repr(range(0, 10, 2))

# == range_zero_step_error
range(1, 5, 0)

# == range_slice
list(range(20)[3:12:4])

# == isinstance_tuple
[isinstance(3, (int, float)), isinstance(True, int), isinstance("x", (list, dict))]

# == isinstance_union_type
isinstance(3.0, int | float)

# == issubclass_checks
[issubclass(bool, int), issubclass(KeyError, LookupError), issubclass(int, float)]

# == isinstance_bad_second_arg
isinstance(3, "int")

# == chr_ord
[ord("A"), chr(97), ord("€"), chr(0x1F600)]

# == ord_error_long_string
ord("ab")

# == iter_next_default
it = iter([1, 2])
[next(it), next(it), next(it, "done")]

# == next_stop_iteration
next(iter([]))

# == iter_sentinel
values = iter([3, 2, 1, 0, 5])
list(iter(lambda: next(values), 0))

# == len_of_things
[len("héllo"), len([1, [2, 3]]), len({"a": 1}), len(range(3, 9)), len(b"ab")]

# == len_error
len(5)

# == slice_object
s = slice(1, None, 2)
"abcdefg"[s]

# == negative_slicing
xs = list(range(10))
[xs[-3:], xs[::-2], xs[-1], xs[8:2:-2]]

# == list_index_and_count
xs = [1, 2, 3, 2, 1]
[xs.index(2), xs.count(1), xs.index(1, 1)]

# == list_index_missing_error
[1, 2].index(5)

# == callable_and_hasattr
[callable(len), callable(3), hasattr("x", "upper"), hasattr(3, "nope")]

# == getattr_default
getattr("text", "missing", "fallback")

# == type_names
[type(x).__name__ for x in (1, 1.0, "s", [], {}, (), set(), None, True, b"")]

# == repr_of_containers
repr([1, "a", None, (2,), {"k": [1.5]}])

# == str_of_nested
str({"a": (1, 2), "b": {3}})

# == sorted_set_result
sorted({5, 3, 9, 1})

# == dict_from_pairs_comprehension
{k: v for k, v in [("a", 1), ("b", 2), ("a", 3)]}

# == all_with_strings
all(["a", "b", ""])

# == print_sep_end
print(1, 2, 3, sep="-", end="!\n")
print("a", "b")
print()

# == print_objects
print([1, 2], {"a": None}, (1,), 3.0, True)

# == print_float_repr
print(0.1 + 0.2, 1 / 3, 2.0, 1e20, 1e-7, 123456789.0)
