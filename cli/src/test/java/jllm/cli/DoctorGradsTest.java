package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DoctorGradsTest {
    @Test
    void compareGradsPrintsEveryGradientAndTheLossOnTheResultLine() {
        String dir = CliTest.fixtures().resolve("hf/llama4").toString();
        CliTest.Run r = CliTest.run("doctor", "compare", "--grads", "--model", dir, "--reference", dir + "/reference.safetensors");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("model.layers.1.feed_forward.experts.gate_up_proj"), r.out());
        String[] lines = r.out().strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("RESULT max_rel_err=\\S+ greedy=match loss_err=\\S+ grads=\\S+ PASS"), lines[lines.length - 1]);
        CliTest.Run bad = CliTest.run("doctor", "compare", "--grads", "--model", dir, "--against", dir);
        assertEquals(2, bad.code(), bad.out());
        assertTrue(bad.err().contains("--grads needs --reference"), bad.err());
    }
}
