"""Report QUBE's stages to `qubemem profile`.

QUBE's Fisher and Spectra wrap each stage in ``with self._stage(name):``, which enters
``self._profiler.stage(name)`` when the object has a ``_profiler``. `QubememStageHook` is such a
profiler: it writes ``enter NAME`` / ``exit NAME`` lines to the pipe that ``qubemem profile``
names in ``QUBEMEM_STAGE_FD`` (or ``QUBEMEM_STAGE_FILE``), and waits for the profiler's ack on
``QUBEMEM_STAGE_ACK_FD`` so that each event is stamped before the stage's work starts.

Outside ``qubemem profile`` (no variable set) it does nothing, so a script can always attach it:

    from qubemem_stage_hook import attach
    fisher = Fisher(params, basis="harmonic", mask=mask, noise_cov1=noise)
    attach(fisher)
    fisher.run()

Standard library only.
"""

import contextlib
import os

__all__ = ["QubememStageHook", "attach", "stage"]


class QubememStageHook:
    """A QUBE profiler object that forwards stage entry and exit to qubemem."""

    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        self._fd = None
        self._ack = None
        fd = env.get("QUBEMEM_STAGE_FD")
        path = env.get("QUBEMEM_STAGE_FILE")
        if fd is not None:
            try:
                os.fstat(int(fd))
                self._fd = int(fd)
            except (ValueError, OSError):
                self._fd = None
        if self._fd is None and path:
            try:
                self._fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
            except OSError:
                self._fd = None
        ack = env.get("QUBEMEM_STAGE_ACK_FD")
        if self._fd is not None and ack is not None:
            try:
                os.fstat(int(ack))
                self._ack = int(ack)
            except (ValueError, OSError):
                self._ack = None

    @property
    def active(self):
        """True when running under `qubemem profile`."""
        return self._fd is not None

    def _send(self, verb, name):
        if self._fd is None:
            return
        line = f"{verb} {name}\n".encode()
        try:
            os.write(self._fd, line)  # one write: atomic on a pipe below 4096 bytes
            if self._ack is not None and not os.read(self._ack, 1):
                self._ack = None  # the profiler is gone: stop waiting
        except OSError:
            self._fd = None

    @contextlib.contextmanager
    def stage(self, name):
        """The context manager QUBE's ``_stage(name)`` enters."""
        self._send("enter", name)
        try:
            yield self
        finally:
            self._send("exit", name)


_default = None


def _hook():
    global _default
    if _default is None:
        _default = QubememStageHook()
    return _default


def attach(*qube_objects):
    """Set the hook as ``_profiler`` on QUBE Fisher / Spectra objects; returns the hook."""
    hook = _hook()
    for obj in qube_objects:
        obj._profiler = hook
    return hook


def stage(name):
    """Mark a stage of your own script: ``with stage("load_maps"): ...``."""
    return _hook().stage(name)
