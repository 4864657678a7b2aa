"""Per-log cleanup policy and tombstone retention: both round-trip through the server, and a
policy the core client does not know is refused with `ValueError`, as a bad flush policy is."""

from __future__ import annotations

import pytest
from conftest import unique

import pyralog


def test_cleanup_policy_and_delete_retention_round_trip(client):
    log = unique("cleanup")
    config = pyralog.LogConfig(cleanup_policy="compact", delete_retention_ms=60_000)
    created = client.create_log(log, partitions=1, config=config).config
    assert (created.cleanup_policy, created.delete_retention_ms) == ("compact", 60_000)
    described = client.get_log_metadata(log).config
    assert (described.cleanup_policy, described.delete_retention_ms) == ("compact", 60_000)
    described.cleanup_policy = "compact,delete"
    client.update_log_config(log, described)
    assert client.get_log_metadata(log).config.cleanup_policy == "compact,delete"


def test_unknown_cleanup_policy_is_value_error(client):
    with pytest.raises(ValueError, match="cleanup_policy"):
        pyralog.LogConfig(cleanup_policy="compacted")
    config = pyralog.LogConfig()
    config.cleanup_policy = "compacted"
    log = unique("cleanup-bad")
    with pytest.raises(ValueError, match="cleanup_policy"):
        client.create_log(log, partitions=1, config=config)
    assert not client.log_exists(log)
