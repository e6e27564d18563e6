# redteam: restart the loop from finally blocks
# expect: limit wall_time
def spin():
    try:
        while True:
            pass
    finally:
        spin()
spin()
