package jllm.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class JitLimitsTest {
    private static final String[] ENOUGH = {"160000", "1000000000", "1000000000"};

    @Test
    void warnsOnlyWhereC2RunsWithLowerLimits() {
        String w = JitLimits.warning(new String[] {"40000", "1000000000", "1000000000"}, "4").orElseThrow();
        assertTrue(w.contains("LiveNodeCountInliningCutoff=40000") && w.contains(JitLimits.FLAGS), w);
        w = JitLimits.warning(new String[] {"160000", "100", "400"}, "4").orElseThrow();
        assertTrue(w.contains("PerMethodTrapLimit=100 ") && w.contains("PerMethodRecompilationCutoff=400;"), w);
        assertEquals(Optional.empty(), JitLimits.warning(ENOUGH, "4"));
        assertEquals(Optional.empty(), JitLimits.warning(new String[] {"160000", "1000000000", "-1"}, "4"), "-1: no cutoff");
        assertEquals(Optional.empty(), JitLimits.warning(new String[] {"40000", "100", "400"}, "3"), "C1 only");
        assertEquals(Optional.empty(), JitLimits.warning(new String[] {"?", "?", "?"}, "4"));
    }

    @Test
    void theTestJvmRunsWithTheLaunchersFlags() {
        // surefire's argLine carries them (pom.xml jllm.jvm.args), so tests compile the kernels as ./jllm does
        assertEquals(Optional.empty(), JitLimits.warning());
    }

    @Test
    void theLauncherPassesTheFlags() throws Exception {
        // the module's tests run in tensor/; the launcher is the repository's ./jllm
        Path launcher = Path.of("..", "jllm");
        String text = Files.readString(launcher);
        for (String flag : JitLimits.FLAGS.split(" ")) assertTrue(text.contains(flag), "./jllm lacks " + flag);
    }
}
