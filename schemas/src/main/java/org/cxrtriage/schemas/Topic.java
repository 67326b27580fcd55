package org.cxrtriage.schemas;

import java.util.List;
import org.apache.avro.specific.SpecificRecord;

/**
 * Every topic of the pipeline, declared once: its name, its value type and how it is keyed.
 * Names carry a version suffix so that an incompatible contract change gets a new topic.
 */
public record Topic<V extends SpecificRecord>(String name, Class<V> valueType, String keyedBy) {

    public static final Topic<ImageReceived> IMAGES = new Topic<>("cxr.images.v1", ImageReceived.class, "imageId");
    public static final Topic<ImageTensor> TENSORS = new Topic<>("cxr.tensors.v1", ImageTensor.class, "imageId");
    public static final Topic<CxrScore> SCORES = new Topic<>("cxr.scores.v1", CxrScore.class, "imageId");
    public static final Topic<CxrNeighbours> NEIGHBOURS = new Topic<>("cxr.neighbours.v1", CxrNeighbours.class, "imageId");
    public static final Topic<CxrAlert> ALERTS = new Topic<>("cxr.alerts.v1", CxrAlert.class, "patientRef");
    /** Acknowledgements of alerts, written by the dashboards and read back by every dashboard instance. */
    public static final Topic<CxrAlertAck> ALERT_ACKS = new Topic<>("cxr.alert-acks.v1", CxrAlertAck.class, "alertId");
    public static final Topic<CxrRejected> REJECTED = new Topic<>("cxr.rejected.v1", CxrRejected.class, "imageId");
    public static final Topic<CxrLabel> LABELS = new Topic<>("cxr.labels.v1", CxrLabel.class, "patientRef or imageId");

    /**
     * Images their site withdrew. Keyed and partitioned as {@link #SCORES}, so an image's score and its retraction
     * reach the same similarity consumer, which handles them in order.
     */
    public static final Topic<CxrRetraction> RETRACTIONS =
            new Topic<>("cxr.retractions.v1", CxrRetraction.class, "imageId");

    public static List<Topic<?>> all() {
        return List.of(IMAGES, TENSORS, SCORES, NEIGHBOURS, ALERTS, ALERT_ACKS, REJECTED, LABELS, RETRACTIONS);
    }

    /** Registry subject of the value schema (Confluent TopicNameStrategy). */
    public String valueSubject() {
        return name + "-value";
    }

    public org.apache.avro.Schema valueSchema() {
        try {
            return (org.apache.avro.Schema) valueType.getField("SCHEMA$").get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("not a generated Avro class: " + valueType, e);
        }
    }
}
