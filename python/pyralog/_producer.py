"""`Producer` (blocking) and `AsyncProducer` (asyncio): batching, retrying, and by
default idempotent (each record written once, in order, across retries)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence, Tuple, Union

from . import _pyralog
from ._pyralog import Delivery

if TYPE_CHECKING:
    from typing_extensions import Self

#: A `send_batch` item: a value, `(key, value)` or `(key, value, headers)`.
BatchItem = Union[
    bytes,
    str,
    Tuple[Union[bytes, str, None], Union[bytes, str]],
    Tuple[Union[bytes, str, None], Union[bytes, str], Sequence[Tuple[str, Union[bytes, str]]]],
]


class Producer:
    """Queues records and sends them in batches. `send` returns at once with a
    `Delivery` (call `.result()` for the `RecordMetadata`); it blocks only while the
    buffer is full (`buffer_memory`, at most `max_block`). Thread-safe; close it."""

    def __init__(self, native: _pyralog._Producer) -> None:
        self._p = native

    def send(
        self,
        log: str,
        value: bytes | str,
        key: bytes | str | None = None,
        headers: Sequence[tuple[str, bytes | str]] | None = None,
        partition: int | None = None,
        timestamp: int | None = None,
    ) -> Delivery:
        """Queues one record; the `Delivery` resolves to its `RecordMetadata`.
        Raises `Closed`, `RecordTooLarge`, `LogNotFound`, `BufferFull`."""
        return self._p.send(log, value, key, headers, partition, timestamp).result()

    def send_batch(
        self, log: str, records: Iterable[BatchItem], partition: int | None = None
    ) -> Delivery:
        """Queues many records in one call; the `Delivery` resolves to the list of
        their `RecordMetadata`, in order."""
        return self._p.send_batch(log, records, partition).result()

    def flush(self) -> None:
        """Waits until every record sent before it is acknowledged or failed."""
        self._p.flush().result()

    def identity(self) -> tuple[int, int] | None:
        """`(producer_id, epoch)`, or None without idempotence. Pass it as `resume=` to a
        later producer to continue this one's sequence (and fence this one)."""
        return self._p.identity().result()

    def close(self) -> None:
        """Flushes, then stops. Idempotent; `send` afterwards raises `Closed`."""
        self._p.close().result()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncProducer:
    """The asyncio twin of `Producer`: `delivery = await producer.send(...)` queues
    (waiting without blocking the loop while the buffer is full), `await delivery` gives
    the `RecordMetadata`."""

    def __init__(self, native: _pyralog._Producer) -> None:
        self._p = native

    async def send(
        self,
        log: str,
        value: bytes | str,
        key: bytes | str | None = None,
        headers: Sequence[tuple[str, bytes | str]] | None = None,
        partition: int | None = None,
        timestamp: int | None = None,
    ) -> Delivery:
        """As `Producer.send`."""
        queued = self._p.send(log, value, key, headers, partition, timestamp)
        return queued.result() if queued.done() else await queued

    async def send_and_wait(
        self,
        log: str,
        value: bytes | str,
        key: bytes | str | None = None,
        headers: Sequence[tuple[str, bytes | str]] | None = None,
        partition: int | None = None,
        timestamp: int | None = None,
    ) -> _pyralog.RecordMetadata:
        """Sends one record and waits for its `RecordMetadata`."""
        return await (await self.send(log, value, key, headers, partition, timestamp))

    async def send_batch(
        self, log: str, records: Iterable[BatchItem], partition: int | None = None
    ) -> Delivery:
        """As `Producer.send_batch`."""
        queued = self._p.send_batch(log, records, partition)
        return queued.result() if queued.done() else await queued

    async def flush(self) -> None:
        """As `Producer.flush`."""
        await self._p.flush()

    async def identity(self) -> tuple[int, int] | None:
        """As `Producer.identity`."""
        return await self._p.identity()

    async def close(self) -> None:
        """As `Producer.close`."""
        await self._p.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
