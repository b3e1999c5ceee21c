/*
 * shared_log.c
 *		Synchronizing between backends (chapter 13): one log file, many backends.
 *
 * The C twin of src/shared_log.rs.
 *
 * xfunc_log(message) appends one line to the file named by the setting xfunc_c.log_file:
 *
 *		<UTC timestamp> <pid> <sequence number> <message, escaped>\n
 *
 * What lives in shared memory, and which lock guards it:
 *
 * - SharedLog, "xfunc_c shared log" in the shared memory index, and the only lock of the
 *   LWLock tranche "xfunc_c_log", the write lock. The struct caches what the next writer needs
 *   to know about the file: which file it is (device and inode), how long it was after the last
 *   line we wrote, and the sequence number of the next line. The file is the truth; the struct
 *   is a cache of it. The write lock guards the cache and every write(), fdatasync() and
 *   ftruncate() of the file.
 * - LogBuffer, "xfunc_c shared log buffer", for the design group_commit, with the only lock of
 *   the tranche "xfunc_c_log_buffer", the insert lock. It holds two halves of HALF bytes:
 *   backends copy their lines into the current half (under the insert lock) while a flusher
 *   writes the other one (under the write lock). After it, in the same allocation, one Slot
 *   per backend (MaxBackends), where a flusher leaves the outcome of each line it took.
 *
 * Locking: a writer holds the write lock LW_EXCLUSIVE from before it looks at the file until
 * its lines are written (and synced, with xfunc_c.log_sync): checking the cache, numbering the
 * lines and writing them are one locked section (no START_CRIT_SECTION: an ERROR stays an
 * ERROR), so lines never interleave, the file is in sequence-number order, and a line's number
 * is the number of lines before it plus one. open_per_line and kept_open write one line per
 * locked section; in group_commit the holder of the write lock writes every line waiting in
 * the buffer. xfunc_log_tail and xfunc_log_lines hold the write lock LW_SHARED while they read,
 * so they never see half a line nor a file a writer is cutting short. The insert lock is held
 * LW_EXCLUSIVE only to copy one line into the current half, or, by a flusher holding the write
 * lock, to swap the halves: the order is write lock, then insert lock, never the other way (an
 * inserter that finds the half full releases the insert lock before it waits for the write
 * lock). The fields of LogBuffer say which lock guards each. A slot's outcome is written by
 * the flusher holding the write lock, and read by the slot's backend without a lock: the
 * ticket of the outcome is stored last (after a write barrier) and read first (then a read
 * barrier).
 *
 * Errors: an ERROR raised while the lock is held (a failed fstat, write, sync or read)
 * releases it through the transaction abort (AbortTransaction calls LWLockReleaseAll) and
 * closes the file (OpenTransientFile registers it). A write or a sync that fails is cut off
 * again with ftruncate before the ERROR, and the sequence number is not advanced: the file
 * holds only whole lines, and a line that was not written leaves no gap. A group_commit
 * flusher catches any ERROR after it took a batch out of the buffer (PG_TRY), writes it into
 * the slot of every line of the batch, and each of those calls raises it: the flusher's
 * included, and no other. From copying its line in to reading its outcome, a group_commit
 * backend holds interrupts off: a query cancel, statement_timeout or pg_terminate_backend takes
 * effect once its line is in the file (or has failed), never with the line still waiting in
 * the buffer. If a flusher left with a batch and no outcomes (an ERROR in the catch handler
 * itself), the next holder of the write lock finds the batch still marked as taken and fails
 * its lines.
 *
 * Crash and restart: shared memory is created anew, the cache is empty (next_seq = 0), and the
 * first writer reads the last line of the file to continue its numbering. Because the number
 * always continues from the file, a gap in the sequence proves a lost line, even across a
 * crash. A last line without its newline (a write cut short by a power failure) is removed
 * when the numbering is recovered, with a LOG message, if the line before it is ours; a file
 * whose last complete line is not ours is never changed. Lines that were in the buffer are
 * lost with it; none of their calls had returned.
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_perm.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "port/atomics.h"
#include "postmaster/syslogger.h"
#include "storage/backendid.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "xfunc_c.h"

/* ANCHOR: shared_struct */
/* The struct in shared memory. Every field but lock is guarded by lock. */
typedef struct SharedLog
{
	LWLock	   *lock;			/* the one lock of tranche "xfunc_c_log" */
	uint64		next_seq;		/* number of the next line; 0: unknown, read the file */
	dev_t		dev;			/* the file next_seq belongs to ... */
	ino_t		ino;
	off_t		size;			/* ... and its size after our last line */
} SharedLog;

static void shared_log_init_struct(void *ptr, LWLock *lock);

/* The struct, and its lock: the tranche "xfunc_c_log". */
static ShmemStruct shared_log = {
	.name = "xfunc_c shared log",
	.tranche = "xfunc_c_log",
	.size = sizeof(SharedLog),
	.init = shared_log_init_struct,
};

/* The setting xfunc_c.log_file. */
static char *log_file = NULL;
/* ANCHOR_END: shared_struct */

/* ANCHOR: group_buffer */
/* Bytes in each half of the group_commit buffer. */
#define HALF (64 * 1024)

/* One half: aligned for the entry headers in it. */
typedef union Half
{
	char		data[HALF];
	uint64		force_align;
} Half;

/*
 * What a backend copies in before its line's message: then the escaped message and its
 * newline, padded to 8 bytes.
 */
typedef struct EntryHeader
{
	uint64		ticket;
	uint32		len;			/* bytes of the message and its newline */
	int32		pid;			/* the pid of the line's prefix: the backend that logged it */
	uint32		slot;			/* where its outcome goes: MyBackendId - 1 */
	uint32		sync;			/* 1: the line must be synced before its call returns */
} EntryHeader;

/* Bytes an entry takes in a half. */
#define ENTRY_SIZE(message_len) (sizeof(EntryHeader) + TYPEALIGN(8, (message_len)))

/* Room for the message of any ERROR our functions raise, a path of MAXPGPATH included. */
#define SLOT_MESSAGE 1264

/* One backend's mailbox: the outcome of its last line that a flusher wrote, or failed to. */
typedef struct Slot
{
	/*
	 * The ticket of the line the outcome is for. Written last (after a write barrier) by the
	 * flusher holding the write lock, read first (then a read barrier) by the slot's backend,
	 * without a lock.
	 */
	pg_atomic_uint64 done;
	int			sqlerrcode;		/* 0: written (and synced, if asked); else the ERROR's */
	uint32		len;			/* bytes of message in use */
	char		message[SLOT_MESSAGE];	/* the ERROR's message */
} Slot;

/*
 * The design group_commit's buffer, in shared memory: two halves, one of which takes lines
 * while a flusher writes the other, and after the struct one Slot per backend.
 */
