package jllm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "doctor", mixinStandardHelpOptions = true,
        subcommands = {DoctorCompareCommand.class, DoctorLintCommand.class, DoctorTokensCommand.class, DoctorTokenizerCommand.class,
                DoctorNumericsCommand.class},
        description = "Diagnose models: compare layer by layer, lint a release for known bugs, find untrained tokens, "
                + "cross-check tokenizers, explain number formats.")
final class DoctorCommand extends CommandGroup {

}
