package io.pyralog.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyralog.PyralogClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loader as a user meets it, each case in a JVM of its own: the library of this version
 * loads; a stale library of another version left on java.library.path is named; a platform the
 * jar has no library for is named with how to build from source.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NativeLibraryTest {
    static final long PROCESS_TIMEOUT_S = 60;

    /** Runs LoadProbe in a new JVM with these extra options; returns what it printed. */
    static String probe(List<String> options) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        argv.add("-cp");
        argv.add(System.getProperty("java.class.path"));
        argv.addAll(options);
        argv.add(LoadProbe.class.getName());
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        assertTrue(p.waitFor(PROCESS_TIMEOUT_S, TimeUnit.SECONDS), "the probe JVM did not exit in time");
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    }

    @Test
    void givenTheJarsLibraryWhenLoadingShouldLoad() throws Exception {
        assertEquals("loaded", probe(List.of("-Djava.library.path=/nonexistent")));
    }

    @Test
    void givenAStaleLibraryOnTheLibraryPathWhenLoadingShouldNameBothVersions(@TempDir Path dir) throws Exception {
        // A library exporting only the version entry point, as a build of another release would.
        Path source = dir.resolve("stale.c");
        Files.writeString(source, "#include <jni.h>\n"
            + "JNIEXPORT jstring JNICALL Java_io_pyralog_internal_NativeLibrary_nativeVersion(JNIEnv *env, jclass c)"
            + " { (void)c; return (*env)->NewStringUTF(env, \"0.0.1\"); }\n");
        Path include = Path.of(System.getProperty("java.home"), "include");
        Process cc = new ProcessBuilder("cc", "-shared", "-fPIC", "-I" + include, "-I" + include.resolve("linux"),
            "-o", dir.resolve("libpyralog_jni.so").toString(), source.toString()).inheritIO().start();
        assertTrue(cc.waitFor(PROCESS_TIMEOUT_S, TimeUnit.SECONDS) && cc.exitValue() == 0, "cc failed");

        String out = probe(List.of("-Djava.library.path=" + dir));
        assertTrue(out.contains("libpyralog_jni.so on java.library.path"), out);
        assertTrue(out.contains("is version 0.0.1, but this SDK is " + PyralogClient.VERSION), out);
    }

    @Test
    void givenAPlatformWithoutALibraryWhenLoadingShouldNameItAndHowToBuild() throws Exception {
        String out = probe(List.of("-Djava.library.path=/nonexistent", "-Dos.arch=aarch64"));
        assertTrue(out.contains("no prebuilt native library for this platform (linux-aarch64)"), out);
        assertTrue(out.contains("Build from source"), out);
    }
}
