package org.cxrtriage.launcher;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.cxrtriage.imaging.GrayImage;
import org.cxrtriage.imaging.HeuristicLungSegmenter;
import org.cxrtriage.imaging.ImageDecoder;
import org.cxrtriage.imaging.LungSegmenter;
import org.cxrtriage.imaging.PreprocessConfig;
import org.cxrtriage.imaging.PreprocessedImage;
import org.cxrtriage.imaging.Preprocessor;
import org.cxrtriage.model.LungChannel;
import org.cxrtriage.preprocess.PreprocessService;
import org.cxrtriage.model.TorchRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Per-image preprocessing cost on full-resolution X-rays, split into decode / normalise / lung channel, at the
 * served size and at the paper's 1024, with the ratio against the issue's targets (decode + normalise ≤ 80 ms for a
 * ~3000² input; lung channel at 256 ≤ 60 ms). "decode" is {@code ImageDecoder.decode} (the float image) and
 * "normalise" {@code Preprocessor.process(GrayImage)}; "process(bytes)" is both together as the stream runs them,
 * which normalises straight from the decoded samples and so never makes the float image. Median of several runs per image, one thread: the lung U-Net runs
 * with PyTorch intra-op threads = 1 (one core), the heuristic is timed beside it for reference.
 */
@Command(name = "bench-preprocess", mixinStandardHelpOptions = true,
        description = "Preprocessing cost per image on full-resolution X-rays.")
final class PreprocessBenchCommand implements Callable<Integer> {

    @Option(names = "--images", defaultValue = "${env:CXR_FULLRES:-../shared/data/cxr/fullres}",
            description = "Folder of full-resolution X-rays (default: ${DEFAULT-VALUE}).")
    Path images;

    @Option(names = "--runs", defaultValue = "5", description = "Runs per image; the median is reported.")
    int runs;

    @Option(names = "--out", defaultValue = "bench-preprocess.md", description = "Where the table is written.")
    Path out;

    @Option(names = "--lungs", defaultValue = LungChannel.DEFAULT_KIND, description = "unet | heuristic (default: ${DEFAULT-VALUE}).")
    String lungKind;

    @Option(names = "--lung-model-dir",
            defaultValue = "${env:" + PreprocessService.LUNG_MODEL_DIR + ":-" + LungChannel.DEFAULT_MODEL_DIR + "}",
            description = "Lung U-Net directory (default: ${DEFAULT-VALUE}).")
    String lungModelDir;

    /** The issue's limit for the lung channel of one 256² plane on one core. */
    static final double LUNG_LIMIT_MS = 60.0;

