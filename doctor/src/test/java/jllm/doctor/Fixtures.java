package jllm.doctor;

import java.nio.file.Path;

/** Locates ../shared/fixtures (or the jllm.fixtures system property) and the repo's own testdata. */
public final class Fixtures {
    private Fixtures() {}

    public static Path root() {
        String p = System.getProperty("jllm.fixtures");
        if (p != null) return Path.of(p);
        return Path.of(System.getProperty("jllm.root", "..")).resolve("../shared/fixtures");
    }

    public static Path testdata() {
        return Path.of(System.getProperty("jllm.root", "..")).resolve("testdata");
    }
}
