package org.cxrtriage.ingest;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The images of a folder with their metadata. Metadata comes from a manifest CSV when there is one (columns
 * {@code file,patient_id,view,source,...}, as in the shared data set; {@code file} relative to the manifest's
 * folder); otherwise each file is its own patient and study, view PA, site "local".
 *
 * <p>The study id travels in clear on the topics, so it is never the file name: names of exported X-rays carry
 * patient numbers (the shared data's {@code nih__00001280_004}) or are the patient id itself. It is the manifest's
 * {@code study_id} when it has one, else a random id; results are matched back to files by image id, locally.
 */
public final class FolderSource {

    private static final List<String> IMAGE_SUFFIXES = List.of(".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dcm");

    /** One image to send, with the row of the manifest it came from (empty without a manifest). */
    public record Item(Path file, IngestMetadata metadata, Map<String, String> manifestRow) {
    }

    private FolderSource() {
    }

    /** The manifest beside or above the folder, if any: DIR/manifest.csv, then DIR/../manifest.csv. */
    public static Optional<Path> findManifest(Path folder) {
        for (Path candidate : new Path[] {folder.resolve("manifest.csv"), folder.toAbsolutePath().getParent() == null
                ? null : folder.toAbsolutePath().getParent().resolve("manifest.csv")}) {
            if (candidate != null && Files.isRegularFile(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    public static List<Item> list(Path folder, Optional<Path> manifest) {
        if (!Files.isDirectory(folder)) {
            throw new IllegalArgumentException("not a folder: " + folder);
        }
        Map<Path, Map<String, String>> rows = manifest.map(FolderSource::readManifest).orElse(Map.of());
        List<Item> items = new ArrayList<>();
        try (Stream<Path> files = Files.list(folder)) {
            files.filter(Files::isRegularFile).filter(FolderSource::looksLikeImage)
                    .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .forEach(f -> {
                        Map<String, String> row = rows.get(f.toAbsolutePath().normalize());
                        items.add(new Item(f, metadataFor(f, row), row == null ? Map.of() : row));
                    });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + folder, e);
        }
        return items;
    }

    private static IngestMetadata metadataFor(Path file, Map<String, String> row) {
        String stem = file.getFileName().toString().replaceFirst("\\.[^.]+$", "");
        String randomStudy = "study-" + java.util.UUID.randomUUID();
        if (row == null) {
            return new IngestMetadata(stem, randomStudy, "local", null, "PA", null);
        }
        String view = row.getOrDefault("view", "");
        String study = row.getOrDefault("study_id", "");
        return new IngestMetadata(row.getOrDefault("patient_id", stem), study.isBlank() ? randomStudy : study,
                row.getOrDefault("source", "local"), null, view.isBlank() ? "UNKNOWN" : view, null);
    }

    static Map<Path, Map<String, String>> readManifest(Path manifest) {
        Path base = manifest.toAbsolutePath().getParent();
        Map<Path, Map<String, String>> rows = new HashMap<>();
        CsvMapper mapper = new CsvMapper();
        CsvSchema schema = CsvSchema.emptySchema().withHeader();
        try (MappingIterator<Map<String, String>> it = mapper.readerForMapOf(String.class).with(schema)
                .readValues(manifest.toFile())) {
            while (it.hasNext()) {
                Map<String, String> row = it.next();
                String file = row.get("file");
                if (file != null && !file.isBlank()) {
                    rows.put(base.resolve(file).toAbsolutePath().normalize(), row);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read manifest " + manifest, e);
        }
        return rows;
    }

    private static boolean looksLikeImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return IMAGE_SUFFIXES.stream().anyMatch(n::endsWith);
    }
}
