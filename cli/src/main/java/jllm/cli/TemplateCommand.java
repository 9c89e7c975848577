package jllm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import jllm.template.ChatTemplate;
import jllm.template.TemplateException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jllm template render}: renders a Hugging Face chat template exactly as transformers would. */
@Command(name = "template", mixinStandardHelpOptions = true, description = "Work with Hugging Face Jinja chat templates.",
        subcommands = TemplateCommand.Render.class)
public final class TemplateCommand implements Runnable {
    /** Exit status when the template itself raises (raise_exception, undefined values, type errors). */
    static final int TEMPLATE_RAISED = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "render", mixinStandardHelpOptions = true,
            description = "Render TEMPLATE with the variables of a JSON context (messages, add_generation_prompt, bos_token, "
                    + "eos_token, tools, now) and print the result as is, with no newline added.")
    static final class Render implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", paramLabel = "TEMPLATE", description = "the .jinja chat template")
        Path template;

        @Option(names = "--context", required = true, paramLabel = "CONTEXT.json",
                description = "JSON object of template variables; \"now\" (ISO date-time) fixes strftime_now")
        Path context;

        @Override
        @SuppressWarnings("unchecked")
        public Integer call() throws IOException {
            String source = read(template, "template");
            Object vars;
            try {
                vars = new ObjectMapper().readValue(read(context, "context"), Object.class);
            } catch (com.fasterxml.jackson.core.JacksonException e) {
                throw new IllegalArgumentException("context " + context + " is not valid JSON: " + e.getOriginalMessage());
            }
            if (!(vars instanceof Map)) throw new IllegalArgumentException("context " + context + " must hold a JSON object");
            String out;
            try {
                out = ChatTemplate.compile(source).render((Map<String, Object>) vars);
            } catch (TemplateException e) {
                spec.commandLine().getErr().println("error: " + e.getMessage());
                spec.commandLine().getErr().flush();
                return TEMPLATE_RAISED;
            }
            // Raw UTF-8 bytes: the prompt must reach the caller unchanged, whatever the platform encoding.
            PrintStream ps = System.out;
            ps.write(out.getBytes(StandardCharsets.UTF_8));
            ps.flush();
            return 0;
        }

        private static String read(Path p, String what) throws IOException {
            try {
                return Files.readString(p, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException(what + " file not found: " + p);
            } catch (java.nio.charset.MalformedInputException e) {
                throw new IllegalArgumentException(what + " file is not valid UTF-8: " + p);
            }
        }
    }
}
