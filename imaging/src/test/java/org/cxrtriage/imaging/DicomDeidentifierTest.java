package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DicomDeidentifierTest {

    private static final List<String> IDENTIFYING = List.of(SyntheticDicom.PATIENT_NAME, "DOE", SyntheticDicom.PATIENT_ID,
            SyntheticDicom.BIRTH_DATE, SyntheticDicom.STUDY_DATE, SyntheticDicom.INSTITUTION, "Elsewhere",
            SyntheticDicom.PHYSICIAN, SyntheticDicom.ACCESSION, SyntheticDicom.STUDY_UID, "555-0199", "STUDY-0042",
            "ACME");

    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    @Test
    void theSyntheticFileReallyCarriesPatientData() {
        String raw = latin1(new SyntheticDicom().write());
        assertThat(IDENTIFYING).allSatisfy(s -> assertThat(raw).contains(s));
    }

    @Test
    void keepsNoPatientStudyInstitutionOrPrivateValues() {
        for (String syntax : List.of(DicomImage.EXPLICIT_LE, DicomImage.IMPLICIT_LE)) {
            SyntheticDicom d = new SyntheticDicom();
            d.syntax = syntax;
            String stripped = latin1(DicomDeidentifier.strip(d.write()));
            assertThat(IDENTIFYING).as(syntax).allSatisfy(s -> assertThat(stripped).doesNotContain(s));
        }
    }

    @Test
    void decodesToIdenticalPixelsForEveryKindOfInput() {
        List<SyntheticDicom> variants = new ArrayList<>();
        variants.add(new SyntheticDicom());
        SyntheticDicom implicit = new SyntheticDicom();
        implicit.syntax = DicomImage.IMPLICIT_LE;
        implicit.photometric = "MONOCHROME1";
        implicit.slope = "2";
        implicit.intercept = "-1024";
        implicit.windowCenter = "2000";
        implicit.windowWidth = "3000";
        variants.add(implicit);
        SyntheticDicom eight = new SyntheticDicom();
        eight.bitsAllocated = 8;
        eight.bitsStored = 8;
        eight.cols = 101; // odd pixel count: padded to even length on both sides
        variants.add(eight);
        for (SyntheticDicom d : variants) {
            byte[] original = d.write();
            byte[] stripped = DicomDeidentifier.strip(original);
            GrayImage a = ImageDecoder.decode(original);
            GrayImage b = ImageDecoder.decode(stripped);
            assertThat(b.width()).isEqualTo(a.width());
            assertThat(b.height()).isEqualTo(a.height());
            assertThat(b.pixels()).containsExactly(a.pixels());
            assertThat(stripped.length).isLessThan(original.length);
            // Stripping twice changes nothing more: the output is already minimal.
            assertThat(DicomDeidentifier.strip(stripped)).containsExactly(stripped);
        }
    }

    @Test
    void aValueTooLongForExplicitVrIsKeptAsUn() {
        SyntheticDicom d = new SyntheticDicom();
        d.syntax = DicomImage.IMPLICIT_LE;
        d.windowCenter = "2000" + " ".repeat(70_000);
        d.windowWidth = "3000";
        byte[] original = d.write();
        byte[] stripped = DicomDeidentifier.strip(original);
        assertThat(ImageDecoder.decode(stripped).pixels()).containsExactly(ImageDecoder.decode(original).pixels());
        assertThat(DicomImage.readHeader(stripped).windowCenter()).isEqualTo(2000);
    }

    @Test
    void keepsWhatTheLateralRuleAndTheDisplayNeed() {
        SyntheticDicom lateral = new SyntheticDicom();
        lateral.view = "LATERAL";
        lateral.windowCenter = "1000";
        lateral.windowWidth = "2000";
        byte[] stripped = DicomDeidentifier.strip(lateral.write());
        DicomImage.Header h = DicomImage.readHeader(stripped);
        assertThat(h.viewPosition()).isEqualTo("LATERAL");
        assertThat(h.windowCenter()).isEqualTo(1000);
        assertThat(h.windowWidth()).isEqualTo(2000);
        assertThat(h.transferSyntax()).isEqualTo(DicomImage.EXPLICIT_LE);
        assertThatThrownBy(() -> ImageProbe.probe(stripped, ImageLimits.defaults()))
                .isInstanceOfSatisfying(InvalidImageException.class,
                        e -> assertThat(e.code()).isEqualTo(RejectReason.LATERAL_VIEW));
        assertThat(latin1(stripped)).contains("DX").contains("0.143");
    }

    @Test
    void refusesWhatIsNotUncompressedDicom() {
        assertThatThrownBy(() -> DicomDeidentifier.strip(BadInputCorpus.goodChestPng()))
                .isInstanceOfSatisfying(InvalidImageException.class,
                        e -> assertThat(e.code()).isEqualTo(RejectReason.NOT_AN_IMAGE));
        SyntheticDicom jpeg = new SyntheticDicom();
        jpeg.syntax = "1.2.840.10008.1.2.4.50";
        assertThatThrownBy(() -> DicomDeidentifier.strip(jpeg.write()))
                .isInstanceOfSatisfying(InvalidImageException.class,
                        e -> assertThat(e.code()).isEqualTo(RejectReason.UNSUPPORTED_FORMAT));
    }
}
