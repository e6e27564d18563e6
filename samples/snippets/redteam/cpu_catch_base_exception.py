# redteam: catch the deadline's exception forever
# expect: fails
while True:
    try:
        while True:
            pass
    except BaseException:
        continue