typedef struct LogBuffer
{
	LWLock	   *insert_lock;	/* the one lock of tranche "xfunc_c_log_buffer" */

	/* Guarded by the insert lock: where the next line goes. */
	int			current;		/* the half lines are copied into, 0 or 1 */
	uint64		next_ticket;	/* 1, 2, 3, ...: tells lines apart; the sequence number is
								 * given when a line is written */

	/*
	 * Bytes of the current half in use: written under the insert lock, read under it or, by a
	 * flusher that only wants to know whether any line waits, without it.
	 */
	pg_atomic_uint64 used;

	/*
	 * Guarded by the write lock (SharedLog.lock): the half a flusher took out of the buffer.
	 * in_flight: its lines have no outcome yet (a flusher is writing it, or left without
	 * finishing: then the next holder of the write lock fails its lines).
	 */
	bool		in_flight;
	int			taken_half;
	Size		taken_len;

	/*
	 * Guarded by the write lock: the lines of the last batch written, and how long its write
	 * and sync took (0: it was not synced, or failed): what the next flusher gathers by.
	 */
	uint64		last_lines;
	int64		last_usecs;

	/* halves[current] is guarded by the insert lock, the other half by the write lock. */
	Half		halves[2];
	Slot		slots[FLEXIBLE_ARRAY_MEMBER];	/* MaxBackends of them */
} LogBuffer;

static Size log_buffer_slots_size(void);
static void log_buffer_init_struct(void *ptr, LWLock *lock);

/* The buffer, its slots and its lock: the tranche "xfunc_c_log_buffer". */
static ShmemStruct log_buffer = {
	.name = "xfunc_c shared log buffer",
	.tranche = "xfunc_c_log_buffer",
	.size = offsetof(LogBuffer, slots),
	.tail_size = log_buffer_slots_size,
	.init = log_buffer_init_struct,
};
/* ANCHOR_END: group_buffer */

/* ANCHOR: design_setting */
/*
 * The setting xfunc_c.log_design: how xfunc_log gets at the file. Every design numbers and
 * writes its lines under the one write lock, from the shared cache it keeps true to the file,
 * so backends using different designs may log to one file at once.
 */
typedef enum LogDesign
{
	LOG_DESIGN_OPEN_PER_LINE,	/* the book's first design: open, lock, append, unlock, close */
	LOG_DESIGN_KEPT_OPEN,		/* each backend keeps its file open (append_kept_open) */
	LOG_DESIGN_GROUP_COMMIT		/* lines meet in a shared buffer (append_group_commit) */
} LogDesign;

static const struct config_enum_entry log_design_options[] = {
	{"open_per_line", LOG_DESIGN_OPEN_PER_LINE, false},
	{"kept_open", LOG_DESIGN_KEPT_OPEN, false},
	{"group_commit", LOG_DESIGN_GROUP_COMMIT, false},
	{NULL, 0, false}
};

static int	log_design = LOG_DESIGN_KEPT_OPEN;

/*
 * The setting xfunc_c.log_sync: on, a call returns only once its line is on disk (fdatasync),
 * in every design.
 */
static bool log_sync = false;
/* ANCHOR_END: design_setting */

/* Longest line prefix: timestamp, pid, sequence number and three spaces. */
#define PREFIX_MAX 64
/* xfunc_log_tail returns at most this many lines. */
#define TAIL_MAX 1000

static bool check_log_file(char **newval, void **extra, GucSource source);

/* ANCHOR: init */
void
shared_log_init(void)
{
	DefineCustomStringVariable("xfunc_c.log_file",
							   "File that xfunc_log() appends to.",
							   "A relative path is taken from the data directory. The file must "
							   "be inside the data directory or log_directory.",
							   &log_file,
							   "xfunc_c.log",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   check_log_file, NULL, NULL);
	DefineCustomEnumVariable("xfunc_c.log_design",
							 "How xfunc_log() writes: open_per_line, kept_open or group_commit.",
							 "open_per_line opens and closes the file for every line; kept_open "
							 "keeps it open in each backend; group_commit writes the lines of "
							 "many backends at once.",
							 &log_design,
							 LOG_DESIGN_KEPT_OPEN,
							 log_design_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	/* ANCHOR: sync_setting */
	DefineCustomBoolVariable("xfunc_c.log_sync",
							 "Whether xfunc_log() waits until its line is on disk (fdatasync).",
							 "on: a call returns once its line is written and synced; off: once "
							 "it is written (a crash of the operating system may lose it). Obeys "
							 "fsync = off, as the server's own files do.",
							 &log_sync,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	/* ANCHOR_END: sync_setting */
	MarkGUCPrefixReserved("xfunc_c");
	shmem_struct_request(&shared_log);
	shmem_struct_request(&log_buffer);
}
/* ANCHOR_END: init */

static void
shared_log_init_struct(void *ptr, LWLock *lock)
{
	SharedLog  *log = ptr;

	log->lock = lock;
	log->next_seq = 0;
	log->dev = 0;
	log->ino = 0;
	log->size = 0;
}

/* One slot per backend: MaxBackends is known when the request hook runs. */
static Size
log_buffer_slots_size(void)
{
	return mul_size(MaxBackends, sizeof(Slot));
}

/* The halves (128 kB) are left as they are: only ever read where a line was copied in. */
static void
log_buffer_init_struct(void *ptr, LWLock *lock)
{
	LogBuffer  *buf = ptr;

	buf->insert_lock = lock;
	buf->current = 0;
	buf->next_ticket = 1;
	pg_atomic_init_u64(&buf->used, 0);
	buf->in_flight = false;
	buf->taken_half = 0;
	buf->taken_len = 0;
	buf->last_lines = 0;
	buf->last_usecs = 0;
	for (int i = 0; i < MaxBackends; i++)
	{
		pg_atomic_init_u64(&buf->slots[i].done, 0);
		buf->slots[i].sqlerrcode = 0;
		buf->slots[i].len = 0;
	}
}

/* ANCHOR: path_check */
/*
 * Why path may not be a log file, or NULL if it may. The rules of pg_read_file and
 * pg_file_write (convert_and_check_filename in genfile.c): no ".." component; an absolute
 * path must lie in the data directory or in an absolute log_directory; a relative path is
 * taken from the data directory (every backend's working directory). The check is on the
 * text of the path, canonicalized ("a//b/./c" is "a/b/c"): a symbolic link inside the data
 * directory is the administrator's.
 */
static const char *
log_file_path_problem(const char *path)
{
	char		canonical[MAXPGPATH];

	/* Any ".." component, before canonicalize_path could fold "a/../b" into "b". */
	for (const char *p = path;;)
	{
		const char *slash = strchr(p, '/');
		size_t		len = slash ? (size_t) (slash - p) : strlen(p);

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return "The path must not contain \"..\".";
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	if (strlcpy(canonical, path, sizeof(canonical)) >= sizeof(canonical))
		return "The path is too long.";
	canonicalize_path(canonical);

	if (is_absolute_path(canonical))
	{
		if (DataDir != NULL && path_is_prefix_of_path(DataDir, canonical))
			return NULL;
		if (Log_directory != NULL && is_absolute_path(Log_directory) &&
			path_is_prefix_of_path(Log_directory, canonical))
			return NULL;
		return "An absolute path must lie inside the data directory or log_directory.";
	}
	if (!path_is_relative_and_below_cwd(canonical))
		return "A relative path must lie inside the data directory.";
	return NULL;
}

/* The GUC check hook: runs for postgresql.conf, ALTER SYSTEM and reloads, in every process. */
static bool
check_log_file(char **newval, void **extra, GucSource source)
{
	const char *problem;

	if (*newval == NULL || (*newval)[0] == '\0')
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errdetail("The log file name must not be empty.");
		return false;
	}
	problem = log_file_path_problem(*newval);
	if (problem != NULL)
	{
		GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
		GUC_check_errdetail("%s", problem);
		return false;
	}
	return true;
}
/* ANCHOR_END: path_check */

/* The setting, checked again where it is used (the rules may depend on log_directory). */
static const char *
log_file_checked(void)
{
	const char *problem = log_file_path_problem(log_file);

	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("log file \"%s\" is not allowed", log_file),
				 errdetail_internal("%s", problem)));
	return log_file;
}

