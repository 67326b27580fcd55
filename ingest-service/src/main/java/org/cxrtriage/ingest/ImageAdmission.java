package org.cxrtriage.ingest;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.UUID;
import org.cxrtriage.common.Pseudonymiser;
import org.cxrtriage.imaging.DicomDeidentifier;
import org.cxrtriage.imaging.EmbeddedMetadata;
import org.cxrtriage.imaging.ImageFormat;
import org.cxrtriage.imaging.ImageInfo;
import org.cxrtriage.imaging.ImageLimits;
import org.cxrtriage.imaging.ImageProbe;
import org.cxrtriage.imaging.ViewPositions;
import org.cxrtriage.imaging.InvalidImageException;
import org.cxrtriage.schemas.ImageReceived;

/**
 * Decides whether an upload is a usable frontal chest X-ray and turns it into an {@link ImageReceived} event with the
 * patient pseudonymised. Everything here is plain Java so it is tested without Kafka or HTTP.
 */
public final class ImageAdmission {

    private final Pseudonymiser pseudonymiser;
    private final ImageLimits limits;
    private final Clock clock;

    public ImageAdmission(Pseudonymiser pseudonymiser, ImageLimits limits, Clock clock) {
        this.pseudonymiser = pseudonymiser;
        this.limits = limits;
        this.clock = clock;
    }

    public ImageLimits limits() {
        return limits;
    }

    /**
     * @param declaredContentType what the client said (may be null or generic, e.g. application/octet-stream)
     * @throws IngestRejection with a 4xx status and reason when the input cannot be accepted
     */
    public ImageReceived admit(IngestMetadata meta, String declaredContentType, byte[] bytes) {
        String patientId = require("patientId", meta.patientId());
        String studyId = require("studyId", meta.studyId());
        String siteId = require("siteId", meta.siteId());
        String view = normaliseView(meta.viewPosition());
        Instant acquired = parseTime(meta.acquisitionTime());
        if (bytes == null || bytes.length == 0) {
            throw new IngestRejection(400, "EMPTY", "the image is empty (0 bytes)");
        }
        if (bytes.length > limits.maxBytes()) {
            throw new IngestRejection(413, "TOO_MANY_BYTES",
                    "the image has " + bytes.length + " bytes; at most " + limits.maxBytes() + " are accepted");
        }
        ImageInfo info;
        try {
            // Header, limits and trailer only: truncated files are refused here while the sender can still be told;
            // a file damaged inside its pixel data is rejected by preprocessing with a reason. A full decode here
            // would double the CPU cost of every image.
            info = ImageProbe.probe(bytes, limits);
        } catch (InvalidImageException e) {
            throw new IngestRejection(statusFor(e.code().name()), e.code().name(), e.getMessage());
        }
        String contentType = info.format().mimeType();
        checkDeclaredType(declaredContentType, contentType);
        // A DICOM header names the patient, dates, institution, physicians...: only a minimal re-encoding with the
        // pixel data and what preprocessing reads goes any further. PNG, JPEG and TIFF exports carry the same in text
        // chunks, comments, Exif and tags: those go too (EmbeddedMetadata). The sha256 (and so duplicate detection)
        // is of the bytes published, so byte-identical re-sends still match, and two exports of the same image that
        // differ only in patient/study metadata count as the same image.
        byte[] published;
        try {
            published = info.format() == ImageFormat.DICOM ? DicomDeidentifier.strip(bytes)
                    : EmbeddedMetadata.strip(info.format(), bytes);
        } catch (InvalidImageException e) {
            throw new IngestRejection(statusFor(e.code().name()), e.code().name(), e.getMessage());
        }
        return ImageReceived.newBuilder()
                .setImageId(UUID.randomUUID().toString())
                .setStudyId(studyId)
                .setPatientRef(pseudonymiser.patientRef(patientId))
                .setSiteId(siteId)
                .setDeviceId(blankToNull(meta.deviceId()))
                .setViewPosition(view)
                .setAcquisitionTime(acquired)
                .setReceivedAt(clock.instant())
                .setContentType(contentType)
                .setSha256(sha256(published))
                .setWidth(info.width())
                .setHeight(info.height())
                .setImageBytes(java.nio.ByteBuffer.wrap(published))
                .build();
    }

    static String normaliseView(String raw) {
        if (raw == null || raw.isBlank()) {
            throw new IngestRejection(400, "MISSING_FIELD", "viewPosition is required (PA, AP, AP SUPINE, ...)");
        }
        String v = raw.trim().toUpperCase(Locale.ROOT).replace('_', ' ');
        if (ViewPositions.isLateral(v)) {
            throw new IngestRejection(422, "LATERAL_VIEW",
                    "lateral views are not scored: the model is trained on frontal (PA/AP) chest X-rays");
        }
        return v;
    }

    private static void checkDeclaredType(String declared, String detected) {
        if (declared == null || declared.isBlank()) {
            return;
        }
        String d = declared.toLowerCase(Locale.ROOT).split(";")[0].trim();
        if (d.equals("application/octet-stream") || d.equals(detected)
                || (d.equals("image/jpg") && detected.equals("image/jpeg"))) {
            return;
        }
        throw new IngestRejection(415, "WRONG_CONTENT_TYPE",
                "declared content type " + d + " but the bytes are " + detected);
    }

    private static int statusFor(String reason) {
        return switch (reason) {
            case "EMPTY" -> 400;
            case "TOO_MANY_BYTES", "TOO_MANY_PIXELS" -> 413;
            case "NOT_AN_IMAGE", "UNSUPPORTED_FORMAT" -> 415;
            default -> 422;
        };
    }

    private static String require(String field, String value) {
        if (value == null || value.isBlank()) {
            throw new IngestRejection(400, "MISSING_FIELD", field + " is required");
        }
        if (value.length() > 256) {
            throw new IngestRejection(400, "MALFORMED_FIELD", field + " is longer than 256 characters");
        }
        return value.trim();
    }

    private static Instant parseTime(String raw) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        try {
            return raw.trim().endsWith("Z") ? Instant.parse(raw.trim()) : OffsetDateTime.parse(raw.trim()).toInstant();
        } catch (DateTimeParseException e) {
            throw new IngestRejection(400, "MALFORMED_FIELD",
                    "acquisitionTime must be ISO-8601 with a zone, e.g. 2020-03-01T10:15:00Z");
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
