package jllm.model.arch;

import jllm.model.Architecture;

/** The baseline (Llama 1/2/3/3.1/3.2): everything {@link Architecture} does by default. */
public final class Llama extends Architecture {
    public Llama() { super("llama"); }
}
