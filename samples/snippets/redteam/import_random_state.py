# redteam: seed random to leave a predictable generator for later runs (each run's `random` has its own generator; the probe draws a fresh one)
# expect: ok 0.13436424411240122
import random
random.seed(1)
result = random.random()
