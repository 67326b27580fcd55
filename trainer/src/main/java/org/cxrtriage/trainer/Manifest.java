package org.cxrtriage.trainer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The dataset manifest: a CSV with a header containing at least {@code file,label,patient_id,view,source};
 * {@code label} is {@code covid} or {@code negative}; {@code file} is relative to the manifest's directory.
 */
public record Manifest(Path directory, List<Entry> entries) {
    public static final String POSITIVE_LABEL = "covid";
    public static final String NEGATIVE_LABEL = "negative";

    /** One image. {@code positive} is label == covid. */
    public record Entry(String file, boolean positive, String patientId, String view, String source) {
        public String label() {
            return positive ? POSITIVE_LABEL : NEGATIVE_LABEL;
        }
    }

    public Manifest {
        entries = List.copyOf(entries);
    }

    public Path resolve(Entry entry) {
        return directory.resolve(entry.file());
    }

    public static Manifest read(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        if (lines.isEmpty()) {
            throw new IOException("empty manifest " + csv);
        }
        List<String> header = parseLine(lines.get(0));
        Map<String, Integer> col = new HashMap<>();
        for (int i = 0; i < header.size(); i++) {
            col.put(header.get(i).trim().toLowerCase(Locale.ROOT), i);
        }
        for (String required : List.of("file", "label", "patient_id", "source")) {
            if (!col.containsKey(required)) {
                throw new IOException(csv + ": missing column '" + required + "' in header " + header);
            }
        }
        List<Entry> entries = new ArrayList<>();
        for (int n = 1; n < lines.size(); n++) {
            String line = lines.get(n);
            if (line.isBlank()) {
                continue;
            }
            List<String> f = parseLine(line);
            String label = get(f, col, "label").toLowerCase(Locale.ROOT);
            if (!label.equals(POSITIVE_LABEL) && !label.equals(NEGATIVE_LABEL)) {
                throw new IOException(csv + ":" + (n + 1) + ": label must be covid or negative, got '" + label + "'");
            }
            entries.add(new Entry(get(f, col, "file"), label.equals(POSITIVE_LABEL), get(f, col, "patient_id"),
                    get(f, col, "view"), get(f, col, "source")));
        }
        Path dir = csv.toAbsolutePath().getParent();
        return new Manifest(dir, entries);
    }

    private static String get(List<String> fields, Map<String, Integer> col, String name) {
        Integer i = col.get(name);
        return i == null || i >= fields.size() ? "" : fields.get(i).trim();
    }

    /** RFC-4180-ish: commas, double quotes, doubled quotes inside quotes. */
    static List<String> parseLine(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        cur.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    cur.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }
}
