package jllm.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one locator of the shared read-only fixtures for every module's tests: {@code -Djllm.fixtures}
 * (the build sets it), else {@code ../shared/fixtures} beside the repository root ({@code -Djllm.root},
 * or the first directory up from the working directory that has one). Missing fixtures fail the test
 * that needs them with the path that was looked for: a test that skipped silently would pass without
 * having checked anything.
 */
public final class Fixtures {
    private Fixtures() { }

    /** The fixtures directory; fails when there is none. */
    public static Path root() {
        String p = System.getProperty("jllm.fixtures");
        if (p != null) return existing(Path.of(p), "-Djllm.fixtures");
        String repo = System.getProperty("jllm.root");
        Path base = repo != null ? Path.of(repo).toAbsolutePath() : Path.of("").toAbsolutePath();
        for (Path d = base; d != null; d = d.getParent()) {
            Path c = d.resolve("../shared/fixtures").normalize();
            if (Files.isDirectory(c)) return c;
        }
        return existing(base.resolve("../shared/fixtures").normalize(), "../shared/fixtures beside the repository");
    }

    /** {@code root()/relative}, which must exist. */
    public static Path path(String relative) {
        return existing(root().resolve(relative), "fixture " + relative);
    }

    /** The repository's own test data ({@code testdata/}). */
    public static Path testdata() {
        String repo = System.getProperty("jllm.root");
        Path base = repo != null ? Path.of(repo).toAbsolutePath() : Path.of("").toAbsolutePath();
        for (Path d = base; d != null; d = d.getParent())
            if (Files.isDirectory(d.resolve("testdata")) && Files.exists(d.resolve("pom.xml"))) return d.resolve("testdata");
        return existing(base.resolve("testdata"), "the repository's testdata/");
    }

    private static Path existing(Path p, String what) {
        if (!Files.exists(p))
            throw new IllegalStateException(what + " not found at " + p + ": put the shared fixtures there or set -Djllm.fixtures=DIR");
        return p;
    }
}
