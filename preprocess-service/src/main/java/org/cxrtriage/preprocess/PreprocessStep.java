package org.cxrtriage.preprocess;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.cxrtriage.schemas.ImageReceived;

/**
 * One image to its outcome (tensor or rejection), and a commit at once when the stream is keeping up.
 *
 * <p>Downstream reads committed records only, so every tensor waits for the stream's exactly-once commit. When the
 * image reached this stream within {@code caughtUpMs} of its upload, there was no queue: nothing is gained by
 * gathering more images into the transaction, so the step asks for the commit now and the tensor is scored at once.
 * When images queue (saturation), they are committed every {@code commit.interval.ms} together, which costs the
 * broker, this service and the inference service (larger batches) less per image.
 */
final class PreprocessStep implements Processor<String, ImageReceived, String, PreprocessOutcome> {

    private final TensorFactory factory;
    private final long caughtUpMs;
    private ProcessorContext<String, PreprocessOutcome> context;

    PreprocessStep(TensorFactory factory, long caughtUpMs) {
        this.factory = factory;
        this.caughtUpMs = caughtUpMs;
    }

    @Override
    public void init(ProcessorContext<String, PreprocessOutcome> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, ImageReceived> image) {
        // The record's timestamp is when ingest sent it; clocks of the two hosts are assumed NTP-close.
        long waitedMs = context.currentSystemTimeMs() - image.timestamp();
        context.forward(image.withValue(factory.process(image.key(), image.value())));
        if (waitedMs <= caughtUpMs) {
            context.commit();
        }
    }
}
