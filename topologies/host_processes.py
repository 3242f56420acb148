"""Processes run inside Mininet hosts' network namespaces, tracked so that all of them can be ended.

Every process is started with `mnexec -a <host shell pid>` in a new session, so its process group
is its own pid: killing the group ends whatever the command started and nothing else.
"""

import os
import signal
import subprocess
import threading
import time

KILL_GRACE_S = 1.0


def in_host(host_pid, argv):
    return ['mnexec', '-a', str(host_pid)] + list(argv)


def shell(command):
    return ['bash', '-c', command]


def signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def end_process(proc, grace_s=KILL_GRACE_S):
    """SIGTERM the process group, SIGKILL it if it is still there after the grace period."""
    if proc.poll() is None:
        signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
    # The leader may be gone while children it started live on in the group.
    signal_group(proc, signal.SIGKILL)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass


class ProcessTable:
    """Host processes by handle. `emit` receives the JSON events (lines and exits)."""

    def __init__(self, emit):
        self._emit = emit
        self._lock = threading.Lock()
        self._procs = {}
        self._next = 1

    def run(self, host_pid, command, timeout_s):
        """Run a shell command in a host; return stdout, stderr, exit code (None on timeout)."""
        proc = subprocess.Popen(
            in_host(host_pid, shell(command)), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True)
        self._track(proc)
        try:
            out, err = proc.communicate(timeout=timeout_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            end_process(proc, grace_s=0.2)
            out, err = proc.communicate()
            timed_out = True
        finally:
            self._untrack(proc)
        return {'stdout': out.decode(errors='replace'), 'stderr': err.decode(errors='replace'),
                'code': None if timed_out else proc.returncode, 'timedOut': timed_out}

    def spawn(self, host_pid, command):
        """Start a long-running shell command; stream its output lines as events."""
        proc = subprocess.Popen(
            in_host(host_pid, shell(command)), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True)
        handle = self._track(proc)
        readers = [self._reader(handle, proc.stdout, 'stdout'), self._reader(handle, proc.stderr, 'stderr')]
        threading.Thread(target=self._reap, args=(handle, proc, readers), daemon=True).start()
        return {'handle': handle, 'pid': proc.pid}

    def spawn_raw(self, host_pid, argv):
        """Start a helper (not streamed) with pipes for stdin and stdout; tracked for cleanup."""
        proc = subprocess.Popen(in_host(host_pid, argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        self._track(proc)
        return proc

    def release(self, proc):
        self._untrack(proc)

    def kill(self, handle, sig_name='SIGTERM'):
        with self._lock:
            proc = self._procs.get(handle)
        if proc is None:
            return {'alive': False}
        if sig_name == 'SIGKILL':
            signal_group(proc, signal.SIGKILL)
        else:
            threading.Thread(target=end_process, args=(proc,), daemon=True).start()
        return {'alive': proc.poll() is None}

    def end_all(self):
        with self._lock:
            procs = list(self._procs.values())
        for proc in procs:
            signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + KILL_GRACE_S
        for proc in procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            signal_group(proc, signal.SIGKILL)

    def _track(self, proc):
        with self._lock:
            handle = self._next
            self._next += 1
            self._procs[handle] = proc
        return handle

    def _untrack(self, proc):
        with self._lock:
            for handle, tracked in list(self._procs.items()):
                if tracked is proc:
                    del self._procs[handle]

    def _reader(self, handle, stream, name):
        def pump():
            for raw in iter(stream.readline, b''):
                self._emit({'event': 'line', 'handle': handle, 'stream': name,
                            'line': raw.decode(errors='replace').rstrip('\n')})
        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        return thread

    def _reap(self, handle, proc, readers):
        code = proc.wait()
        for reader in readers:
            reader.join()
        self._untrack(proc)
        event = {'event': 'exit', 'handle': handle, 'code': code if code >= 0 else None}
        if code < 0:
            event['signal'] = signal.Signals(-code).name
        self._emit(event)
