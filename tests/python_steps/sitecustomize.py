"""Loaded by every python3 that tests/python_steps.rs starts (it puts this directory on
PYTHONPATH), spawned and fork-server children included.

- PROCLAB_START_METHOD=fork|spawn|forkserver sets multiprocessing's default start method, so
  that a step's program is run as under Python 3.11 (fork), macOS and Windows (spawn) and
  Python 3.14 on Linux (forkserver). A program that needs fork asks for a fork context, which
  this does not change.
- Standard output writes each whole line with one os.write, as Rust's println! does: into a
  pipe Python buffers whole blocks (the order of lines from different processes would be lost),
  and unbuffered it writes a line's text and its newline separately (lines would tear).
"""
import os
import sys


class Lines:
    """Standard output that writes each whole line with one os.write."""

    def __init__(self):
        self.pending = ''

    def write(self, text):
        self.pending += text
        whole, newline, self.pending = self.pending.rpartition('\n')
        if newline:
            os.write(1, (whole + newline).encode())
        return len(text)

    def flush(self):
        if self.pending:
            os.write(1, self.pending.encode())
            self.pending = ''

    def isatty(self):
        return False

    def fileno(self):
        return 1


sys.stdout = Lines()

method = os.environ.get('PROCLAB_START_METHOD')
if method:
    import multiprocessing

    multiprocessing.set_start_method(method)
