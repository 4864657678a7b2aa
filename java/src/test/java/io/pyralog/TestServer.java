package io.pyralog;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The real pyralog-server binary on a free loopback port with a fresh data directory. */
final class TestServer implements AutoCloseable {
    private static final long START_TIMEOUT_S = 30;
    /** Longest a command of {@link #run} may take. */
    private static final long COMMAND_TIMEOUT_S = 60;
    static final String SERVER_BIN = System.getProperty("pyralog.server.bin", "../target/debug/pyralog-server");
    /** The command-line client, {@code pyralog}. */
    static final String CLI_BIN = System.getProperty("pyralog.cli.bin", "../target/debug/pyralog");

    final String addr;
    final String caFile;
    /** This server's own temporary directory (its data directory is {@code data} in it). */
    final Path dir;
    private final Path data;
    private final Path config;
    private final Process process;

    TestServer() throws Exception {
        this(null);
    }

    /**
     * A server with {@code configToml} as its config file ({@code --config}); null for the
     * embedded defaults.
     */
    TestServer(String configToml) throws Exception {
        String bin = SERVER_BIN;
        dir = Files.createTempDirectory("pyralog-java-test-");
        data = dir.resolve("data");
        List<String> command = new ArrayList<>(List.of(bin, "--data-dir", data.toString(), "--listen", "127.0.0.1:0"));
        if (configToml != null) {
            config = Files.writeString(dir.resolve("pyralog.toml"), configToml);
            command.addAll(List.of("--config", config.toString()));
        } else {
            config = null;
        }
        process = new ProcessBuilder(command)
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

    /** This server's data directory ({@code --data-dir}). */
    Path dataDir() {
        return data;
    }

    PyralogClient client() {
        return PyralogClient.connect(addr, ClientConfig.builder().caFile(caFile).build());
    }

    /**
     * Runs {@code pyralog-server ARGS} against this server's config and data directory (its
     * {@code token} and {@code cert} commands).
     *
     * @return its standard output
     */
    String serverCommand(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(SERVER_BIN));
        command.addAll(List.of(args));
        if (config != null) {
            command.addAll(List.of("--config", config.toString()));
        }
        command.addAll(List.of("--data-dir", data.toString()));
        return run(command);
    }

    /**
     * Runs the command-line client {@code pyralog ARGS} against this server, as the holder of
     * {@code token}.
     *
     * @return its standard output
     */
    String cli(String token, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(CLI_BIN, "--server", addr, "--ca-file", caFile, "--token", token));
        command.addAll(List.of(args));
        return run(command);
    }

    /** Runs {@code command}; its standard output, or an exception with its error output if it fails. */
    private static String run(List<String> command) throws Exception {
        Path err = Files.createTempFile("pyralog-java-test-", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "";
                }
            });
            if (!p.waitFor(COMMAND_TIMEOUT_S, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(command + " took longer than " + COMMAND_TIMEOUT_S + " s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(command + " failed (exit " + p.exitValue() + "): "
                    + Files.readString(err));
            }
            return out.get(COMMAND_TIMEOUT_S, TimeUnit.SECONDS);
        } finally {
            Files.deleteIfExists(err);
        }
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
