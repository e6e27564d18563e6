# statistics, heapq and bisect.

# == mean_median_mode
import statistics as st
data = [2, 3, 3, 5, 7, 10]
[st.mean(data), st.median(data), st.mode(data), st.median_low(data), st.median_high(data)]

# == mean_of_floats
import statistics as st
st.mean([0.1, 0.2, 0.3])

# == fmean_geometric_harmonic
import statistics as st
[st.fmean([1, 2, 3, 4]), round(st.geometric_mean([1, 10, 100]), 10), st.harmonic_mean([40, 60])]

# == stdev_variance
import statistics as st
data = [2, 4, 4, 4, 5, 5, 7, 9]
[st.pstdev(data), st.pvariance(data), st.stdev(data), st.variance(data)]

# == stdev_single_point_error
import statistics as st
st.stdev([1])

# == mean_empty_error
import statistics as st
st.mean([])

# == multimode
import statistics as st
st.multimode("aabbbccdd" + "dd")

# == quantiles
import statistics as st
[st.quantiles([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], n=4), st.quantiles(range(1, 11), n=4, method="inclusive")]

# == median_grouped
import statistics as st
st.median_grouped([1, 2, 2, 3, 4, 4, 4, 4, 4, 5])

# == mean_of_decimals_and_fractions
import statistics as st
from fractions import Fraction
st.mean([Fraction(1, 3), Fraction(2, 3), 1])

# == correlation_linear_regression
import statistics as st
x = [1, 2, 3, 4, 5]
y = [2, 4, 5, 4, 5]
slope, intercept = st.linear_regression(x, y)
[round(st.correlation(x, y), 12), round(slope, 12), round(intercept, 12)]

# == mode_of_strings
import statistics as st
st.mode(["red", "blue", "red"])

# == heap_push_pop
import heapq
h = []
for x in [5, 1, 8, 3]:
    heapq.heappush(h, x)
[heapq.heappop(h), heapq.heappop(h), h[0]]

# == heapify_list
import heapq
h = [9, 4, 7, 1, 2]
heapq.heapify(h)
h

# == nlargest_nsmallest
import heapq
scores = {"a": 91, "b": 78, "c": 95, "d": 88}
[heapq.nlargest(2, scores, key=scores.get), heapq.nsmallest(3, [5, 1, 4, 2, 3])]

# == heap_tuples_priority
import heapq
tasks = []
heapq.heappush(tasks, (2, "write"))
heapq.heappush(tasks, (1, "plan"))
heapq.heappush(tasks, (3, "ship"))
[heapq.heappop(tasks)[1] for _ in range(3)]

# == heapreplace_pushpop
import heapq
h = [1, 3, 5]
[heapq.heapreplace(h, 4), heapq.heappushpop(h, 0), h]

# == heap_merge
import heapq
list(heapq.merge([1, 4, 7], [2, 5], [3, 6, 9]))

# == heappop_empty_error
import heapq
heapq.heappop([])

# == bisect_positions
import bisect
xs = [1, 3, 3, 5]
[bisect.bisect_left(xs, 3), bisect.bisect_right(xs, 3), bisect.bisect(xs, 4), bisect.bisect_left(xs, 0)]

# == insort_keeps_sorted
import bisect
xs = [1, 4, 9]
bisect.insort(xs, 5)
bisect.insort_left(xs, 4)
xs

# == bisect_grade_lookup
import bisect
def grade(score, cuts=(60, 70, 80, 90), letters="FDCBA"):
    return letters[bisect.bisect(cuts, score)]

[grade(s) for s in (33, 60, 77, 90, 100)]

# == bisect_with_key
import bisect
rows = [("a", 1), ("b", 5), ("c", 9)]
bisect.bisect_left(rows, 5, key=lambda r: r[1])

# == nlargest_with_ties_stable
import heapq
heapq.nlargest(3, [("a", 2), ("b", 3), ("c", 2), ("d", 1)], key=lambda t: t[1])

# == statistics_error_type
import statistics as st
try:
    st.mode([])
except st.StatisticsError as e:
    result = [type(e).__name__, str(e)]

# == median_even_floats
import statistics as st
st.median([1.5, 2.5, 3.5, 4.5])

# == pstdev_floats
import statistics as st
st.pstdev([1.5, 2.5, 2.5, 2.75, 3.25, 4.75])