/* ANCHOR: escape */
/*
 * How many bytes c takes in a line: backslash, newline, carriage return, tab and every other
 * control character are escaped, so that one message is one line. Bytes >= 0x80 pass: they
 * are parts of multibyte characters, or characters of a single-byte encoding such as LATIN1.
 */
static size_t
escaped_width(unsigned char c)
{
	if (c == '\\' || c == '\n' || c == '\r' || c == '\t')
		return 2;
	if (c < 0x20 || c == 0x7f)
		return 4;
	return 1;
}

/* Writes message, escaped, to dst, which has room for it; returns the end. */
static char *
append_escaped(char *dst, const char *message, int len)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) message[i];

		switch (c)
		{
			case '\\':
				*dst++ = '\\';
				*dst++ = '\\';
				break;
			case '\n':
				*dst++ = '\\';
				*dst++ = 'n';
				break;
			case '\r':
				*dst++ = '\\';
				*dst++ = 'r';
				break;
			case '\t':
				*dst++ = '\\';
				*dst++ = 't';
				break;
			default:
				if (c < 0x20 || c == 0x7f)
				{
					*dst++ = '\\';
					*dst++ = 'x';
					*dst++ = hex[c >> 4];
					*dst++ = hex[c & 15];
				}
				else
					*dst++ = (char) c;
		}
	}
	return dst;
}
/* ANCHOR_END: escape */

/* The ERROR for an allocation of size bytes that failed: 53200, as palloc's. */
static void
out_of_memory(size_t size)
{
	ereport(ERROR,
			(errcode(ERRCODE_OUT_OF_MEMORY),
			 errmsg("out of memory"),
			 errdetail("Failed on request of size %zu.", size)));
}

/*
 * The date and time to the second of the last prefix this backend made, formatted: most
 * lines share it with the one before, and timestamp2tm and snprintf are the dearest part of
 * a line after write().
 */
static int64 prefix_second = -1;
static char prefix_datetime[32];
static int	prefix_datetime_len;

/*
 * Writes "2026-11-21T17:30:00.123456Z 4242 17 ", the start of a line, into prefix; returns
 * its length (at most 62: a 6-digit year, a 10-digit pid, a 20-digit sequence number).
 */
static int
format_prefix(char *prefix, TimestampTz now, int pid, uint64 seq)
{
	char	   *p = prefix;
	int			usec = (int) (now % USECS_PER_SEC);

	if (now < 0 || now / USECS_PER_SEC != prefix_second)
	{
		struct pg_tm tm;
		fsec_t		fsec;

		if (timestamp2tm(now, NULL, &tm, &fsec, NULL, NULL) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_FIELD_OVERFLOW),
					 errmsg("timestamp out of range")));
		prefix_datetime_len = snprintf(prefix_datetime, sizeof(prefix_datetime),
									   "%04d-%02d-%02dT%02d:%02d:%02d",
									   tm.tm_year, tm.tm_mon, tm.tm_mday,
									   tm.tm_hour, tm.tm_min, tm.tm_sec);
		prefix_second = now < 0 ? -1 : now / USECS_PER_SEC;
		usec = (int) fsec;
	}
	memcpy(p, prefix_datetime, prefix_datetime_len);
	p += prefix_datetime_len;
	*p++ = '.';
	for (int i = 5; i >= 0; i--, usec /= 10)
		p[i] = '0' + usec % 10;
	p += 6;
	*p++ = 'Z';
	*p++ = ' ';
	p += pg_ultoa_n((uint32) pid, p);
	*p++ = ' ';
	p += pg_ulltoa_n(seq, p);
	*p++ = ' ';
	return p - prefix;
}

/* ANCHOR: line_buffer */
/*
 * A line in the making: room for the longest prefix, then the escaped message and its
 * newline. The prefix holds the sequence number and the time, so it is formatted under the
 * lock, into the room left for it: the message is never moved.
 */
typedef struct LineBuf
{
	char	   *buf;
	size_t		len;			/* bytes used in buf */
	size_t		start;			/* where the line starts: PREFIX_MAX until the prefix is in */
} LineBuf;

/*
 * Escapes message into a new line. The length is counted before anything is allocated: a
 * line that would not fit in MaxAllocSize is 54000, memory the process cannot get is 53200
 * (palloc_extended with MCXT_ALLOC_NO_OOM, so that the message is the Rust build's).
 */
static void
line_init(LineBuf *line, const char *message, int len)
{
	size_t		escaped = 0;
	size_t		size;
	char	   *end;

	for (int i = 0; i < len; i++)
		escaped += escaped_width((unsigned char) message[i]);
	if (escaped >= MaxAllocSize - PREFIX_MAX - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("message is too long to log")));
	size = PREFIX_MAX + escaped + 1;
	line->buf = palloc_extended(size, MCXT_ALLOC_NO_OOM);
	if (line->buf == NULL)
		out_of_memory(size);
	memset(line->buf, ' ', PREFIX_MAX);
	end = append_escaped(line->buf + PREFIX_MAX, message, len);
	*end++ = '\n';
	line->len = end - line->buf;
	line->start = PREFIX_MAX;
}

