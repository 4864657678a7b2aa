"""`Consumer` (blocking, iterable) and `AsyncConsumer` (asyncio, `async for`).

A consumer serves one caller at a time: a call made while another runs (from another
thread or task, or from a rebalance callback) raises `ConcurrentCall` instead of waiting.
"""

from __future__ import annotations

from typing import (
    TYPE_CHECKING,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Optional,
    Tuple,
    Union,
)

from . import _pyralog
from ._pyralog import Delivery, LogPartition, Record

if TYPE_CHECKING:
    from typing_extensions import Self

#: A `LogPartition` or a `(log, partition)` tuple.
PartitionLike = Union[LogPartition, Tuple[str, int]]
#: A rebalance callback; it gets the partitions and must not call the consumer.
RebalanceCallback = Optional[Callable[[list], None]]

#: How long each poll of an iteration waits before polling again.
ITERATION_POLL_TIMEOUT_S = 1.0
DEFAULT_POLL_TIMEOUT_S = 1.0


class Consumer:
    """Reads assigned partitions (`assign`) or a group's share of logs (`subscribe`).
    `poll(timeout)` blocks with the GIL released; iterate it for records one by one
    until it is closed. Close it (or use `with`) to leave the group."""

    def __init__(self, native: _pyralog._Consumer) -> None:
        self._c = native
        self._closed = False

    def subscribe(
        self,
        logs: Iterable[str],
        *,
        on_assign: RebalanceCallback = None,
        on_revoke: RebalanceCallback = None,
        on_lost: RebalanceCallback = None,
    ) -> None:
        """Joins the consumer's group for `logs` (needs `group_id`); the group assigns
        partitions inside `poll`, which calls `on_assign(partitions)` and
        `on_revoke(partitions)` (`on_lost` when they were taken without a rebalance;
        defaults to `on_revoke`). An exception in a callback is raised from `poll`."""
        self._c.subscribe(list(logs), on_assign, on_revoke, on_lost)

    def unsubscribe(self) -> None:
        """Leaves the group (committing first with auto-commit)."""
        self._c.unsubscribe().result()

    def assign(self, partitions: Iterable[PartitionLike]) -> None:
        """Reads exactly these partitions (no group)."""
        self._c.assign(partitions)

    def assign_log(self, log: str) -> None:
        """Reads every partition of `log` (no group)."""
        self._c.assign_log(log).result()

    def assignment(self) -> list[LogPartition]:
        """The partitions read now."""
        return self._c.assignment()

    def poll(self, timeout: float = DEFAULT_POLL_TIMEOUT_S) -> list[Record]:
        """The next records, or an empty list after `timeout` seconds. A stored batch that
        cannot be decoded raises `CorruptData` naming it, once the records before it were
        returned, on every poll until `seek(partition, e.last_offset + 1)` skips it."""
        return self._c.poll(timeout).result()

    def __iter__(self) -> Iterator[Record]:
        while not self._closed:
            yield from self._c.poll(ITERATION_POLL_TIMEOUT_S).result()

    def seek(self, partition: PartitionLike, offset: int) -> None:
        """The next poll reads `partition` from `offset`."""
        self._c.seek(partition, offset)

    def seek_to_beginning(self, partitions: Iterable[PartitionLike] | None = None) -> None:
        """Reads from the log start (default: every assigned partition)."""
        self._c.seek_to_beginning(partitions)

    def seek_to_end(self, partitions: Iterable[PartitionLike] | None = None) -> None:
        """Reads only what comes next (default: every assigned partition)."""
        self._c.seek_to_end(partitions)

    def seek_to_timestamp(
        self, timestamp_ms: int, partitions: Iterable[PartitionLike] | None = None
    ) -> None:
        """Reads from the first record at or after `timestamp_ms`."""
        self._c.seek_to_timestamp(timestamp_ms, partitions)

    def pause(self, partitions: Iterable[PartitionLike]) -> None:
        """Stops fetching these partitions until `resume`."""
        self._c.pause(partitions)

    def resume(self, partitions: Iterable[PartitionLike]) -> None:
        """Fetches paused partitions again."""
        self._c.resume(partitions)

    def paused(self) -> list[LogPartition]:
        """The paused partitions."""
        return self._c.paused()

    def position(self, partition: PartitionLike) -> int:
        """The offset of the next record `poll` returns for `partition`."""
        return self._c.position(partition).result()

    def commit(self, offsets: Mapping[PartitionLike, int] | None = None) -> None:
        """Commits the positions (or `offsets`: the next offset to read per partition)
        for the group and waits. Raises `RebalanceInProgress`, `IllegalGeneration`..."""
        self._c.commit(dict(offsets) if offsets is not None else None).result()

    def commit_async(self) -> Delivery:
        """Starts committing the positions; the `Delivery` tells how it went."""
        return self._c.commit_async()

    def committed(
        self, partitions: Iterable[PartitionLike] | None = None
    ) -> dict[LogPartition, int]:
        """The group's committed offsets (default: of the assignment)."""
        return self._c.committed(partitions).result()

    def close(self) -> None:
        """Leaves the group (committing first with auto-commit) and stops. Idempotent."""
        self._closed = True
        self._c.close().result()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncConsumer:
    """The asyncio twin of `Consumer`: coroutine `poll`, `commit`, ... and `async for`.
    Rebalance callbacks run on a native thread: keep them short and synchronous."""

    def __init__(self, native: _pyralog._Consumer) -> None:
        self._c = native
        self._closed = False

    def subscribe(
        self,
        logs: Iterable[str],
        *,
        on_assign: RebalanceCallback = None,
        on_revoke: RebalanceCallback = None,
        on_lost: RebalanceCallback = None,
    ) -> None:
        """As `Consumer.subscribe`."""
        self._c.subscribe(list(logs), on_assign, on_revoke, on_lost)

    async def unsubscribe(self) -> None:
        """As `Consumer.unsubscribe`."""
        await self._c.unsubscribe()

    def assign(self, partitions: Iterable[PartitionLike]) -> None:
        """As `Consumer.assign`."""
        self._c.assign(partitions)

    async def assign_log(self, log: str) -> None:
        """As `Consumer.assign_log`."""
        await self._c.assign_log(log)

    def assignment(self) -> list[LogPartition]:
        """As `Consumer.assignment`."""
        return self._c.assignment()

    async def poll(self, timeout: float = DEFAULT_POLL_TIMEOUT_S) -> list[Record]:
        """As `Consumer.poll`, without blocking the event loop."""
        return await self._c.poll(timeout)

    async def __aiter__(self) -> AsyncIterator[Record]:
        while not self._closed:
            for record in await self._c.poll(ITERATION_POLL_TIMEOUT_S):
                yield record

    def seek(self, partition: PartitionLike, offset: int) -> None:
        """As `Consumer.seek`."""
        self._c.seek(partition, offset)

    def seek_to_beginning(self, partitions: Iterable[PartitionLike] | None = None) -> None:
        """As `Consumer.seek_to_beginning`."""
        self._c.seek_to_beginning(partitions)

    def seek_to_end(self, partitions: Iterable[PartitionLike] | None = None) -> None:
        """As `Consumer.seek_to_end`."""
        self._c.seek_to_end(partitions)

    def seek_to_timestamp(
        self, timestamp_ms: int, partitions: Iterable[PartitionLike] | None = None
    ) -> None:
        """As `Consumer.seek_to_timestamp`."""
        self._c.seek_to_timestamp(timestamp_ms, partitions)

    def pause(self, partitions: Iterable[PartitionLike]) -> None:
        """As `Consumer.pause`."""
        self._c.pause(partitions)

    def resume(self, partitions: Iterable[PartitionLike]) -> None:
        """As `Consumer.resume`."""
        self._c.resume(partitions)

    def paused(self) -> list[LogPartition]:
        """As `Consumer.paused`."""
        return self._c.paused()

    async def position(self, partition: PartitionLike) -> int:
        """As `Consumer.position`."""
        return await self._c.position(partition)

    async def commit(self, offsets: Mapping[PartitionLike, int] | None = None) -> None:
        """As `Consumer.commit`."""
        await self._c.commit(dict(offsets) if offsets is not None else None)

    def commit_async(self) -> Delivery:
        """As `Consumer.commit_async`; await the `Delivery` or leave it."""
        return self._c.commit_async()

    async def committed(
        self, partitions: Iterable[PartitionLike] | None = None
    ) -> dict[LogPartition, int]:
        """As `Consumer.committed`."""
        return await self._c.committed(partitions)

    async def close(self) -> None:
        """As `Consumer.close`."""
        self._closed = True
        await self._c.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
