package io.pyralog;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The real pyralog-server binary on a free loopback port with a fresh data directory. */
final class TestServer implements AutoCloseable {
    private static final long START_TIMEOUT_S = 30;

    final String addr;
    final String caFile;
    private final Process process;
    private final Path dir;

    TestServer() throws Exception {
        String bin = System.getProperty("pyralog.server.bin", "../target/debug/pyralog-server");
        dir = Files.createTempDirectory("pyralog-java-test-");
        Path data = dir.resolve("data");
        process = new ProcessBuilder(bin, "--data-dir", data.toString(), "--listen", "127.0.0.1:0")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                return null;
            }
        }).get(START_TIMEOUT_S, TimeUnit.SECONDS);
        if (line == null) {
            throw new IllegalStateException("pyralog-server (" + bin + ") did not start");
        }
        String[] words = line.trim().split(" ");
        addr = words[words.length - 1];
        caFile = data.resolve("tls").resolve("ca.pem").toString();
    }

    PyralogClient client() {
        return PyralogClient.connect(addr, ClientConfig.builder().caFile(caFile).build());
    }

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Override
    public void close() throws IOException {
        process.destroyForcibly();
        try {
            process.waitFor(START_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
