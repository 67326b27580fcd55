package org.cxrtriage.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.cxrtriage.common.Pseudonymiser;
import org.cxrtriage.imaging.BadInputCorpus;
import org.cxrtriage.imaging.BadInputCorpus.Entry;
import org.cxrtriage.imaging.ImageDecoder;
import org.cxrtriage.imaging.SyntheticDicom;
import org.cxrtriage.schemas.ImageReceived;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every bad-input corpus entry through {@link ImageAdmission}: its 4xx reason, or an event that is safe to publish. */
class CorpusAdmissionTest {

    static final List<String> DICOM_IDENTIFIERS = List.of(SyntheticDicom.PATIENT_NAME, SyntheticDicom.PATIENT_ID,
            SyntheticDicom.BIRTH_DATE, SyntheticDicom.STUDY_DATE, SyntheticDicom.INSTITUTION, SyntheticDicom.PHYSICIAN,
            SyntheticDicom.ACCESSION, SyntheticDicom.STUDY_UID, SyntheticDicom.PRIVATE_NOTE);

    private final Pseudonymiser pseudonymiser = new Pseudonymiser("corpus-key-0123456789");
    private final ImageAdmission admission = new ImageAdmission(pseudonymiser, BadInputCorpus.LIMITS,
            Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC));

    static List<Entry> entries() {
        return BadInputCorpus.entries();
    }

    static IngestMetadata metadata(BadInputCorpus.Meta m) {
        return new IngestMetadata(m.patientId(), m.studyId(), m.siteId(), m.deviceId(), m.viewPosition(),
                m.acquisitionTime());
    }

    static byte[] bytesOf(ImageReceived event) {
        ByteBuffer b = event.getImageBytes().duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entries")
    void admission(Entry e) {
        IngestMetadata meta = metadata(e.meta());
        if (!e.accepted()) {
            assertThatThrownBy(() -> admission.admit(meta, e.contentType(), e.bytes())).as(e.why())
                    .isInstanceOfSatisfying(IngestRejection.class, r -> {
                        assertThat(r.reasonCode()).isEqualTo(e.admission());
                        assertThat(r.httpStatus()).isEqualTo(e.httpStatus());
                        assertThat(r.getMessage()).isNotBlank().doesNotContain(e.meta().patientId() == null ? "\0"
                                : e.meta().patientId());
                    });
            return;
        }
        ImageReceived event = admission.admit(meta, e.contentType(), e.bytes());
        byte[] published = bytesOf(event);
        assertThat(event.getSha256()).isEqualTo(ImageAdmission.sha256(published));
        assertThat(event.getPatientRef()).isEqualTo(pseudonymiser.patientRef(e.meta().patientId()));
        if (e.isDicom()) {
            String text = new String(published, StandardCharsets.ISO_8859_1);
            assertThat(DICOM_IDENTIFIERS).allSatisfy(s -> assertThat(text).doesNotContain(s));
            assertThat(published.length).isLessThan(e.bytes().length);
            if (e.decode() == null) {
                // Arrays.equals: AssertJ's element diff of two large arrays takes minutes.
                assertThat(java.util.Arrays.equals(ImageDecoder.decode(published, BadInputCorpus.LIMITS).pixels(),
                        ImageDecoder.decode(e.bytes(), BadInputCorpus.LIMITS).pixels())).as("same pixels").isTrue();
            }
        } else {
            // Embedded metadata (text chunks, comments, Exif, tags) does not go on; the pixels do, exactly.
            assertThat(published.length).isLessThanOrEqualTo(e.bytes().length);
            if (e.decode() == null) {
                // Arrays.equals: AssertJ's element diff of two large arrays takes minutes.
                assertThat(java.util.Arrays.equals(ImageDecoder.decode(published, BadInputCorpus.LIMITS).pixels(),
                        ImageDecoder.decode(e.bytes(), BadInputCorpus.LIMITS).pixels())).as("same pixels").isTrue();
            }
        }
    }
}
