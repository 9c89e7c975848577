package jllm.cli;

/** The {@code --threads} flag: all cores by default, a clear error for values no machine can use. */
final class Threads {
    private Threads() { }

    /** Well above any machine jllm runs on; more threads than this only exhaust memory and the OS. */
    static final int MAX = 1024;

    static int resolve(Integer threads) {
        int cores = Runtime.getRuntime().availableProcessors();
        if (threads == null) return cores;
        if (threads < 1 || threads > MAX)
            throw new IllegalArgumentException("--threads must be between 1 and " + MAX + " (this machine has " + cores + " cores), got " + threads);
        return threads;
    }
}
