package hub.hubd.redis;

import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.redisson.client.codec.StringCodec;
import org.redisson.client.protocol.Encoder;

/**
 * {@link StringCodec} whose values are encoded by the JDK in one array: Redisson's own encoder
 * writes a string char by char into a 256-byte buffer that it grows as it goes, and history blocks
 * of tens of KB went through several copies each (a tenth of the hub's CPU under steady output into
 * Redis). Decoding is StringCodec's.
 */
final class Utf8Codec extends StringCodec {
    static final Utf8Codec INSTANCE = new Utf8Codec();

    private static final Encoder ENCODER = in -> Unpooled.wrappedBuffer(in.toString().getBytes(StandardCharsets.UTF_8));

    private Utf8Codec() {
        super(StandardCharsets.UTF_8);
    }

    @Override
    public Encoder getValueEncoder() {
        return ENCODER;
    }
}
