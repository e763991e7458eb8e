// Sends one `participant_joined` session event to the audit trail, as a service in Java would.
// Run: java -cp 'jars/*' SendParticipantJoined.java BOOTSTRAP TOPIC SCHEMA_FILE SESSION_ID
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Properties;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class SendParticipantJoined {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], topic = args[1], sessionId = args[3];
    // The schema file exactly as published in schemas/avro/session_event/ (newest version).
    Schema schema = new Schema.Parser().parse(new File(args[2]));
    Schema.Field payloadField = schema.getField("payload");
    Schema joined = payloadField.schema().getTypes().stream()
        .filter(t -> t.getName().equals("ParticipantJoined")).findFirst().orElseThrow();
    Schema role = schema.getField("actor").schema().getField("role").schema();

    GenericRecord actor = new GenericRecordBuilder(schema.getField("actor").schema())
        .set("id", "specialist-java-1")
        .set("role", new GenericData.EnumSymbol(role, "specialist"))
        .build();
    GenericRecord source = new GenericRecordBuilder(schema.getField("source").schema())
        .set("service", "java-session-service").set("version", "1.0.0").build();
    GenericRecord payload = new GenericRecordBuilder(joined)
        .set("participant_id", "specialist-java-1")
        .set("participant_role", new GenericData.EnumSymbol(role, "specialist"))
        .build();
    Instant now = Instant.now();
    String eventId = UUID.randomUUID().toString();
    GenericRecord event = new GenericRecordBuilder(schema)
        .set("event_id", eventId)  // the idempotency key: keep it when you retry
        .set("event_type", "participant_joined")
        .set("occurred_at", now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000)
        .set("session_id", sessionId)
        .set("actor", actor)
        .set("source", source)
        .set("device", null)
        .set("network", null)
        .set("payload", payload)
        .build();

    // Avro single-object encoding: C3 01, the schema's CRC-64-AVRO fingerprint, the datum.
    BinaryMessageEncoder<GenericRecord> encoder =
        new BinaryMessageEncoder<>(GenericData.get(), schema);
    ByteBuffer encoded = encoder.encode(event);
    byte[] value = new byte[encoded.remaining()];
    encoded.get(value);

    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
      // Key = session_id: every event of a session in one partition, in order.
      byte[] key = sessionId.getBytes(StandardCharsets.UTF_8);
      producer.send(new ProducerRecord<>(topic, key, value)).get();
    }
    System.out.println(eventId);
  }
}
