package jllm.formats;

/**
 * A file or configuration that jllm cannot read: truncated, hostile, inconsistent or unsupported.
 * The message names the file and the problem so the user can act on it; every reader in the project
 * reports bad input through this type (or a subclass), never through an IndexOutOfBounds or an OOM.
 */
public class FormatException extends RuntimeException {
    public FormatException(String message) { super(message); }
    public FormatException(String message, Throwable cause) { super(message, cause); }
}