/*
 * Puts "2026-11-21T17:30:00.123456Z 4242 17 " in front of the message: the time, this
 * backend's pid and the line's number.
 */
static void
line_set_prefix(LineBuf *line, TimestampTz now, uint64 seq)
{
	char		prefix[PREFIX_MAX];
	int			n = format_prefix(prefix, now, MyProcPid, seq);

	line->start = PREFIX_MAX - n;
	memcpy(line->buf + line->start, prefix, n);
}
/* ANCHOR_END: line_buffer */

/*
 * Fills buf with len bytes of the file at offset. A file that ends first was cut short after
 * our fstat (by someone not taking the lock): EIO, "Input/output error".
 */
static void
read_exactly_at(int fd, const char *path, char *buf, size_t len, off_t offset)
{
	ssize_t		n = pg_pread(fd, buf, len, offset);

	if (n != (ssize_t) len)
	{
		if (n >= 0)
			errno = EIO;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read log file \"%s\": %m", path)));
	}
}

/*
 * The offset of the last '\n' before offset `before`, or -1 if there is none. Reads backwards
 * a block at a time.
 */
static off_t
newline_before(int fd, const char *path, off_t before)
{
	char		block[BLCKSZ];

	while (before > 0)
	{
		off_t		start = before > BLCKSZ ? before - BLCKSZ : 0;

		read_exactly_at(fd, path, block, before - start, start);
		for (off_t i = before - start - 1; i >= 0; i--)
			if (block[i] == '\n')
				return start + i;
		before = start;
	}
	return -1;
}

/*
 * The sequence number of a line that starts with head: "<timestamp> <pid> <seq> ...", the
 * timestamp any non-empty word, pid and seq decimal digits, each followed by one space.
 */
static bool
parse_seq(const char *head, uint64 *seq)
{
	const char *p = strchr(head, ' ');
	char	   *end;

	if (p == NULL || p == head || !isdigit((unsigned char) p[1]))
		return false;
	for (p++; isdigit((unsigned char) *p); p++)
		;
	if (*p != ' ' || !isdigit((unsigned char) p[1]))
		return false;
	errno = 0;
	*seq = strtou64(p + 1, &end, 10);
	return errno == 0 && *end == ' ';
}

/* ANCHOR: recover */
static void no_sequence_number(const char *path) pg_attribute_noreturn();

/*
 * Reads into *seq the sequence number of the file's last complete line, and returns the
 * offset of the newline that ends it. size is the file's size from fstat, taken under the
 * lock (in either mode). A file with no complete line of ours is an ERROR (XX001), and is left
 * alone.
 */
static off_t
last_line_seq(int fd, const char *path, off_t size, uint64 *seq)
{
	off_t		last_newline = newline_before(fd, path, size);
	char		head[PREFIX_MAX + 1];
	size_t		n = 0;

	if (last_newline >= 0)
	{
		off_t		line_start = newline_before(fd, path, last_newline) + 1;

		n = Min(PREFIX_MAX, last_newline - line_start);
		read_exactly_at(fd, path, head, n, line_start);
	}
	head[n] = '\0';
	if (last_newline < 0 || !parse_seq(head, seq))
		no_sequence_number(path);
	return last_newline;
}

static void
no_sequence_number(const char *path)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("last line of log file \"%s\" has no sequence number", path)));
}

/*
 * Returns the sequence number that follows the file's last line (1 for an empty file). Called
 * with the lock held exclusively, when the cache does not describe this file. If the file ends
 * with an incomplete line after a line of ours, the incomplete line is cut off; *size is
 * updated.
 */
static uint64
recover_next_seq(int fd, const char *path, off_t *size)
{
	off_t		last_newline;
	uint64		seq;

	if (*size == 0)
		return 1;

	last_newline = last_line_seq(fd, path, *size, &seq);
	if (seq == PG_UINT64_MAX)
		no_sequence_number(path);	/* the next one would not fit */

	if (last_newline != *size - 1)
	{
		if (ftruncate(fd, last_newline + 1) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not truncate log file \"%s\": %m", path)));
		ereport(LOG,
				(errmsg("removed an incomplete last line of %lld bytes from log file \"%s\"",
						(long long) (*size - (last_newline + 1)), path)));
		*size = last_newline + 1;
	}
	return seq + 1;
}
/* ANCHOR_END: recover */

/* write() until all of buf is written. False, with errno set, if it fails. */
static bool
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0)
	{
		ssize_t		n = write(fd, buf, len);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return false;
		}
		if (n == 0)
		{
			/* no progress and no error: PostgreSQL takes it to mean out of space */
			errno = ENOSPC;
			return false;
		}
		buf += n;
		len -= n;
	}
	return true;
}

/* ANCHOR: locked_section */
/*
 * Under the lock held exclusively: makes the cache describe the file open as fd. When the
 * file is not the one the cache describes (another setting, a file rotated away or deleted, a
 * new segment after a crash: next_seq is 0) or has another size (somebody else wrote to it),
 * its last line is the truth.
 */
static void
sync_cache(SharedLog *log, int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat log file \"%s\": %m", path)));
	if (log->next_seq == 0 || log->dev != st.st_dev || log->ino != st.st_ino ||
		log->size != st.st_size)
	{
		log->next_seq = recover_next_seq(fd, path, &st.st_size);
		log->dev = st.st_dev;
		log->ino = st.st_ino;
		log->size = st.st_size;
	}
}

static const char *append_lines(SharedLog *log, int fd, const char *bytes, size_t len,
								uint64 lines, bool sync);

/*
 * Under the lock held exclusively, with the cache describing the file: numbers the line,
 * takes the time, and appends it (append_lines).
 */
static const char *
append_line(SharedLog *log, int fd, LineBuf *line, bool sync)
{
	line_set_prefix(line, GetCurrentTimestamp(), log->next_seq);
	return append_lines(log, fd, line->buf + line->start, line->len - line->start, 1, sync);
}

/*
 * Under the lock held exclusively, with the cache describing the file: writes bytes, which
 * hold `lines` whole lines numbered from log->next_seq, then syncs them if sync, and advances
 * the cache. A write that fails part-way, or a sync that fails, is cut off again (nobody
 * appends meanwhile) and the numbers are not used: returns what failed ("write to log file"),
 * with errno set, for the caller's ERROR; NULL when all went well.
 */
static const char *
append_lines(SharedLog *log, int fd, const char *bytes, size_t len, uint64 lines, bool sync)
{
	const char *failed = NULL;

	if (!write_all(fd, bytes, len))
		failed = "write to log file";
	else if (sync && pg_fdatasync(fd) != 0)
		failed = "fdatasync log file";
	if (failed != NULL)
	{
		int			save_errno = errno;

		if (ftruncate(fd, log->size) != 0)
			log->next_seq = 0;	/* could not: let the next writer look at the file */
		errno = save_errno;
		return failed;
	}
	log->next_seq += lines;
	log->size += len;
	return NULL;
}
/* ANCHOR_END: locked_section */

