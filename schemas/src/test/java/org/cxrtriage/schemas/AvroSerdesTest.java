package org.cxrtriage.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class AvroSerdesTest {

    @Test
    void serializerRegistersSelfContainedSchemasAsTheRegistrarDoes() {
        Map<String, Object> config = new AvroSerdes("http://registry:8081/apis/registry/v3").config();
        assertThat(config).containsEntry("apicurio.registry.dereference-schema", "true")
                .containsEntry("apicurio.registry.auto-register", "true")
                .containsEntry("apicurio.registry.find-latest", "false")
                .containsEntry("apicurio.registry.use-id", "contentId")
                .containsEntry("schema.registry.url", "http://registry:8081/apis/ccompat/v7");

        // The registered text parses on its own: nested records and enums are inline, not references.
        String text = AvroSerdes.registeredForm(CxrAlert.getClassSchema());
        assertThat(new Schema.Parser().parse(text)).isEqualTo(CxrAlert.getClassSchema());
        assertThat(text).contains("\"name\":\"Neighbour\"", "\"name\":\"LabelSource\"", "\"name\":\"AlertEvent\"");
    }

    @Test
    void extraSettingsOverrideTheDefaults() {
        Map<String, Object> config = new AvroSerdes("http://r/apis/registry/v3", AvroSerdes.DEFAULT_SERIALIZER,
                AvroSerdes.DEFAULT_DESERIALIZER, Map.of("apicurio.registry.auth.username", "svc")).config();
        assertThat(config).containsEntry("apicurio.registry.auth.username", "svc")
                .containsEntry("apicurio.registry.dereference-schema", "true");
    }
}
