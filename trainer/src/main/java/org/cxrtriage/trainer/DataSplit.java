package org.cxrtriage.trainer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * A seeded patient-level split into train / val / test. Patients (never images) are assigned, stratified
 * by (source, patient label) so every split sees every source/label mix in proportion; a patient's label
 * is positive if any of their images is. No patient is in two splits by construction.
 */
public final class DataSplit {
    public enum Part { TRAIN, VAL, TEST;
        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        public static Part of(String id) {
            return valueOf(id.trim().toUpperCase(java.util.Locale.ROOT));
        }
    }

    public static final String FILE_NAME = "split.csv";

    private final Map<String, Part> byFile;

    private DataSplit(Map<String, Part> byFile) {
        this.byFile = byFile;
    }

    public Part partOf(Manifest.Entry entry) {
        Part p = byFile.get(entry.file());
        if (p == null) {
            throw new IllegalArgumentException("file not in split: " + entry.file());
        }
        return p;
    }

    public boolean contains(Manifest.Entry entry) {
        return byFile.containsKey(entry.file());
    }

    public List<Manifest.Entry> select(Manifest manifest, Part part) {
        List<Manifest.Entry> out = new ArrayList<>();
        for (Manifest.Entry e : manifest.entries()) {
            if (byFile.get(e.file()) == part) {
                out.add(e);
            }
        }
        return out;
    }

    /**
     * @param valFraction fraction of patients for validation, e.g. 0.15
     * @param testFraction fraction of patients for test, e.g. 0.15
     */
    public static DataSplit create(Manifest manifest, double valFraction, double testFraction, long seed) {
        if (valFraction < 0 || testFraction < 0 || valFraction + testFraction >= 1) {
            throw new IllegalArgumentException("bad split fractions " + valFraction + "/" + testFraction);
        }
        Map<String, List<Manifest.Entry>> patients = new LinkedHashMap<>();
        for (Manifest.Entry e : manifest.entries()) {
            patients.computeIfAbsent(e.patientId(), k -> new ArrayList<>()).add(e);
        }
        // stratum -> patients (sorted for determinism independent of manifest order)
        Map<String, List<String>> strata = new TreeMap<>();
        for (Map.Entry<String, List<Manifest.Entry>> p : patients.entrySet()) {
            boolean positive = p.getValue().stream().anyMatch(Manifest.Entry::positive);
            String stratum = p.getValue().get(0).source() + "|" + positive;
            strata.computeIfAbsent(stratum, k -> new ArrayList<>()).add(p.getKey());
        }
        Random random = new Random(seed);
        Map<String, Part> byPatient = new HashMap<>();
        for (List<String> ids : strata.values()) {
            Collections.sort(ids);
            Collections.shuffle(ids, random);
            int n = ids.size();
            int nTest = (int) Math.round(n * testFraction);
            int nVal = (int) Math.round(n * valFraction);
            for (int i = 0; i < n; i++) {
                Part part = i < nTest ? Part.TEST : i < nTest + nVal ? Part.VAL : Part.TRAIN;
                byPatient.put(ids.get(i), part);
            }
        }
        Map<String, Part> byFile = new LinkedHashMap<>();
        for (Manifest.Entry e : manifest.entries()) {
            byFile.put(e.file(), byPatient.get(e.patientId()));
        }
        return new DataSplit(byFile);
    }

    /**
     * Leave-one-source-out: every image of {@code heldOutSource} is test; the other sources are split into train
     * and validation by {@link #create} (same strata, no test fraction). Measures a collection the model never
     * saw, which a random split cannot (its test shares every source with training).
     */
    public static DataSplit holdingOutSource(Manifest manifest, String heldOutSource, double valFraction, long seed) {
        List<Manifest.Entry> rest = new ArrayList<>();
        for (Manifest.Entry e : manifest.entries()) {
            if (!e.source().equals(heldOutSource)) {
                rest.add(e);
            }
        }
        if (rest.size() == manifest.entries().size()) {
            throw new IllegalArgumentException("no image of source '" + heldOutSource + "' in the manifest");
        }
        if (rest.isEmpty()) {
            throw new IllegalArgumentException("source '" + heldOutSource + "' is the only source: nothing to train on");
        }
        DataSplit trainVal = create(new Manifest(manifest.directory(), rest), valFraction, 0, seed);
        Map<String, Part> byFile = new LinkedHashMap<>();
        for (Manifest.Entry e : manifest.entries()) {
            byFile.put(e.file(), e.source().equals(heldOutSource) ? Part.TEST : trainVal.partOf(e));
        }
        return new DataSplit(byFile);
    }

    public void write(Path file) throws IOException {
        StringBuilder sb = new StringBuilder("file,split\n");
        byFile.forEach((f, p) -> sb.append(f).append(',').append(p.id()).append('\n'));
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, sb, StandardCharsets.UTF_8);
    }

    public static DataSplit read(Path file) throws IOException {
        Map<String, Part> byFile = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            List<String> f = Manifest.parseLine(lines.get(i));
            byFile.put(f.get(0), Part.of(f.get(1)));
        }
        return new DataSplit(byFile);
    }

    /** counts per part: images, positives, patients. */
    public String summary(Manifest manifest) {
        StringBuilder sb = new StringBuilder();
        for (Part part : Part.values()) {
            List<Manifest.Entry> es = select(manifest, part);
            long pos = es.stream().filter(Manifest.Entry::positive).count();
            long patients = es.stream().map(Manifest.Entry::patientId).distinct().count();
            sb.append(String.format("%s: %d images (%d covid, %d negative), %d patients; ", part.id(), es.size(), pos,
                    es.size() - pos, patients));
        }
        return sb.toString().trim();
    }
}