static void append_open_per_line(SharedLog *log, LineBuf *line, bool sync);
static void append_kept_open(SharedLog *log, LineBuf *line, bool sync);
static void append_group_commit(SharedLog *log, LogBuffer *buf, LineBuf *line, bool sync);

/* ANCHOR: xfunc_log */
/*
 * xfunc_log(message text) RETURNS void
 *
 * Appends one line to the log file. xfunc_c.log_design says how the file is reached,
 * xfunc_c.log_sync whether the line is synced before the call returns; the locked section is
 * the same.
 */
PG_FUNCTION_INFO_V1(xfunc_log);

Datum
xfunc_log(PG_FUNCTION_ARGS)
{
	text	   *message = PG_GETARG_TEXT_PP(0);
	SharedLog  *log = shmem_struct_get(&shared_log);
	LineBuf		line;

	line_init(&line, VARDATA_ANY(message), VARSIZE_ANY_EXHDR(message));
	if (log_design == LOG_DESIGN_OPEN_PER_LINE)
		append_open_per_line(log, &line, log_sync);
	else if (log_design == LOG_DESIGN_KEPT_OPEN)
		append_kept_open(log, &line, log_sync);
	else
		append_group_commit(log, shmem_struct_get(&log_buffer), &line, log_sync);
	PG_RETURN_VOID();
}

/*
 * The book's first design. Everything that can be done before taking the lock is: the path
 * check, escaping the message, opening the file. Under the lock: compare the cache with the
 * file, number the line, format it, write it whole, advance the cache. Then release the lock
 * and close the file.
 */
static void
append_open_per_line(SharedLog *log, LineBuf *line, bool sync)
{
	const char *path = log_file_checked();
	const char *failed;
	int			fd;

	fd = OpenTransientFile(path, O_RDWR | O_APPEND | O_CREAT | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open log file \"%s\": %m", path)));

	LWLockAcquire(log->lock, LW_EXCLUSIVE);
	sync_cache(log, fd, path);
	failed = append_line(log, fd, line, sync);
	if (failed != NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not %s \"%s\": %m", failed, path)));
	LWLockRelease(log->lock);

	if (CloseTransientFile(fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close log file \"%s\": %m", path)));
}
/* ANCHOR_END: xfunc_log */

/* ANCHOR: kept_open */
/* The file a backend keeps open in the kept_open design, and what it knows of it. */
typedef struct KeptFile
{
	int			fd;				/* -1: none, before the first line */
	bool		in_use;			/* still set: the last line ended in an ERROR */
	char		path[MAXPGPATH];	/* the setting's value it was opened for */
	dev_t		dev;			/* its identity, from fstat when it was opened */
	ino_t		ino;
	TimestampTz checked_at;		/* when the path was last found to name this file */
} KeptFile;

static KeptFile kept = {.fd = -1};

/*
 * How long a backend trusts, without a system call, that the path still names its file and
 * that nobody but xfunc_log wrote to it: 100 ms.
 */
#define RECHECK_USECS 100000

static void
kept_close(void)
{
	if (kept.fd >= 0)
	{
		close(kept.fd);			/* nothing to report: the file is given up */
		ReleaseExternalFD();
	}
	kept.fd = -1;
	kept.in_use = false;
}

/* Whether path names the file kept has open (stat, without the lock). */
static bool
names_kept_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_dev == kept.dev && st.st_ino == kept.ino;
}

/*
 * Opens path to keep, and takes its identity; false when this backend may keep no more files
 * open (AcquireExternalFD).
 */
static bool
open_kept(const char *path, TimestampTz now)
{
	struct stat st;
	int			fd;

	if (!AcquireExternalFD())
		return false;
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | PG_BINARY, pg_file_create_mode);
	if (fd < 0 || fstat(fd, &st) != 0)
	{
		int			save_errno = errno;
		bool		opened = fd >= 0;

		if (opened)
			close(fd);
		ReleaseExternalFD();
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not %s log file \"%s\": %m", opened ? "stat" : "open", path)));
	}
	kept.fd = fd;
	if (kept.path != path)
		strlcpy(kept.path, path, sizeof(kept.path));
	kept.dev = st.st_dev;
	kept.ino = st.st_ino;
	kept.checked_at = now;
	return true;
}

/*
 * Before the lock (step 1 of kept_open): closes the kept file if the last line ended in an
 * ERROR, reopens it when the setting names another file, and every RECHECK_USECS checks the
 * path (the rules, and stat: is it still our file?). Sets *due when the path was checked now
 * (compare the cache with the file under the lock), *fresh when the file was opened now.
 * False when there is none and this backend may keep no more files open. Marks the kept file
 * in use until the line went in.
 */
static bool
kept_file_ready(bool *due, bool *fresh)
{
	TimestampTz now = GetCurrentTimestamp();

	if (kept.in_use)
		kept_close();			/* the last line ended in an ERROR */
	*fresh = false;
	*due = kept.fd < 0 || strcmp(kept.path, log_file) != 0 ||
		now - kept.checked_at < 0 || now - kept.checked_at >= RECHECK_USECS;
	if (*due)
	{
		const char *path = log_file_checked();

		if (kept.fd >= 0 && strcmp(kept.path, path) == 0 && names_kept_file(path))
			kept.checked_at = now;
		else
		{
			kept_close();		/* closes the old file first */
			if (!open_kept(path, now))
				return false;
			*fresh = true;
		}
	}
	kept.in_use = true;
	return true;
}

/*
 * The faster design: one write() per line, and no other system call, while the file stays
 * what it was. Before the lock: kept_file_ready. Under the lock: when the cache describes
 * another file, ours has been replaced (another backend found out first): reopen. At a check,
 * or with a file just opened, the cache is compared with fstat, as the first design does for
 * every line. Then the same locked section. An ERROR anywhere closes the kept file: the next
 * line opens it again.
 */
