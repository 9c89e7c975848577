package jllm.formats.io;

import java.nio.file.Path;
import java.util.List;

/**
 * A separate JVM for {@link OutputFileSignalTest}: writes {@code args[0]} through OutputFile slowly (1 MiB
 * every 20 ms, 400 MiB at most) and says "writing" once the temporary file holds data.
 */
public final class SlowWriter {
    public static void main(String[] args) {
        OutputFile.write(Path.of(args[0]), true, List.of(), (OutputFile.StreamBody) out -> {
            byte[] mib = new byte[1 << 20];
            for (int i = 0; i < 400; i++) {
                out.write(mib);
                out.flush();
                if (i == 2) {
                    System.out.println("writing");
                    System.out.flush();
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }
}
