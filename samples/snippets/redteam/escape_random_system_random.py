# redteam: reach SystemRandom's source of bytes (the stand-in os.urandom) and os through random
# expect: error AttributeError
import random
values = [random.SystemRandom().random() < 1, random.SystemRandom().randbytes(4) != b""]
result = random._urandom(8)