static void
append_kept_open(SharedLog *log, LineBuf *line, bool sync)
{
	bool		due;
	bool		fresh;
	const char *failed;

	if (!kept_file_ready(&due, &fresh))
	{
		append_open_per_line(log, line, sync);	/* may keep no more files open */
		return;
	}

	LWLockAcquire(log->lock, LW_EXCLUSIVE);
	if (log->next_seq != 0 && (log->dev != kept.dev || log->ino != kept.ino) && !fresh)
	{
		/*
		 * Another backend logs to another file: the path names a new one. Start again with
		 * no kept file (once: a file just opened is never "not fresh").
		 */
		LWLockRelease(log->lock);
		kept_close();
		append_kept_open(log, line, sync);
		return;
	}
	if (due || log->next_seq == 0 || log->dev != kept.dev || log->ino != kept.ino)
		sync_cache(log, kept.fd, kept.path);
	failed = append_line(log, kept.fd, line, sync);
	if (failed != NULL)
	{
		int			save_errno = errno;

		LWLockRelease(log->lock);
		kept_close();			/* the next line opens the file again */
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not %s \"%s\": %m", failed, kept.path)));
	}
	LWLockRelease(log->lock);
	kept.in_use = false;
}
/* ANCHOR_END: kept_open */

/* This backend's slot: MyBackendId - 1. */
static int
my_slot(void)
{
	if (MyBackendId < 1 || MyBackendId > MaxBackends)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("backend ID %d has no log buffer slot", MyBackendId)));
	return MyBackendId - 1;
}

/*
 * Where a flusher puts the lines of a batch together, prefixes and all: allocated at the
 * first group_commit line, before anything is copied into the buffer. The most a batch can
 * need: each line of a half gets a prefix (at most PREFIX_MAX bytes for an entry of at least
 * ENTRY_SIZE(1)), and the flusher's own line may follow.
 */
static char *staging = NULL;

#define STAGING_MAX (HALF + HALF / ENTRY_SIZE(1) * PREFIX_MAX + HALF + PREFIX_MAX)

static uint64 insert(SharedLog *log, LogBuffer *buf, bool *due, bool *fresh, LineBuf *line,
					 bool sync, int slot);
static bool wait_for_writer(SharedLog *log, bool sync);
static bool slot_done(LogBuffer *buf, int slot, uint64 ticket);
static ErrorData *flush(SharedLog *log, LogBuffer *buf, bool *due, bool *fresh, LineBuf *own,
						bool sync);

/* ANCHOR: group_commit */
/*
 * The design group_commit: a line waits in the shared buffer, and whoever holds the write lock
 * writes every waiting line in one write() and at most one sync (XLogFlush's way with WAL
 * records). In order:
 *
 * 1. Before any lock, as in kept_open: the kept file, and the path checked when due. A line
 *	  longer than a half cannot wait in the buffer: it is written as kept_open writes one.
 * 2. The write lock free: take it, and write the lines waiting in the buffer and ours
 *	  together (flush). Its outcome is ours.
 * 3. Otherwise copy the line into the buffer (insert), and until our slot says it has an
 *	  outcome: LWLockAcquireOrWait the write lock. Given the lock, flush (our line is in the
 *	  buffer); not given it, a flusher has just released it: look at the slot again.
 * 4. The slot's outcome: return, or raise the ERROR the flusher met.
 *
 * From step 2 on, interrupts are held off: a cancel or a termination takes effect after the
 * call, with the line in the file or failed, never while it waits in the buffer.
 */
static void
append_group_commit(SharedLog *log, LogBuffer *buf, LineBuf *line, bool sync)
{
	bool		due;
	bool		fresh;
	int			slot;

	if (!kept_file_ready(&due, &fresh))
	{
		append_open_per_line(log, line, sync);	/* may keep no more files open */
		return;
	}
	if (ENTRY_SIZE(line->len - PREFIX_MAX) > HALF)
	{
		kept.in_use = false;
		append_kept_open(log, line, sync);
		return;
	}
	slot = my_slot();
	if (staging == NULL)
	{
		staging = MemoryContextAllocExtended(TopMemoryContext, STAGING_MAX, MCXT_ALLOC_NO_OOM);
		if (staging == NULL)
			out_of_memory(STAGING_MAX);
	}

	HOLD_INTERRUPTS();
	if (LWLockConditionalAcquire(log->lock, LW_EXCLUSIVE))
	{
		ErrorData  *failure = flush(log, buf, &due, &fresh, line, sync);

		LWLockRelease(log->lock);
		RESUME_INTERRUPTS();
		if (failure != NULL)
			ReThrowError(failure);	/* the kept file was closed: the next line opens it */
	}
	else
	{
		uint64		ticket = insert(log, buf, &due, &fresh, line, sync, slot);
		Slot	   *outcome = &buf->slots[slot];

		while (!slot_done(buf, slot, ticket))
		{
			if (wait_for_writer(log, sync))
			{
				/* Our line is in the buffer: the outcome goes into our slot too. */
				if (!slot_done(buf, slot, ticket))
				{
					ErrorData  *failure = flush(log, buf, &due, &fresh, NULL, sync);

					if (failure != NULL)
						FreeErrorData(failure); /* in our slot too */
				}
				LWLockRelease(log->lock);
			}
		}
		RESUME_INTERRUPTS();
		if (outcome->sqlerrcode != 0)
		{
			kept_close();		/* the next line opens the file again */
			ereport(ERROR,
					(errcode(outcome->sqlerrcode),
					 errmsg_internal("%.*s", (int) outcome->len, outcome->message)));
		}
	}
	kept.in_use = false;
}

/*
 * Step 3: copies the line into the current half and returns its ticket. When the half has no
 * room, waits for the write lock (or takes it and flushes) and tries again: each flush empties
 * a half, and lines, which are at most a half long, go in whole.
 */
static uint64
insert(SharedLog *log, LogBuffer *buf, bool *due, bool *fresh, LineBuf *line, bool sync,
	   int slot)
{
	const char *message = line->buf + PREFIX_MAX;
	Size		len = line->len - PREFIX_MAX;
	Size		size = ENTRY_SIZE(len);

	for (;;)
	{
		Size		used;

		LWLockAcquire(buf->insert_lock, LW_EXCLUSIVE);
		used = pg_atomic_read_u64(&buf->used);
		if (used + size <= HALF)
		{
			char	   *at = buf->halves[buf->current].data + used;
			EntryHeader *header = (EntryHeader *) at;
			uint64		ticket = buf->next_ticket++;

			header->ticket = ticket;
			header->len = len;
			header->pid = MyProcPid;
			header->slot = slot;
			header->sync = sync;
			memcpy(at + sizeof(EntryHeader), message, len);
			pg_atomic_write_u64(&buf->used, used + size);
			LWLockRelease(buf->insert_lock);
			return ticket;
		}
		LWLockRelease(buf->insert_lock);
		if (wait_for_writer(log, sync))
		{
			ErrorData  *failure = flush(log, buf, due, fresh, NULL, sync);

			if (failure != NULL)
				FreeErrorData(failure); /* none of its lines is ours */
			LWLockRelease(log->lock);
		}
	}
}

