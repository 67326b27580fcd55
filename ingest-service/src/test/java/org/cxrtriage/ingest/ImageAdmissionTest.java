package org.cxrtriage.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.ImageIO;
import org.cxrtriage.common.Pseudonymiser;
import org.cxrtriage.imaging.ImageLimits;
import org.cxrtriage.schemas.ImageReceived;
import org.junit.jupiter.api.Test;

class ImageAdmissionTest {

    private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");
    private final Pseudonymiser pseudonymiser = new Pseudonymiser("test-key-0123456789");
    private final ImageAdmission admission = new ImageAdmission(pseudonymiser,
            new ImageLimits(5_000_000, 50_000_000, 64), Clock.fixed(NOW, ZoneOffset.UTC));

    private static IngestMetadata meta(String view) {
        return new IngestMetadata("MRN-777", "study-1", "site-a", "dev-9", view, "2020-03-01T10:15:00Z");
    }

    static byte[] image(String format, int w, int h, int type) throws IOException {
        BufferedImage img = new BufferedImage(w, h, type);
        Random rnd = new Random(1);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int v = Math.min(255, (x + y) * 255 / (w + h) + rnd.nextInt(20));
                img.getRaster().setSample(x, y, 0, v);
                if (img.getRaster().getNumBands() == 3) {
                    img.getRaster().setSample(x, y, 1, v);
                    img.getRaster().setSample(x, y, 2, v);
                }
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, format, out);
        return out.toByteArray();
    }

    @Test
    void acceptsAFrontalPngAndPseudonymisesThePatient() throws IOException {
        byte[] png = image("png", 200, 160, BufferedImage.TYPE_BYTE_GRAY);

        ImageReceived event = admission.admit(meta("pa"), "image/png", png);

        assertThat(event.getPatientRef()).isEqualTo(pseudonymiser.patientRef("MRN-777")).doesNotContain("777");
        assertThat(event.toString()).doesNotContain("MRN-777");
        assertThat(event.getViewPosition()).isEqualTo("PA");
        assertThat(event.getContentType()).isEqualTo("image/png");
        assertThat(event.getWidth()).isEqualTo(200);
        assertThat(event.getHeight()).isEqualTo(160);
        assertThat(event.getReceivedAt()).isEqualTo(NOW);
        assertThat(event.getAcquisitionTime()).isEqualTo(Instant.parse("2020-03-01T10:15:00Z"));
        assertThat(event.getSha256()).hasSize(64).isEqualTo(ImageAdmission.sha256(png));
        assertThat(event.getImageId()).isNotBlank();
    }

    @Test
    void acceptsRgbJpeg() throws IOException {
        byte[] jpeg = image("jpeg", 120, 120, BufferedImage.TYPE_3BYTE_BGR);
        assertThat(admission.admit(meta("AP"), "image/jpeg", jpeg).getContentType()).isEqualTo("image/jpeg");
    }

    private void assertRejected(IngestMetadata meta, String type, byte[] bytes, int status, String reason) {
        assertThatThrownBy(() -> admission.admit(meta, type, bytes)).isInstanceOfSatisfying(IngestRejection.class,
                r -> {
                    assertThat(r.reasonCode()).isEqualTo(reason);
                    assertThat(r.httpStatus()).isEqualTo(status);
                    assertThat(r.getMessage()).isNotBlank();
                });
    }

    @Test
    void refusesBadInputWithAReason() throws IOException {
        byte[] png = image("png", 200, 160, BufferedImage.TYPE_BYTE_GRAY);
        assertRejected(meta("PA"), "image/png", new byte[0], 400, "EMPTY");
        assertRejected(meta("PA"), "image/png", "just text".getBytes(), 415, "NOT_AN_IMAGE");
        assertRejected(meta("PA"), "image/png", Arrays.copyOf(png, png.length / 2), 422, "TRUNCATED_OR_CORRUPT");
        byte[] jpeg = image("jpeg", 200, 160, BufferedImage.TYPE_BYTE_GRAY);
        assertRejected(meta("PA"), "image/jpeg", Arrays.copyOf(jpeg, jpeg.length - 40), 422, "TRUNCATED_OR_CORRUPT");
        assertRejected(meta("PA"), "image/png", image("png", 10, 10, BufferedImage.TYPE_BYTE_GRAY), 422, "TOO_SMALL");
        assertRejected(meta("PA"), "image/png", new byte[5_000_001], 413, "TOO_MANY_BYTES");
        assertRejected(meta("PA"), "image/jpeg", png, 415, "WRONG_CONTENT_TYPE");
    }

    @Test
    void refusesLateralViewsAndMissingOrMalformedMetadata() throws IOException {
        byte[] png = image("png", 200, 160, BufferedImage.TYPE_BYTE_GRAY);
        assertRejected(meta("LL"), "image/png", png, 422, "LATERAL_VIEW");
        assertRejected(meta("Lateral"), "image/png", png, 422, "LATERAL_VIEW");
        // The same rule as the DICOM header's (ViewPositions): spellings the old upload list let through.
        assertRejected(meta("CHEST LAT"), "image/png", png, 422, "LATERAL_VIEW");
        assertRejected(meta("X-TABLE LAT"), "image/png", png, 422, "LATERAL_VIEW");
        assertRejected(meta(null), "image/png", png, 400, "MISSING_FIELD");
        assertRejected(new IngestMetadata(" ", "s", "site", null, "PA", null), "image/png", png, 400, "MISSING_FIELD");
        assertRejected(new IngestMetadata("p", "s", "site", null, "PA", "yesterday"), "image/png", png, 400,
                "MALFORMED_FIELD");
    }

    @Test
    void metadataNeverPrintsTheRawPatientId() {
        assertThat(meta("PA").toString()).doesNotContain("MRN-777");
    }
}
