/*
 * Paired in-process A/B of a decode kernel between builds: each jar's tensor module is loaded in its
 * own class loader (with DecodeRunner), and passes alternate between them, so both see the same
 * minute of this VM's memory bandwidth; prints best and median Gw/s and the median of the per-pass
 * speed ratios against the first jar. Between two processes the rates here moved by +-25%; paired
 * passes resolve ~2%. One thread (or the optional last argument's); rows x cols well above the L3 (e.g. 65536 x 2048 of Q4_0 is 75 MB)
 * measures the stream from memory, a small matrix with many reps (1024 x 2048, 20) the compute in L2.
 *
 *   . bin/jdk25.sh && mvn -q -o -pl tensor install -DskipTests && cp tensor/target/jllm-tensor-*.jar /tmp/new.jar
 *   (the same for the other build, into /tmp/old.jar)
 *   javac --add-modules jdk.incubator.vector -cp /tmp/old.jar -d /tmp/pab/runner tools/paired-ab/runner/jllm/tensor/DecodeRunner.java
 *   javac -d /tmp/pab tools/paired-ab/JarPair.java
 *   java -Xmx8g --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp /tmp/pab \
 *        JarPair 65536 2048 60 1 Q4_0 /tmp/pab/runner /tmp/old.jar,/tmp/new.jar     (rows cols passes reps type runner jars [threads])
 * Where the builds' kernel APIs differ, compile the runner once against each jar and give the
 * directories in the jars' order: /tmp/pab/runner-old,/tmp/pab/runner-new.
 */
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;

public class JarPair {
    public static void main(String[] a) throws Exception {
        int rows = Integer.parseInt(a[0]), cols = Integer.parseInt(a[1]), passes = Integer.parseInt(a[2]), reps = Integer.parseInt(a[3]);
        int threads = a.length > 7 ? Integer.parseInt(a[7]) : 1;
        String type = a[4];
        String[] runners = a[5].split(","), jars = a[6].split(",");
        int n = jars.length;
        Object[] run = new Object[n];
        Method[] pass = new Method[n], head = new Method[n];
        for (int i = 0; i < n; i++) {
            URLClassLoader l = new URLClassLoader(new URL[] {Path.of(runners[Math.min(i, runners.length - 1)]).toUri().toURL(), Path.of(jars[i]).toUri().toURL()}, ClassLoader.getPlatformClassLoader());
            Class<?> c = l.loadClass("jllm.tensor.DecodeRunner");
            run[i] = c.getConstructor(int.class, int.class, int.class, String.class, int.class).newInstance(rows, cols, reps, type, threads);
            pass[i] = c.getMethod("pass");
            head[i] = c.getMethod("head");
        }
        int warm = 30;
        long[][] t = new long[n][passes];
        for (int p = 0; p < passes + warm; p++)
            for (int i = 0; i < n; i++) {
                int v = (i + p) % n;  // alternate which build goes first
                long dt = (long) pass[v].invoke(run[v]);
                if (p >= warm) t[v][p - warm] = dt;
            }
        double weights = (double) rows * cols * reps;
        for (int v = 0; v < n; v++) {
            long[] s = t[v].clone();
            Arrays.sort(s);
            double[] ratio = new double[passes];
            for (int k = 0; k < passes; k++) ratio[k] = (double) t[0][k] / t[v][k];
            Arrays.sort(ratio);
            System.out.printf("%s %s [%d, %d]: best %.1f median %.1f Gw/s, paired speed against the first %.3f, y[0..3] %s%n",
                    Path.of(jars[v]).getFileName(), type, rows, cols, weights / s[0], weights / s[passes / 2], ratio[passes / 2],
                    Arrays.toString((float[]) head[v].invoke(run[v])));
        }
    }
}
