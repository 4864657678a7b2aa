package io.pyralog.internal;

import io.pyralog.PyralogClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads {@code libpyralog_jni}: from {@code java.library.path} if it is there, else from the
 * jar ({@code native/<os>-<arch>/}), extracted to a temporary file; then checks that the
 * library is of this SDK's version ({@link PyralogClient#VERSION}), so a stale library left on
 * {@code java.library.path} is named at load instead of failing in some later call.
 *
 * <p>Failures are {@link UnsatisfiedLinkError}s whose message names the platform, the library and
 * what to do: a platform the jar has no library for, or a library of another version.
 */
final class NativeLibrary {
    private static final String NAME = "pyralog_jni";
    /** The platforms the published jar carries a library for (docs/RELEASING.md). */
    static final String PUBLISHED_PLATFORMS = "linux-x86_64 (glibc 2.17+)";
    private static final String BUILD_FROM_SOURCE = "build it from source (needs Rust 1.85+): cargo build --release"
        + " -p pyralog-java in a checkout, then run with -Djava.library.path=<checkout>/target/release"
        + " (java/README.md, \"Build from source\")";
    private static boolean loaded;

    private NativeLibrary() {}

    static synchronized void load() {
        if (loaded) {
            return;
        }
        String from;
        try {
            System.loadLibrary(NAME);
            from = System.mapLibraryName(NAME) + " on java.library.path (" + System.getProperty("java.library.path")
                + ")";
        } catch (UnsatisfiedLinkError notOnPath) {
            from = loadFromJar(notOnPath);
        }
        checkVersion(from);
        loaded = true;
    }

    private static void checkVersion(String from) {
        String found;
        try {
            found = nativeVersion();
        } catch (UnsatisfiedLinkError noVersion) {
            found = "older than 0.1.0 (it reports no version)";
        }
        if (!PyralogClient.VERSION.equals(found)) {
            throw new UnsatisfiedLinkError("pyralog: the native library " + from + " is version " + found
                + ", but this SDK is " + PyralogClient.VERSION + "; remove the stale library (or point"
                + " java.library.path elsewhere) so the one inside the jar is used");
        }
    }

    /** The library's version ({@code Cargo.toml}'s workspace version when it was built). */
    private static native String nativeVersion();

    private static String loadFromJar(UnsatisfiedLinkError notOnPath) {
        String resource = "/native/" + platform() + "/" + System.mapLibraryName(NAME);
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                UnsatisfiedLinkError e = new UnsatisfiedLinkError("pyralog: no prebuilt native library for this"
                    + " platform (" + platform() + ") in the jar, which has one for " + PUBLISHED_PLATFORMS
                    + ", nor on java.library.path; " + BUILD_FROM_SOURCE);
                e.addSuppressed(notOnPath);
                throw e;
            }
            Path tmp = Files.createTempFile("libpyralog_jni", ".so");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            System.load(tmp.toAbsolutePath().toString());
            return resource + " in the jar";
        } catch (IOException e) {
            throw new UncheckedIOException("pyralog: could not extract the native library", e);
        }
    }

    static String platform() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String o = os.contains("linux") ? "linux" : os.contains("mac") ? "macos" : os.contains("win") ? "windows" : os;
        String a = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64" : arch.equals("aarch64") ? "aarch64" : arch;
        return o + "-" + a;
    }

    private static final class UncheckedIOException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UncheckedIOException(String message, IOException cause) {
            super(message, cause);
        }
    }
}
