package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jllm.train.run.Checkpoints;
import jllm.train.run.MetricsLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real {@code kill -9} of a fine-tuning JVM after it wrote a checkpoint: {@code --resume} then
 * reaches exactly the losses of a run that was never interrupted.
 */
class KillResumeTest {
    @TempDir Path dir;

    @Test
    void killedRunResumesToTheSameLosses() throws Exception {
        Path model = TinyModel.make(dir), data = TinyModel.titanic(dir, 120);
        List<String> common = List.of("--max-steps", "40", "--save-every", "2", "--eval-every", "10", "--lora-dropout", "0.1", "--lr", "1e-3");
        List<String> killedArgs = new ArrayList<>(FinetuneCommandTest.finetuneArgs(model, data, dir.resolve("killed")));
        killedArgs.addAll(common);

        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments())
            if (!a.startsWith("-agentlib") && !a.startsWith("-javaagent") && !a.startsWith("-Xmx")) cmd.add(a);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("jllm.cli.Main");
        cmd.addAll(killedArgs);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
        Path latest = dir.resolve("killed").resolve(Checkpoints.DIR).resolve(Checkpoints.LATEST);
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline && p.isAlive()) {
            if (Files.isRegularFile(latest) && Files.readString(latest).strip().compareTo("step-000004") >= 0) break;
            Thread.sleep(10);
        }
        assertTrue(p.isAlive(), "the child finished before it could be killed:\n" + Files.readString(dir.resolve("child.log")));
        p.destroyForcibly(); // SIGKILL: no shutdown hooks, no chance to save
        p.waitFor();
        String at = Files.readString(latest).strip();
        assertTrue(at.compareTo("step-000040") < 0, "killed mid-run, at " + at);

        List<String> resume = List.of("finetune", "--out", dir.resolve("killed").toString(), "--resume", "--threads", "2");
        CliTest.Run r = CliTest.run(resume.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("resuming from"), r.err());

        List<String> whole = new ArrayList<>(FinetuneCommandTest.finetuneArgs(model, data, dir.resolve("whole")));
        whole.addAll(common);
        CliTest.Run w = CliTest.run(whole.toArray(String[]::new));
        assertEquals(0, w.code(), w.err());
        assertEquals(losses(dir.resolve("whole")), losses(dir.resolve("killed")));
        assertTrue(java.util.Arrays.equals(Files.readAllBytes(dir.resolve("whole/adapter_model.safetensors")),
                Files.readAllBytes(dir.resolve("killed/adapter_model.safetensors"))), "the same adapter, bit for bit");
    }

    static List<Double> losses(Path out) {
        return MetricsLog.read(out.resolve(MetricsLog.FILE)).stream().filter(n -> n.has("loss")).map(n -> n.get("loss").asDouble()).toList();
    }
}
