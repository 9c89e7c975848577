package jllm.doctor;

import java.nio.file.Path;

/** The shared fixtures and the repo's own testdata, located by {@link jllm.testkit.Fixtures} (missing ones fail the test). */
public final class Fixtures {
    private Fixtures() {}

    public static Path root() { return jllm.testkit.Fixtures.root(); }

    public static Path testdata() { return jllm.testkit.Fixtures.testdata(); }
}
