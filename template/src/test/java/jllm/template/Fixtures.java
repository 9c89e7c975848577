package jllm.template;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the shared read-only fixtures: -Djllm.fixtures, else ../shared/fixtures beside the repository root. */
final class Fixtures {
    private Fixtures() {
    }

    static Path root() {
        String p = System.getProperty("jllm.fixtures");
        if (p != null && Files.isDirectory(Path.of(p))) return Path.of(p);
        String repo = System.getProperty("jllm.root");
        Path base = repo != null ? Path.of(repo) : Path.of("").toAbsolutePath();
        for (Path d = base; d != null; d = d.getParent()) {
            Path c = d.resolve("../shared/fixtures").normalize();
            if (Files.isDirectory(c)) return c;
        }
        return base.resolve("../shared/fixtures").normalize();
    }

    static Path chatTemplates() {
        return root().resolve("chat-templates");
    }
}