/*
 * Waits for the write lock as a line that waits in the buffer should; true when it took it.
 * With the sync on, LWLockAcquireOrWait: a flusher's release wakes every such waiter at once,
 * and most find their line written (false: not taken). Without it a batch is only a write(),
 * most hold a line or two, and waking every waiter at each release would cost more than it
 * saves: LWLockAcquire, as in kept_open, one waiter woken at a time, and whoever holds the
 * lock writes every line waiting.
 */
static bool
wait_for_writer(SharedLog *log, bool sync)
{
	if (sync)
		return LWLockAcquireOrWait(log->lock, LW_EXCLUSIVE);
	LWLockAcquire(log->lock, LW_EXCLUSIVE);
	return true;
}

/*
 * Whether our slot holds the outcome of ticket. Only a flusher holding the write lock writes
 * it, and it stores done last: once we read our ticket there, the barrier makes the rest
 * visible.
 */
static bool
slot_done(LogBuffer *buf, int slot, uint64 ticket)
{
	if (pg_atomic_read_u64(&buf->slots[slot].done) != ticket)
		return false;
	pg_read_barrier();
	return true;
}
/* ANCHOR_END: group_commit */

static bool write_batch(SharedLog *log, const char *batch, Size len, LineBuf *own,
						bool own_sync, bool *due, bool *fresh, uint64 *nlines);

/*
 * Gives each line of halves[half] up to len its outcome, in its owner's slot: written
 * (sqlerrcode 0) or the ERROR met. The owner may read it as soon as done holds its ticket.
 */
static void
record(LogBuffer *buf, int half, Size len, int sqlerrcode, const char *message)
{
	for (Size at = 0; at < len;)
	{
		const EntryHeader *header = (const EntryHeader *) (buf->halves[half].data + at);
		Slot	   *slot = &buf->slots[header->slot];

		slot->sqlerrcode = sqlerrcode;
		if (sqlerrcode != 0)
		{
			int			n = pg_mbcliplen(message, strlen(message), SLOT_MESSAGE);

			memcpy(slot->message, message, n);
			slot->len = n;
		}
		pg_write_barrier();
		pg_atomic_write_u64(&slot->done, header->ticket);
		at += ENTRY_SIZE(header->len);
	}
}

static void gather(LogBuffer *buf, bool sync);

/* ANCHOR: group_flush */
/*
 * Under the write lock: the flusher's work. First, the lines of a half a flusher took and
 * left without outcomes (it met an ERROR it could not record) fail. A flusher that syncs
 * (sync: its own setting) may wait a moment for more lines (gather). Then the current half is
 * taken out of the buffer (the insert lock, for a moment: inserters go on in the other half),
 * and its lines and own (the flusher's line, when it took the lock without waiting) are
 * written in one write() and at most one sync (write_batch). Whatever ERROR that meets is
 * caught, and every line of the half gets the outcome in its owner's slot; own's is returned:
 * NULL, or the ERROR.
 */
static ErrorData *
flush(SharedLog *log, LogBuffer *buf, bool *due, bool *fresh, LineBuf *own, bool sync)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	uint32		holdoff = InterruptHoldoffCount;
	ErrorData  *volatile failure = NULL;
	volatile bool synced = false;
	uint64		lines = 0;
	TimestampTz started;
	int			half;
	Size		len;

	if (buf->in_flight)
	{
		record(buf, buf->taken_half, buf->taken_len, ERRCODE_INTERNAL_ERROR,
			   "the backend writing this log line stopped before it could say whether the "
			   "line was written");
		buf->in_flight = false;
	}
	gather(buf, sync);

	/*
	 * Read without the insert lock: a line copied in after we read 0 is its backend's to see
	 * written, once we release the write lock.
	 */
	half = 0;
	len = 0;
	if (pg_atomic_read_u64(&buf->used) > 0)
	{
		/* Write lock, then insert lock: the one order. */
		LWLockAcquire(buf->insert_lock, LW_EXCLUSIVE);
		half = buf->current;
		len = pg_atomic_read_u64(&buf->used);

		/*
		 * The other half is free: its lines got their outcomes before the write lock was last
		 * released.
		 */
		buf->current = 1 - half;
		pg_atomic_write_u64(&buf->used, 0);
		LWLockRelease(buf->insert_lock);
	}
	started = GetCurrentTimestamp();
	buf->last_lines = 0;
	buf->last_usecs = 0;
	if (len == 0)
	{
		/*
		 * Only the flusher's own line, or nothing: no line of anybody else's to answer for, so
		 * an ERROR is the flusher's alone, and raised as kept_open raises it.
		 */
		if (own == NULL)
			return NULL;
		if (write_batch(log, NULL, 0, own, sync, due, fresh, &lines))
			buf->last_usecs = Max(GetCurrentTimestamp() - started, 0);
		buf->last_lines = lines;
		return NULL;
	}
	buf->in_flight = true;
	buf->taken_half = half;
	buf->taken_len = len;

	PG_TRY();
	{
		synced = write_batch(log, buf->halves[half].data, len, own, sync, due, fresh, &lines);
	}
	PG_CATCH();
	{
		/*
		 * errfinish zeroed the count; we still hold the write lock and interrupts, so it is
		 * set back, as elog.c says a handler may do.
		 */
		InterruptHoldoffCount = holdoff;
		MemoryContextSwitchTo(oldcontext);
		failure = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	if (failure != NULL)
		record(buf, half, len, failure->sqlerrcode, failure->message);
	else
		record(buf, half, len, 0, NULL);
	buf->in_flight = false;
	buf->last_lines = failure == NULL ? lines : 0;
	buf->last_usecs = failure == NULL && synced ?
		Max(GetCurrentTimestamp() - started, 0) : 0;
	if (failure != NULL)
		kept_close();			/* the next flush opens the file again */
	return failure;
}

/* The longest a flusher waits for lines to gather: 10 ms. */
#define GATHER_MAX_USECS 10000

/*
 * XLogFlush's commit_delay, chosen by itself: under the write lock, before the half is taken,
 * a flusher that syncs waits for lines to gather when others are logging (the last batch
 * carried more than one line, or lines are waiting): half as long as the last batch's write
 * and sync took, at most GATHER_MAX_USECS. The backends the last batch released are logging
 * their next lines meanwhile, and go into this batch instead of the next. Alone, or without
 * the sync, a flusher does not wait.
 */
static void
gather(LogBuffer *buf, bool sync)
{
	bool		waiting;

	if (!sync || buf->last_usecs < 2)
		return;
	waiting = pg_atomic_read_u64(&buf->used) > 0;	/* without the insert lock */
	if (buf->last_lines > 1 || waiting)
		pg_usleep(Min(buf->last_usecs / 2, GATHER_MAX_USECS));
}

