"""The host-runtime rules of the Python binding: GIL released on waits, Ctrl-C within half
a second, a clear error after fork, an event loop that keeps running, and the rest of the
native bridge (Delivery, ConcurrentCall, callback errors, complete stubs)."""

from __future__ import annotations

import ast
import asyncio
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import unique

import pyralog
from pyralog import _pyralog

SIGINT_LIMIT_S = 0.5


def empty_log_consumer(client):
    log = unique("rt")
    client.create_log(log, partitions=1)
    consumer = client.consumer()
    consumer.assign([(log, 0)])
    return log, consumer


def test_given_a_long_poll_when_another_thread_runs_python_should_keep_running(client):
    _, consumer = empty_log_consumer(client)
    ticks = 0
    stop = threading.Event()

    def count():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    t = threading.Thread(target=count)
    t.start()
    time.sleep(0.05)
    before = ticks
    consumer.poll(1.0)
    during = ticks - before
    stop.set()
    t.join()
    consumer.close()
    assert during > 10_000, f"the counting thread advanced only {during} times in 1 s"


def test_given_a_blocking_poll_when_sigint_arrives_should_raise_keyboard_interrupt_fast(server):
    script = f"""
import sys, time, pyralog
c = pyralog.Client({server.addr!r}, ca_file={server.ca_file!r})
log = "rt-sigint-" + str(__import__("os").getpid())
c.create_log(log, partitions=1)
k = c.consumer(); k.assign([(log, 0)])
print("ready", flush=True)
try:
    k.poll(30.0)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.3)  # inside poll by now
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        line = proc.stdout.readline().strip()
        elapsed = time.monotonic() - sent
        assert line == "interrupted"
        assert elapsed < SIGINT_LIMIT_S, f"Ctrl-C took {elapsed:.3f} s"
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_given_a_client_when_used_in_a_forked_child_should_raise_used_after_fork(client):
    client.list_logs()
    pid = os.fork()
    if pid == 0:  # the child: exit code tells the parent what happened
        code = 3
        try:
            client.list_logs()
        except pyralog.UsedAfterFork as e:
            code = 0 if "fork" in str(e) and isinstance(e, pyralog.Closed) else 2
        except BaseException:  # noqa: BLE001 - the child reports any failure by exit code
            code = 1
        os._exit(code)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the forked child hung")
    assert client.list_logs() is not None  # the parent is unaffected


def test_given_an_async_long_poll_should_not_block_the_event_loop(server):
    async def main():
        async with pyralog.AsyncClient.connect(server.addr, ca_file=server.ca_file) as c:
            log = unique("rt-async")
            await c.create_log(log, partitions=1)
            ticks = 0

            async def ticker():
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.01)
                    ticks += 1

            task = asyncio.create_task(ticker())
            async with c.consumer() as k:
                k.assign([(log, 0)])
                assert await k.poll(1.0) == []
            task.cancel()
            return ticks

    ticks = asyncio.run(asyncio.wait_for(main(), 30))
    assert ticks >= 50, f"the event loop ticked only {ticks} times during a 1 s poll"


def test_given_a_cancelled_await_should_cancel_the_poll_and_free_the_consumer(server):
    async def main():
        async with pyralog.AsyncClient.connect(server.addr, ca_file=server.ca_file) as c:
            log = unique("rt-cancel")
            await c.create_log(log, partitions=1)
            async with c.consumer() as k:
                k.assign([(log, 0)])
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(k.poll(30.0), 0.3)
                await asyncio.sleep(0.1)
                assert await k.poll(0.1) == []  # not ConcurrentCall: the cancelled poll let go

    asyncio.run(asyncio.wait_for(main(), 30))


def test_delivery_result_timeout_leaves_the_operation_running(client):
    _, consumer = empty_log_consumer(client)
    delivery = consumer._c.poll(1.0)
    with pytest.raises(pyralog.Timeout):
        delivery.result(timeout=0.1)
    assert not delivery.done()
    assert delivery.result(timeout=5) == []
    assert delivery.done()
    assert delivery.result() == []  # the outcome is kept
    consumer.close()


def test_consumer_used_during_a_running_poll_raises_busy(client):
    _, consumer = empty_log_consumer(client)
    running = consumer._c.poll(1.0)
    with pytest.raises(pyralog.ConcurrentCall):
        consumer.poll(0.1)
    running.result()
    consumer.close()


def test_exception_in_a_rebalance_callback_is_raised_from_poll(client):
    log = unique("rt-cb")
    client.create_log(log, partitions=1)

    def on_assign(partitions):
        raise ValueError("from the callback")

    with client.consumer(group_id=unique("gcb")) as c:
        c.subscribe([log], on_assign=on_assign)
        with pytest.raises(ValueError, match="from the callback"):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                c.poll(0.2)


def test_producer_send_batch_and_bad_input(client):
    log = unique("rt-batch")
    client.create_log(log, partitions=2)
    with client.producer(linger=0.001) as p:
        batch = p.send_batch(log, [b"a", ("k", "b"), ("k", b"c", [("h", b"1")])])
        mds = batch.result(timeout=10)
        assert len(mds) == 3
        assert mds[2].partition == mds[1].partition  # one key, one partition
        assert mds[2].offset == mds[1].offset + 1
        with pytest.raises(TypeError):
            p.send(log, 42)
        with pytest.raises(ValueError):
            p.send_batch(log, [(1, 2, 3, 4)])
        with pytest.raises(TypeError, match="unknown producer setting"):
            client.producer(lingerr=1)
    records = client.consume(log, 0, 10)
    assert sorted(r.value for r in records) == [b"a", b"b", b"c"]
    assert [r.headers for r in records if r.value == b"c"] == [[("h", b"1")]]


def test_stubs_name_every_native_class_and_method():
    stub = ast.parse((pathlib.Path(pyralog.__file__).parent / "_pyralog.pyi").read_text())
    stubbed = {
        node.name: {f.name for f in node.body if isinstance(f, ast.FunctionDef)}
        for node in stub.body
        if isinstance(node, ast.ClassDef)
    }
    for name in dir(_pyralog):
        obj = getattr(_pyralog, name)
        if not isinstance(obj, type) or name.startswith("__"):
            continue
        assert name in stubbed, f"{name} is missing from _pyralog.pyi"
        methods = {m for m in vars(obj) if not m.startswith("__") and callable(getattr(obj, m))}
        assert methods <= stubbed[name], f"{name}: {methods - stubbed[name]} not in the stub"


def test_version_is_the_native_modules_and_the_installed_distributions():
    from importlib.metadata import version

    assert pyralog.__version__ == version("pyralog")
    assert pyralog._spelling(pyralog.__version__) == pyralog._spelling(_pyralog.__version__)


def test_given_a_native_module_of_another_version_when_importing_should_name_both(monkeypatch):
    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.0.1")
    with pytest.raises(ImportError) as refused:
        pyralog._check_native_version()
    said = str(refused.value)
    assert f"is version {_pyralog.__version__}" in said, said
    assert "the installed package is 0.0.1" in said, said
