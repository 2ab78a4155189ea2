package hub.hubd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * One hubd per data dir: an exclusive lock on {@code <data-dir>/hubd.lock}, held while the hub runs
 * (the kernel drops it when the process dies, so a crash never leaves it stale). A second hubd on
 * the same dir stops at once with one line naming the first's pid.
 */
final class DataDirLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** @throws IllegalStateException when another process holds the lock */
    static DataDirLock take(Path dataDir) {
        Path file = dataDir.resolve("hubd.lock");
        try {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                l = null; // this JVM has it: another hub in the same process
            }
            if (l == null) {
                String holder = new String(Files.readAllBytes(file), StandardCharsets.US_ASCII).strip();
                ch.close();
                throw new IllegalStateException("another hubd is using " + dataDir.toAbsolutePath()
                        + (holder.isEmpty() ? "" : " (pid " + holder + ")") + "; stop it, or give another --data-dir");
            }
            ch.truncate(0);
            ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)));
            ch.force(true);
            return new DataDirLock(ch, l);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The SQLite database and its WAL and shared-memory files are the hub's secrets' home (token
     * hashes, the CA is next to them): owner only, whatever the directory's mode or the umask. An
     * empty file made 0600 before SQLite opens it is taken as a new database, and SQLite makes the
     * WAL and shm files with the database file's permissions.
     */
    static void privateDatabase(Path db) {
        Set<PosixFilePermission> owner = PosixFilePermissions.fromString("rw-------");
        try {
            if (!Files.exists(db)) {
                Files.createFile(db, PosixFilePermissions.asFileAttribute(owner));
            }
            for (Path p : new Path[] {db, Path.of(db + "-wal"), Path.of(db + "-shm")}) {
                if (Files.exists(p) && !Files.getPosixFilePermissions(p).equals(owner)) {
                    Files.setPosixFilePermissions(p, owner);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make " + db + " private: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            // the process ends soon; the kernel drops the lock with it
        }
    }
}
