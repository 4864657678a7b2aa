package io.pyralog;

import static io.pyralog.TestServer.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pyralog.errors.InvalidArgumentException;
import io.pyralog.internal.Native;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Per-log cleanup policy and tombstone retention round-trip; an unknown policy is refused. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CleanupPolicyTest extends ServerTest {
    @Test
    void cleanupPolicyAndDeleteRetentionRoundTrip() {
        String log = unique("jcleanup");
        LogConfig config = LogConfig.builder().cleanupPolicy(CleanupPolicy.COMPACT).deleteRetentionMs(60_000).build();
        LogConfig created = client.createLogWithConfig(log, 1, config).config();
        assertEquals(CleanupPolicy.COMPACT, created.cleanupPolicy());
        assertEquals(60_000, created.deleteRetentionMs());
        LogConfig described = client.getLogMetadata(log).config();
        assertEquals(CleanupPolicy.COMPACT, described.cleanupPolicy());
        assertEquals(60_000, described.deleteRetentionMs());
        client.updateLogConfig(log, described.toBuilder().cleanupPolicy(CleanupPolicy.COMPACT_DELETE).build());
        assertEquals(CleanupPolicy.COMPACT_DELETE, client.getLogMetadata(log).config().cleanupPolicy());
    }

    /** The enum cannot name a bad policy; the native layer refuses one, as it does a bad flush policy. */
    @Test
    void anUnknownCleanupPolicyIsInvalidArgument() {
        String log = unique("jcleanup-bad");
        long[] raw = LogConfig.builder().build().toNative();
        raw[9] = 7; // the cleanup policy
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
            () -> client.nativeHandle().call(h -> Native.createLog(h, log, 1, 0, raw)));
        assertFalse(e.getMessage().isEmpty());
        assertFalse(client.logExists(log));
    }
}
