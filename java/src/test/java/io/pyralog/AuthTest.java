package io.pyralog;

import static io.pyralog.TestServer.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyralog.errors.AuthenticationFailedException;
import io.pyralog.errors.InvalidArgumentException;
import io.pyralog.errors.NotAuthorizedException;
import io.pyralog.errors.ThrottledException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Client authentication against a server of its own with {@code [auth] enabled}: bearer
 * tokens, client certificates (mTLS), refusals, ACLs granted with the {@code pyralog} CLI, and
 * the retry-after advice of a quota.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AuthTest {
    static final String AUTH_CONFIG = "[auth]\nenabled = true\nsuperusers = [\"admin\"]\n";

    static TestServer server;
    static String adminToken;

    @BeforeAll
    static void startServer() throws Exception {
        server = new TestServer(AUTH_CONFIG);
        adminToken = server.serverCommand("token", "create", "admin").trim();
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    static ClientConfig.Builder trustingTheServer() {
        return ClientConfig.builder().caFile(server.caFile).connectTimeout(Duration.ofSeconds(5))
            .requestTimeout(Duration.ofSeconds(10));
    }

    /** Creates {@code log}, produces a record and reads it back. */
    static void createProduceConsume(PyralogClient c, String log) {
        c.createLog(log, 1);
        RecordMetadata md = c.produce(log, Record.of("hello " + log).withKey("k"));
        List<Record> read = c.consumeFromPartition(log, md.partition(), md.offset(), 10);
        assertEquals(1, read.size());
        assertEquals("hello " + log, new String(read.get(0).value(), StandardCharsets.UTF_8));
    }

    @Test
    void theSuperusersTokenCreatesProducesAndConsumes() {
        assertTrue(adminToken.startsWith("pyt_admin_"), adminToken);
        try (PyralogClient admin = PyralogClient.connect(server.addr, trustingTheServer().token(adminToken).build())) {
            createProduceConsume(admin, unique("jauth-token"));
        }
    }

    @Test
    void aClientCertificateIssuedToTheSuperuserWorksTheSame() throws Exception {
        Path out = Files.createDirectories(server.dir.resolve("certs"));
        server.serverCommand("cert", "issue", "--name", "admin", "--out", out.toString());
        ClientConfig config = trustingTheServer()
            .certFile(out.resolve("admin.pem").toString())
            .keyFile(out.resolve("admin-key.pem").toString())
            .build();
        try (PyralogClient admin = PyralogClient.connect(server.addr, config)) {
            createProduceConsume(admin, unique("jauth-cert"));
        }
    }

    @Test
    void aWrongTokenIsRefusedWithAuthenticationFailed() {
        String wrong = "pyt_admin_" + "0".repeat(64);
        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
            () -> PyralogClient.connect(server.addr, trustingTheServer().token(wrong).build()));
        assertEquals(AuthenticationFailedException.CODE, e.code());
        assertEquals(Optional.empty(), e.retryAfter());
    }

    @Test
    void noIdentityIsRefusedWithAuthenticationFailed() {
        try (PyralogClient anonymous = PyralogClient.connect(server.addr, trustingTheServer().build())) {
            assertThrows(AuthenticationFailedException.class, anonymous::listLogs);
        }
    }

    @Test
    void aCertificateWithoutItsKeyIsAnInvalidArgument() {
        assertThrows(InvalidArgumentException.class, () -> PyralogClient.connect(server.addr,
            trustingTheServer().certFile(server.dir.resolve("admin.pem").toString()).build()));
    }

    @Test
    void aUserWithoutAnAclIsNotAuthorizedUntilTheCliGrantsWrite() throws Exception {
        String log = unique("jauth-orders");
        String aliceToken = server.serverCommand("token", "create", "alice").trim();
        try (PyralogClient admin = PyralogClient.connect(server.addr, trustingTheServer().token(adminToken).build());
                PyralogClient alice = PyralogClient.connect(server.addr, trustingTheServer().token(aliceToken).build())) {
            admin.createLog(log, 1);
            assertThrows(NotAuthorizedException.class, () -> alice.produce(log, Record.of("denied")));

            server.cli(adminToken, "acl", "add", "alice", "write", "log:" + log);
            RecordMetadata md = alice.produce(log, Record.of("allowed"));
            List<Record> read = admin.consumeFromPartition(log, md.partition(), md.offset(), 10);
            assertEquals("allowed", new String(read.get(0).value(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void aPrincipalOverItsConnectionQuotaIsThrottledWithRetryAfter() throws Exception {
        try (TestServer quota = new TestServer(AUTH_CONFIG + "\n[quotas]\nconnections_per_principal = 1\n")) {
            String token = quota.serverCommand("token", "create", "admin").trim();
            ClientConfig config = ClientConfig.builder().caFile(quota.caFile).token(token).build();
            try (PyralogClient first = PyralogClient.connect(quota.addr, config)) {
                first.listLogs();
                ThrottledException e = assertThrows(ThrottledException.class, () -> PyralogClient.connect(quota.addr, config));
                assertEquals(Optional.of(Duration.ofSeconds(1)), e.retryAfter(), e.toString());
            }
        }
    }

    @Test
    void retryAfterIsEmptyWithoutAdviceAndADurationWithIt() {
        assertEquals(Optional.empty(), PyralogException.create(ThrottledException.CODE, "m").retryAfter());
        assertEquals(Optional.empty(), PyralogException.create(ThrottledException.CODE, "m", 0).retryAfter());
        PyralogException e = PyralogException.create(ThrottledException.CODE, "m", 1500);
        assertTrue(e instanceof ThrottledException);
        assertEquals(Optional.of(Duration.ofMillis(1500)), e.retryAfter());
    }
}