/*
 * The flusher's work under the write lock, which may raise an ERROR: the file (reopened here
 * when the cache names another one: the batch must go somewhere), the cache compared with it
 * when due, then every line numbered, prefixed and put together, written and synced. Returns
 * whether the batch was synced, its number of lines in *nlines.
 */
static bool
write_batch(SharedLog *log, const char *batch, Size len, LineBuf *own, bool own_sync,
			bool *due, bool *fresh, uint64 *nlines)
{
	TimestampTz now = GetCurrentTimestamp();
	char	   *out = staging;
	uint64		lines = 0;
	bool		sync = false;
	const char *failed;

	if (kept.fd < 0 ||
		(log->next_seq != 0 && (log->dev != kept.dev || log->ino != kept.ino) && !*fresh))
	{
		char		path[MAXPGPATH];

		strlcpy(path, kept.fd >= 0 ? kept.path : log_file_checked(), sizeof(path));
		kept_close();
		/* We gave back the descriptor we kept (or a failed flush did): there is room. */
		if (!open_kept(path, now))
		{
			errno = EMFILE;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not open log file \"%s\": %m", path)));
		}
		kept.in_use = true;
		*fresh = true;
	}
	if (*due || *fresh || log->next_seq == 0 || log->dev != kept.dev || log->ino != kept.ino)
		sync_cache(log, kept.fd, kept.path);
	*due = false;
	*fresh = false;

	if (len == 0)
	{
		/* The flusher's own line alone: written from its buffer, as kept_open writes it. */
		failed = append_line(log, kept.fd, own, own_sync);
		if (failed != NULL)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not %s \"%s\": %m", failed, kept.path)));
		*nlines = 1;
		return own_sync;
	}
	for (Size at = 0; at < len;)
	{
		const EntryHeader *header = (const EntryHeader *) (batch + at);

		out += format_prefix(out, now, header->pid, log->next_seq + lines);
		memcpy(out, batch + at + sizeof(EntryHeader), header->len);
		out += header->len;
		lines++;
		sync |= header->sync != 0;
		at += ENTRY_SIZE(header->len);
	}
	if (own != NULL)
	{
		line_set_prefix(own, now, log->next_seq + lines);
		memcpy(out, own->buf + own->start, own->len - own->start);
		out += own->len - own->start;
		lines++;
		sync |= own_sync;
	}
	failed = append_lines(log, kept.fd, staging, out - staging, lines, sync);
	if (failed != NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not %s \"%s\": %m", failed, kept.path)));
	*nlines = lines;
	return sync;
}
/* ANCHOR_END: group_flush */

/*
 * The readers' start: opens the log file and takes its size with fstat, under the lock held
 * in shared mode. Returns the descriptor, or -1 when there is no file yet (no lock taken).
 */
static int
open_for_reading(SharedLog *log, const char *path, off_t *size)
{
	struct stat st;
	int			fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);

	if (fd < 0)
	{
		if (errno == ENOENT)
			return -1;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open log file \"%s\": %m", path)));
	}
	LWLockAcquire(log->lock, LW_SHARED);
	if (fstat(fd, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat log file \"%s\": %m", path)));
	*size = st.st_size;
	return fd;
}

/* ANCHOR: xfunc_log_tail */
/*
 * xfunc_log_tail(lines integer DEFAULT 10) RETURNS SETOF text
 *
 * The last `lines` lines of the log file, oldest first, read under the shared lock so that
 * no line is seen half-written. No file yet: no rows.
 */
PG_FUNCTION_INFO_V1(xfunc_log_tail);

Datum
xfunc_log_tail(PG_FUNCTION_ARGS)
{
	int32		lines = PG_GETARG_INT32(0);
	SharedLog  *log = shmem_struct_get(&shared_log);
	const char *path = log_file_checked();
	ReturnSetInfo *rsinfo;
	off_t		size;
	off_t		end;
	off_t		start;
	char	   *buf;
	char	   *p;
	int			fd;

	if (lines < 0 || lines > TAIL_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lines must be between 0 and %d", TAIL_MAX)));

	/* A set of a scalar type: the tuple descriptor the caller expects has one column. */
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	fd = open_for_reading(log, path, &size);
	if (fd < 0)
		return (Datum) 0;
	/* Only whole lines: end just after the last newline. */
	end = newline_before(fd, path, size) + 1;
	start = end;
	for (int i = 0; i < lines && start > 0; i++)
		start = newline_before(fd, path, start - 1) + 1;
	if ((Size) (end - start) >= MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the last %d lines of log file \"%s\" are too long", lines, path)));
	buf = palloc_extended(end - start + 1, MCXT_ALLOC_NO_OOM);	/* + 1: never palloc(0) */
	if (buf == NULL)
		out_of_memory(end - start + 1);
	read_exactly_at(fd, path, buf, end - start, start);
	LWLockRelease(log->lock);
	CloseTransientFile(fd);

	for (p = buf; p < buf + (end - start);)
	{
		/* found: the buffer ends with a newline */
		char	   *nl = memchr(p, '\n', buf + (end - start) - p);
		Datum		value;
		bool		isnull = false;

		/* A file that is not ours may hold anything, a NUL byte included. */
		if (!pg_verifymbstr(p, nl - p, true))
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("log file \"%s\" holds a line that is not valid text", path)));
		value = PointerGetDatum(cstring_to_text_with_len(p, nl - p));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
		p = nl + 1;
	}
	return (Datum) 0;
}
/* ANCHOR_END: xfunc_log_tail */

/* ANCHOR: xfunc_log_lines */
/*
 * xfunc_log_lines() RETURNS bigint
 *
 * Exercise of chapter 13: how many lines the log file holds, which is the sequence number of
 * its last complete line: 0 when the file is empty or does not exist, XX001 when that line is
 * not ours. Read under the lock in shared mode: a writer may cut the file short (a failed
 * write, a torn line removed by the recovery) between our fstat and our read. It reads the
 * last line as the recovery does (last_line_seq).
 */
PG_FUNCTION_INFO_V1(xfunc_log_lines);

Datum
xfunc_log_lines(PG_FUNCTION_ARGS)
{
	SharedLog  *log = shmem_struct_get(&shared_log);
	const char *path = log_file_checked();
	off_t		size;
	uint64		seq;
	int			fd = open_for_reading(log, path, &size);

	if (fd < 0)
		PG_RETURN_INT64(0);
	if (size == 0)
	{
		LWLockRelease(log->lock);
		CloseTransientFile(fd);
		PG_RETURN_INT64(0);
	}
	(void) last_line_seq(fd, path, size, &seq);
	LWLockRelease(log->lock);
	CloseTransientFile(fd);

	if (seq > PG_INT64_MAX)
		no_sequence_number(path);
	PG_RETURN_INT64((int64) seq);
}
/* ANCHOR_END: xfunc_log_lines */
