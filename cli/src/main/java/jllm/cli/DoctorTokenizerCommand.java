package jllm.cli;

import picocli.CommandLine.Command;

@Command(name = "tokenizer", mixinStandardHelpOptions = true, description = "TODO")
final class DoctorTokenizerCommand implements java.util.concurrent.Callable<Integer> {
    @Override
    public Integer call() { return 0; }
}
