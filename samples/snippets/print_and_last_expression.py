# Prints are captured; without `result`, the last expression is the answer.
# expect: ok [1, 4, 9]
# printed: squares: [1, 4, 9]
squares = [n * n for n in range(1, 4)]
print("squares:", squares)
squares
