# redteam: register dict as a Sequence for later runs
# expect: ok true
import collections.abc
collections.abc.Sequence.register(dict)
result = isinstance({}, collections.abc.Sequence)