    @Override
    public Integer call() throws Exception {
        PrintStream o = System.out;
        List<Path> files;
        try (Stream<Path> s = Files.list(images)) {
            files = s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        TorchRuntime.configureThreads(1, 1); // one core: the limit is per image on one core
        LungSegmenter lungs = LungChannel.open(lungKind, lungModelDir);
        LungSegmenter heuristic = new HeuristicLungSegmenter();
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                "| image | pixels | decode ms (PNG) | decode ms (same pixels as 12-bit DICOM) | normalise ms @256 "
                        + "| decode+normalise @256 / 80 ms (PNG; DICOM) | lung ms @256 | lung @256 / 60 ms "
                        + "| heuristic ms @256 | normalise ms @1024 | lung ms @1024 | decode+normalise @1024 / 80 ms (PNG; DICOM) "
                        + "| process(bytes) ms @256 (PNG; DICOM) | process(bytes) @256 / 80 ms (PNG; DICOM) "
                        + "| process(bytes) ms @1024 (PNG; DICOM) | process(bytes) @1024 / 80 ms (PNG; DICOM) |%n"
                        + "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |%n"));
        List<Double> lung256 = new ArrayList<>();
        for (Path f : files) {
            byte[] bytes = Files.readAllBytes(f);
            double decode = median(() -> ImageDecoder.decode(bytes));
            GrayImage gray = ImageDecoder.decode(bytes);
            // What a modality sends: the same pixels as uncompressed 12-bit DICOM.
            byte[] dicom = toDicom(gray);
            double decodeDicom = median(() -> ImageDecoder.decode(dicom));
            double[] at256 = stage(gray, 256, lungs);
            double[] at1024 = stage(gray, 1024, lungs);
            double heuristicMs = stage(gray, 256, heuristic)[1];
            // What the stream runs: Preprocessor.process(bytes), decode and normalisation together.
            double[] stream256 = stream(bytes, dicom, 256);
            double[] stream1024 = stream(bytes, dicom, 1024);
            lung256.add(at256[1]);
            String name = f.getFileName().toString();
            table.append(String.format(Locale.ROOT,
                    "| %s | %dx%d | %.0f | %.0f | %.0f | %.2f; %.2f | %.1f | %.2f | %.1f | %.0f | %.1f | %.2f; %.2f "
                            + "| %.0f; %.0f | %.2f; %.2f | %.0f; %.0f | %.2f; %.2f |%n",
                    name.length() > 30 ? name.substring(0, 27) + "..." : name, gray.width(), gray.height(), decode,
                    decodeDicom, at256[0], (decode + at256[0]) / 80.0, (decodeDicom + at256[0]) / 80.0, at256[1],
                    at256[1] / LUNG_LIMIT_MS, heuristicMs, at1024[0], at1024[1], (decode + at1024[0]) / 80.0,
                    (decodeDicom + at1024[0]) / 80.0, stream256[0], stream256[1], stream256[0] / 80.0,
                    stream256[1] / 80.0, stream1024[0], stream1024[1], stream1024[0] / 80.0, stream1024[1] / 80.0));
            o.printf(Locale.ROOT, "%s: decode %.0f ms%n", name, decode);
        }
        lung256.sort(Double::compare);
        double lungMedian = lung256.isEmpty() ? Double.NaN : lung256.get(lung256.size() / 2);
        table.append(String.format(Locale.ROOT, "%nMedian of %d runs per image, one thread (PyTorch intra-op threads 1),"
                        + " %d cores, lung channel: %s.%n%nLung channel at 256×256 on one core: median over images %.1f ms,"
                        + " max %.1f ms; limit %.0f ms; ratio %.2f (≤ 1 meets it).%n", runs,
                Runtime.getRuntime().availableProcessors(), lungs.version(), lungMedian,
                lung256.isEmpty() ? Double.NaN : lung256.get(lung256.size() - 1), LUNG_LIMIT_MS,
                lungMedian / LUNG_LIMIT_MS));
        o.println();
        o.print(table);
        Files.writeString(out, table.toString());
        o.println("written to " + out.toAbsolutePath());
        if (lungs instanceof AutoCloseable c) {
            c.close();
        }
        return 0;
    }

    /** Uncompressed Explicit VR Little Endian DICOM, 12 bits stored in 16, MONOCHROME2 (a typical DR export). */
    static byte[] toDicom(GrayImage gray) {
        int w = gray.width();
        int h = gray.height();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1024 + 2 * w * h).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.position(128);
        b.put("DICM".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        byte[] syntax = "1.2.840.10008.1.2.1\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII); // padded to even length
        shortElement(b, 0x0002, 0x0000, "UL", 4).putInt(8 + syntax.length);
        shortElement(b, 0x0002, 0x0010, "UI", syntax.length).put(syntax);
        shortElement(b, 0x0028, 0x0002, "US", 2).putShort((short) 1);
        byte[] mono = "MONOCHROME2 ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        shortElement(b, 0x0028, 0x0004, "CS", mono.length).put(mono);
        shortElement(b, 0x0028, 0x0010, "US", 2).putShort((short) h);
        shortElement(b, 0x0028, 0x0011, "US", 2).putShort((short) w);
        shortElement(b, 0x0028, 0x0100, "US", 2).putShort((short) 16);
        shortElement(b, 0x0028, 0x0101, "US", 2).putShort((short) 12);
        shortElement(b, 0x0028, 0x0102, "US", 2).putShort((short) 11);
        shortElement(b, 0x0028, 0x0103, "US", 2).putShort((short) 0);
        b.putShort((short) 0x7FE0).putShort((short) 0x0010).put("OW".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .putShort((short) 0).putInt(2 * w * h);
        float[] px = gray.pixels();
        for (float v : px) {
            b.putShort((short) Math.round(Math.max(0f, Math.min(1f, v)) * 4095f));
        }
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    private static java.nio.ByteBuffer shortElement(java.nio.ByteBuffer b, int group, int element, String vr, int length) {
        return b.putShort((short) group).putShort((short) element)
                .put(vr.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putShort((short) length);
    }

    private double[] stage(GrayImage gray, int size, LungSegmenter lungs) {
        Preprocessor pre = new Preprocessor(PreprocessConfig.ofSize(size));
        PreprocessedImage p = pre.process(gray);
        return new double[] {median(() -> pre.process(gray)), median(() -> lungs.segment(p.cxr(), p.size()))};
    }

    /** Median ms of {@code process(bytes)} for the PNG and for the same pixels as DICOM. */
    private double[] stream(byte[] png, byte[] dicom, int size) {
        Preprocessor pre = new Preprocessor(PreprocessConfig.ofSize(size));
        return new double[] {median(() -> pre.process(png)), median(() -> pre.process(dicom))};
    }

    private double median(Runnable task) {
        task.run(); // warm-up
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            long t = System.nanoTime();
            task.run();
            ms.add((System.nanoTime() - t) / 1e6);
        }
        ms.sort(Double::compare);
        return ms.get(ms.size() / 2);
    }
}
