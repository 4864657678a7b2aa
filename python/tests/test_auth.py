"""Authentication against a real server with `[auth]` on (the `auth_server` fixture, `admin`
a superuser): a bearer token and a client certificate (mTLS) each work end to end; a wrong
token is refused with `AuthenticationFailed`; a principal without an ACL is refused with
`NotAuthorized` until `pyralog acl add` allows it; a server's quota surfaces as `Throttled`
with `retry_after_ms`. Every wait is bounded (client timeouts, subprocess timeouts)."""

from __future__ import annotations

import asyncio
import pathlib
import subprocess

import pytest
from conftest import Server, cli_binary, server_binary, unique

import pyralog
from pyralog import AsyncClient, Client

#: Bound of each request (and each connection attempt) of these tests.
REQUEST_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0
#: Bound of each `pyralog-server` / `pyralog` command these tests run.
COMMAND_TIMEOUT_S = 30
RECORDS = [b"auth-1", b"auth-2", b"auth-3"]


def run_command(args: list[str]) -> str:
    out = subprocess.run(
        args, check=False, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S
    )
    assert out.returncode == 0, f"{args}: {out.stderr}"
    return out.stdout


def create_token(server: Server, name: str) -> str:
    """`pyralog-server token create NAME` against the server's config and data directory."""
    token = run_command([str(server_binary()), "token", "create", name, *server.global_args])
    return token.strip()


def issue_cert(server: Server, name: str) -> tuple[pathlib.Path, pathlib.Path]:
    """`pyralog-server cert issue --name NAME` under the server's development CA."""
    out = server.dir / "clients"
    run_command(
        [str(server_binary()), "cert", "issue", "--name", name, "--out", str(out)]
        + server.global_args
    )
    return out / f"{name}.pem", out / f"{name}-key.pem"


def cli(server: Server, token: str, *args: str) -> str:
    """The `pyralog` command-line client, as `token`'s principal."""
    common = ["--server", server.addr, "--ca-file", server.ca_file, "--token", token]
    return run_command([str(cli_binary()), *common, *args])


def connect(server: Server, **identity) -> Client:
    return Client(
        server.addr,
        ca_file=server.ca_file,
        connect_timeout=CONNECT_TIMEOUT_S,
        request_timeout=REQUEST_TIMEOUT_S,
        **identity,
    )


def produce_and_read_back(client: Client, log: str) -> list[bytes]:
    client.create_log(log, partitions=1)
    for value in RECORDS:
        client.produce(log, value, key=b"k")
    return [r.value for r in client.consume_from_partition(log, 0, 0, 100)]


@pytest.fixture(scope="module")
def admin_token(auth_server) -> str:
    return create_token(auth_server, "admin")


def test_given_a_superusers_token_when_producing_should_consume_the_records_back(
    auth_server, admin_token
):
    with connect(auth_server, token=admin_token) as client:
        assert produce_and_read_back(client, unique("auth-token")) == RECORDS


def test_given_a_superusers_token_when_async_should_consume_the_records_back(
    auth_server, admin_token
):
    async def main() -> list[bytes]:
        log = unique("auth-async")
        async with AsyncClient.connect(
            auth_server.addr,
            ca_file=auth_server.ca_file,
            connect_timeout=CONNECT_TIMEOUT_S,
            request_timeout=REQUEST_TIMEOUT_S,
            token=admin_token,
        ) as client:
            await client.create_log(log, partitions=1)
            for value in RECORDS:
                await client.produce(log, value)
            return [r.value for r in await client.consume_from_partition(log, 0, 0, 100)]

    assert asyncio.run(asyncio.wait_for(main(), 60)) == RECORDS


def test_given_a_superusers_client_certificate_when_producing_should_consume_the_records_back(
    auth_server,
):
    cert_file, key_file = issue_cert(auth_server, "admin")
    with connect(auth_server, cert_file=cert_file, key_file=str(key_file)) as client:
        assert produce_and_read_back(client, unique("auth-mtls")) == RECORDS


def test_given_a_certificate_without_its_key_should_raise_invalid_argument(auth_server):
    cert_file, _ = issue_cert(auth_server, "admin")
    with pytest.raises(pyralog.InvalidArgument):
        connect(auth_server, cert_file=cert_file).close()


def test_given_no_credentials_or_a_wrong_token_should_raise_authentication_failed(
    auth_server, admin_token
):
    wrong = admin_token[:-1] + ("0" if admin_token[-1] != "0" else "1")
    for identity in [{"token": wrong}, {"token": "pyt_admin_nope"}, {}]:
        # Refused at the connection or at its first request, whichever comes first.
        refused = pytest.raises(pyralog.AuthenticationFailed)
        with refused as refusal, connect(auth_server, **identity) as client:
            client.list_logs()
        assert refusal.value.code == 700
        assert refusal.value.retry_after_ms is None


def test_given_alice_without_an_acl_should_raise_not_authorized_until_an_acl_allows_her(
    auth_server, admin_token
):
    log = unique("auth-acl")
    with connect(auth_server, token=admin_token) as admin:
        admin.create_log(log, partitions=1)
    alice_token = create_token(auth_server, "alice")
    with connect(auth_server, token=alice_token) as alice:
        with pytest.raises(pyralog.NotAuthorized) as refused:
            alice.produce(log, b"refused")
        assert refused.value.code == 701
        assert "alice" in refused.value.message

        cli(auth_server, admin_token, "acl", "add", "alice", "write", f"log:{log}")
        md = alice.produce(log, b"allowed")
        assert (md.log, md.offset) == (log, 0)
    with connect(auth_server, token=admin_token) as admin:
        assert [r.value for r in admin.consume_from_partition(log, 0, 0, 10)] == [b"allowed"]


def test_given_a_request_rate_quota_when_exceeded_should_raise_throttled_with_retry_after():
    # Authentication off: every connection is the principal `anonymous`, one request a second.
    server = Server("[quotas]\nrequests_per_second_per_principal = 1\n")
    try:
        with pytest.raises(pyralog.Throttled) as throttled, connect(server) as client:
            for _ in range(20):
                client.list_logs()
        assert throttled.value.code == 702
        assert isinstance(throttled.value.retry_after_ms, int)
        assert 0 < throttled.value.retry_after_ms <= 1000
    finally:
        server.stop()


def test_errors_carry_retry_after_ms_none_unless_the_server_advised_a_wait(client):
    with pytest.raises(pyralog.LogNotFound) as missing:
        client.get_log_metadata(unique("missing"))
    assert missing.value.retry_after_ms is None
    assert pyralog.PyralogError(104, "busy").retry_after_ms is None
    assert pyralog.Throttled(702, "slow down", 250).retry_after_ms == 250
