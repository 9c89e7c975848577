package jllm.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class JitLimitsTest {
    @Test
    void warnsOnlyWhereC2RunsWithTheDefaultCutoff() {
        String w = JitLimits.warning("40000", "4").orElseThrow();
        assertTrue(w.contains("LiveNodeCountInliningCutoff=40000") && w.contains(JitLimits.FLAGS), w);
        assertEquals(Optional.empty(), JitLimits.warning("160000", "4"));
        assertEquals(Optional.empty(), JitLimits.warning("40000", "3"), "C1 only");
        assertEquals(Optional.empty(), JitLimits.warning("?", "4"));
    }

    @Test
    void theTestJvmRunsWithTheLaunchersFlags() {
        // surefire's argLine carries them (pom.xml jllm.jvm.args), so tests compile the kernels as ./jllm does
        assertEquals(Optional.empty(), JitLimits.warning());
    }
}
