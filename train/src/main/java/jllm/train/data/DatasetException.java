package jllm.train.data;

import jllm.formats.FormatException;

/** A dataset the user gave cannot be used; the message names the file, the line and the problem. */
public final class DatasetException extends FormatException {
    public DatasetException(String message) { super(message); }
    public DatasetException(String message, Throwable cause) { super(message, cause); }
}
