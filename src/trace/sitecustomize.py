# proclab trace: tells the tracer the names Python gives its processes and threads.
#
# Put on PYTHONPATH by `proclab trace` for the traced program only. Python imports
# `sitecustomize` at startup, in every interpreter: the main program's, and the children of
# the `spawn` and `forkserver` start methods, which are new interpreters. A name is told by a
# write to descriptor -1729, which no process has open: the write fails (EBADF) and changes
# nothing, and the tracer, which stops the program at that write, reads the name from its
# buffer. Nothing else of the program changes, except one thing a terminal would do too:
# standard output and error are line-buffered, so that each line is written (and shown) when
# it is printed, not when a pipe's buffer fills.
import os
import sys

_NAMES_FD = -1729


def _tell(kind, name):
    try:
        os.write(_NAMES_FD, f"proclab-name {kind} {name}".encode())
    except OSError:
        pass


def _install():
    import threading
    from multiprocessing import process

    # A child process of any start method runs `_bootstrap` first thing, in its main thread.
    bootstrap = process.BaseProcess._bootstrap

    def _bootstrap(self, *args, **kwargs):
        _tell("process", self.name)
        return bootstrap(self, *args, **kwargs)

    process.BaseProcess._bootstrap = _bootstrap

    # A thread runs `_bootstrap_inner` first thing, in itself. Whether its target raised is
    # kept for its join.
    bootstrap_inner = threading.Thread._bootstrap_inner

    def _bootstrap_inner(self):
        _tell("thread", self.name)
        run = self.run

        def _run():
            try:
                run()
            except BaseException:
                self._proclab_raised = True
                raise

        self.run = _run
        bootstrap_inner(self)

    threading.Thread._bootstrap_inner = _bootstrap_inner

    # A join that saw the thread end is told once, with 1 when its target raised (as the lab's
    # own threads' exit codes say it). The kernel cannot tell a join: Python's is a wait on a
    # lock the thread's end releases.
    join = threading.Thread.join

    def _join(self, timeout=None):
        join(self, timeout)
        if self.is_alive() or self.native_id is None or getattr(self, "_proclab_joined", False):
            return
        self._proclab_joined = True
        code = 1 if getattr(self, "_proclab_raised", False) else 0
        _tell("joined", f"{self.native_id} {code}")

    threading.Thread.join = _join

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)
        except (AttributeError, ValueError):
            pass

    argv = " ".join(getattr(sys, "orig_argv", []))
    if "--multiprocessing-fork" in argv:
        return  # a spawned child: named by `_bootstrap`, once it knows its name
    if "multiprocessing.forkserver" in argv:
        _tell("process", "forkserver")
    elif "multiprocessing.resource_tracker" in argv:
        _tell("process", "resource_tracker")
    else:
        _tell("process", process.current_process().name)


def _run_the_next_sitecustomize():
    # Python imports one `sitecustomize`, the first on its path: this one hides any the program
    # had (later on PYTHONPATH, or the installation's own). That one runs too, after this one,
    # as it would have without the lab.
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    path = [entry for entry in sys.path if os.path.abspath(entry or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


_install()
_run_the_next_sitecustomize()
