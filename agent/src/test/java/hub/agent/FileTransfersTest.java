package hub.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import hub.proto.agent.v1.AgentMessage;
import hub.proto.agent.v1.FileData;
import hub.proto.agent.v1.FileError;
import hub.proto.agent.v1.FileOp;
import hub.proto.agent.v1.FileOpen;
import hub.proto.agent.v1.FileState;
import hub.proto.agent.v1.FileStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node's side of writes, on a real file system: one writer per partial file, paths kept inside the root. */
class FileTransfersTest {
    private final List<AgentMessage> sent = new CopyOnWriteArrayList<>();

    private FileStatus status(String id) {
        return sent.stream().filter(AgentMessage::hasFileStatus).map(AgentMessage::getFileStatus)
                .filter(s -> s.getTransferId().equals(id)).reduce((a, b) -> b).orElseThrow();
    }

    private static FileOpen write(String id, String path, byte[] body) throws Exception {
        return FileOpen.newBuilder().setTransferId(id).setOp(FileOp.FILE_OP_WRITE).setPath(path)
                .setSize(body.length).setSha256(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                        .digest(body))).build();
    }

    @Test
    void aSecondWriteOfTheSameFileWaitsForTheFirstAndPathsStayUnderTheRoot(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("etc"));
        FileTransfers files = new FileTransfers(sent::add, root);
        byte[] body = "the same file\n".getBytes(StandardCharsets.UTF_8);

        files.open(write("t1", "/etc/app.conf", body));
        assertThat(status("t1").getState()).isEqualTo(FileState.FILE_STATE_OPENED);
        files.open(write("t2", "/etc/app.conf", body));
        assertThat(status("t2").getState()).isEqualTo(FileState.FILE_STATE_FAILED);
        assertThat(status("t2").getError()).isEqualTo(FileError.FILE_ERROR_BUSY);

        files.data(FileData.newBuilder().setTransferId("t1").setData(ByteString.copyFrom(body)).setLast(true).build());
        assertThat(status("t1").getState()).as(status("t1").getMessage()).isEqualTo(FileState.FILE_STATE_DONE);
        assertThat(status("t1").getPath()).isEqualTo("/etc/app.conf");
        assertThat(Files.readAllBytes(root.resolve("etc/app.conf"))).isEqualTo(body);
        files.open(write("t3", "/etc/app.conf", body));
        assertThat(status("t3").getState()).as("the first one ended").isEqualTo(FileState.FILE_STATE_OPENED);

        for (String bad : new String[] {"etc/x", "/etc/../../x", "/./etc/x", ""}) {
            files.open(write("bad", bad, body));
            assertThat(status("bad").getError()).as(bad).isEqualTo(FileError.FILE_ERROR_INVALID);
            sent.clear();
        }
        files.close();
    }
}
