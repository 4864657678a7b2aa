package io.pyralog.internal;

/** Loads the native library in a JVM of its own (NativeLibraryTest): prints what happened. */
public final class LoadProbe {
    private LoadProbe() {}

    public static void main(String[] args) {
        try {
            NativeLibrary.load();
            System.out.println("loaded");
        } catch (UnsatisfiedLinkError e) {
            System.out.println(e.getMessage());
        }
    }
}
