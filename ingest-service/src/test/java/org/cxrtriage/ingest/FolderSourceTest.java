package org.cxrtriage.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FolderSourceTest {

    @TempDir
    Path dir;

    @Test
    void takesMetadataFromTheManifestAboveTheImagesFolder() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Files.write(images.resolve("b.png"), ImageAdmissionTest.image("png", 80, 80, BufferedImage.TYPE_BYTE_GRAY));
        Files.write(images.resolve("a.png"), ImageAdmissionTest.image("png", 80, 80, BufferedImage.TYPE_BYTE_GRAY));
        Files.writeString(images.resolve("notes.txt"), "not an image");
        Files.writeString(dir.resolve("manifest.csv"), """
                file,label,patient_id,view,source,finding,license
                images/a.png,covid,src:1,AP Supine,src,"COVID-19, severe","CC BY, 4.0"
                """);

        Optional<Path> manifest = FolderSource.findManifest(images);
        List<FolderSource.Item> items = FolderSource.list(images, manifest);

        assertThat(manifest).contains(dir.resolve("manifest.csv"));
        assertThat(items).extracting(i -> i.file().getFileName().toString()).containsExactly("a.png", "b.png");
        IngestMetadata a = items.get(0).metadata();
        assertThat(a.patientId()).isEqualTo("src:1");
        assertThat(a.viewPosition()).isEqualTo("AP Supine");
        assertThat(a.siteId()).isEqualTo("src");
        assertThat(items.get(0).manifestRow()).containsEntry("label", "covid").containsEntry("finding", "COVID-19, severe");
        // Without a manifest row: the file is its own patient and study.
        assertThat(items.get(1).metadata().patientId()).isEqualTo("b");
        assertThat(items.get(1).metadata().viewPosition()).isEqualTo("PA");
        // The study id goes out in clear: never the file name, which may carry the patient's number.
        assertThat(a.studyId()).matches("study-[0-9a-f-]{36}");
        assertThat(items.get(1).metadata().studyId()).startsWith("study-").isNotEqualTo(a.studyId());
    }

    @Test
    void aManifestStudyIdIsUsed() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Files.write(images.resolve("mrn-123456.png"), ImageAdmissionTest.image("png", 80, 80,
                BufferedImage.TYPE_BYTE_GRAY));
        Files.writeString(dir.resolve("manifest.csv"), """
                file,patient_id,study_id,view
                images/mrn-123456.png,123456,ACC-9,PA
                """);

        IngestMetadata m = FolderSource.list(images, FolderSource.findManifest(images)).get(0).metadata();

        assertThat(m.studyId()).isEqualTo("ACC-9");
    }
}
