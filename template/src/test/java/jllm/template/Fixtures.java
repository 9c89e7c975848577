package jllm.template;

import java.nio.file.Path;

/** The shared read-only fixtures, located by {@link jllm.testkit.Fixtures}. */
final class Fixtures {
    private Fixtures() {
    }

    static Path root() { return jllm.testkit.Fixtures.root(); }

    static Path chatTemplates() {
        return root().resolve("chat-templates");
    }
}
