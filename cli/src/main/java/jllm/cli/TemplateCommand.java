package jllm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import jllm.formats.io.InputFile;
import jllm.template.ChatTemplate;
import jllm.template.TemplateException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jllm template render}: renders a Hugging Face chat template exactly as transformers would. */
@Command(name = "template", mixinStandardHelpOptions = true, description = "Work with Hugging Face Jinja chat templates.",
        subcommands = TemplateCommand.Render.class)
public final class TemplateCommand extends CommandGroup {
    /** Exit status when the template itself raises (raise_exception, undefined values, type errors). */
    static final int TEMPLATE_RAISED = 3;



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
            String source = InputFile.text(template, "template");
            Object vars;
            try {
                vars = new ObjectMapper().readValue(InputFile.bytes(context, "--context"), Object.class);
            } catch (com.fasterxml.jackson.core.JacksonException e) {
                throw new IllegalArgumentException("--context " + context + ": " + InputFile.jsonError(e));
            }
            if (!(vars instanceof Map)) throw new IllegalArgumentException("context " + context + " must hold a JSON object");
            Object now = ((Map<String, Object>) vars).get(ChatTemplate.NOW_KEY);
            if (now != null) {
                try {
                    java.time.LocalDateTime.parse(now.toString());
                } catch (java.time.format.DateTimeParseException e) {
                    throw new IllegalArgumentException("context \"now\" must be an ISO-8601 local date-time such as 2026-01-15T12:00:00, got: " + now);
                }
            }
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
    }
}
