// A JVM workload for JavaTests, run natively and in the sandbox with the same output: 200
// threads, NIO file channels and a memory-mapped view, ProcessBuilder, allocation that makes the
// collector work, and a thread pool. Prints only deterministic results.
import java.io.*;
import java.nio.*;
import java.nio.channels.*;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;

public class Work {
    public static void main(String[] args) throws Exception {
        Path dir = Paths.get(args[0]);
        // 200 threads each summing its share.
        AtomicLong total = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            final int k = i;
            Thread t = new Thread(() -> { long s = 0; for (int j = 0; j < 10000; j++) s += (long) j * k; total.addAndGet(s); });
            threads.add(t); t.start();
        }
        for (Thread t : threads) t.join();
        System.out.println("threads total " + total.get());
        // NIO file channel write and read.
        Path f = dir.resolve("nio.bin");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.allocate(1 << 20);
            for (int i = 0; i < b.capacity(); i++) b.put((byte) (i * 31));
            b.flip();
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
            // Memory-mapped view: write through it, read back through the channel.
            MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_WRITE, 0, 1 << 20);
            m.put(0, (byte) 42); m.put((1 << 20) - 1, (byte) 43); m.force();
            ByteBuffer r = ByteBuffer.allocate(1 << 20);
            ch.read(r, 0);
            long sum = 0; for (int i = 0; i < r.capacity(); i++) sum += r.get(i) & 0xff;
            System.out.println("nio size " + ch.size() + " sum " + sum);
        }
        // ProcessBuilder.
        Process p = new ProcessBuilder("/bin/echo", "from", "child").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        System.out.println("process exit " + p.waitFor() + " out " + out.trim());
        // GC under load.
        List<byte[]> keep = new ArrayList<>();
        long made = 0;
        for (int i = 0; i < 20000; i++) { byte[] a = new byte[16384]; a[0] = (byte) i; made += a.length; if (i % 10 == 0) keep.add(a); if (keep.size() > 500) keep.subList(0, 250).clear(); }
        System.out.println("gc made " + made + " kept " + keep.size());
        ExecutorService ex = Executors.newFixedThreadPool(8);
        List<Future<Integer>> fs = new ArrayList<>();
        for (int i = 0; i < 100; i++) { final int k = i; fs.add(ex.submit(() -> k * k)); }
        int s = 0; for (Future<Integer> x : fs) s += x.get();
        ex.shutdown();
        System.out.println("pool sum " + s);
    }
}
