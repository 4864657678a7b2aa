package io.pyralog.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads {@code libpyralog_jni}: from {@code java.library.path} if it is there, else from the
 * jar ({@code native/<os>-<arch>/}), extracted to a temporary file.
 */
final class NativeLibrary {
    private static final String NAME = "pyralog_jni";
    private static boolean loaded;

    private NativeLibrary() {}

    static synchronized void load() {
        if (loaded) {
            return;
        }
        try {
            System.loadLibrary(NAME);
        } catch (UnsatisfiedLinkError notOnPath) {
            loadFromJar(notOnPath);
        }
        loaded = true;
    }

    private static void loadFromJar(UnsatisfiedLinkError notOnPath) {
        String resource = "/native/" + platform() + "/" + System.mapLibraryName(NAME);
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                UnsatisfiedLinkError e = new UnsatisfiedLinkError("pyralog: no native library for " + platform()
                    + " in the jar (" + resource + ") nor on java.library.path");
                e.addSuppressed(notOnPath);
                throw e;
            }
            Path tmp = Files.createTempFile("libpyralog_jni", ".so");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            System.load(tmp.toAbsolutePath().toString());
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
