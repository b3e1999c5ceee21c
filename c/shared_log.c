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
 * What lives in shared memory: one SharedLog struct, named "xfunc_c shared log" in the shared
 * memory index, guarded by the only lock of the LWLock tranche "xfunc_c_log". It caches what
 * the next writer needs to know about the file: which file it is (device and inode), how long
 * it was after the last line we wrote, and the sequence number of the next line. The file is
 * the truth; the struct is a cache of it.
 *
 * Locking: a writer holds the lock LW_EXCLUSIVE from before it looks at the file until its
 * line is written: checking the cache, numbering the line and writing it are one locked section
 * (no START_CRIT_SECTION: an ERROR stays an ERROR), so lines never interleave, the file is in
 * sequence-number order, and a line's number is the number of lines before it plus one.
 * xfunc_log_tail and xfunc_log_lines hold it LW_SHARED while they read, so they never see half
 * a line nor a file a writer is cutting short. Nothing else is locked while the lock is held.
 *
 * Errors: an ERROR raised while the lock is held (a failed fstat, write or read) releases it
 * through the transaction abort (AbortTransaction calls LWLockReleaseAll) and closes the file
 * (OpenTransientFile registers it). A write that fails part-way is cut off again with
 * ftruncate before the ERROR, and the sequence number is not advanced: the file holds only
 * whole lines, and a line that was not written leaves no gap.
 *
 * Crash and restart: shared memory is created anew, the cache is empty (next_seq = 0), and the
 * first writer reads the last line of the file to continue its numbering. Because the number
 * always continues from the file, a gap in the sequence proves a lost line, even across a
 * crash. A last line without its newline (a write cut short by a power failure) is removed
 * when the numbering is recovered, with a LOG message, if the line before it is ours; a file
 * whose last complete line is not ours is never changed.
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
#include "postmaster/syslogger.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
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

/* ANCHOR: design_setting */
/*
 * The setting xfunc_c.log_design: how xfunc_log gets at the file. Both designs keep the
 * shared cache true to the file, so backends using different designs may log at once.
 */
typedef enum LogDesign
{
	LOG_DESIGN_OPEN_PER_LINE,	/* the book's first design: open, lock, append, unlock, close */
	LOG_DESIGN_KEPT_OPEN		/* each backend keeps its file open (append_kept_open) */
} LogDesign;

static const struct config_enum_entry log_design_options[] = {
	{"open_per_line", LOG_DESIGN_OPEN_PER_LINE, false},
	{"kept_open", LOG_DESIGN_KEPT_OPEN, false},
	{NULL, 0, false}
};

static int	log_design = LOG_DESIGN_KEPT_OPEN;
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
							 "How xfunc_log() writes: open_per_line or kept_open.",
							 "open_per_line opens and closes the file for every line; kept_open "
							 "keeps it open in each backend. Both take the lock for every line.",
							 &log_design,
							 LOG_DESIGN_KEPT_OPEN,
							 log_design_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	MarkGUCPrefixReserved("xfunc_c");
	shmem_struct_request(&shared_log);
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
format_prefix(char *prefix, TimestampTz now, uint64 seq)
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
	p += pg_ultoa_n((uint32) MyProcPid, p);
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

/* Puts "2026-11-21T17:30:00.123456Z 4242 17 " in front of the message. */
static void
line_set_prefix(LineBuf *line, TimestampTz now, uint64 seq)
{
	char		prefix[PREFIX_MAX];
	int			n = format_prefix(prefix, now, seq);

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

/*
 * Under the lock held exclusively, with the cache describing the file: numbers the line,
 * takes the time, writes the line whole and advances the cache. A write that fails part-way
 * is cut off again (nobody appends meanwhile) and the number is not used: false, with errno
 * set, and the caller raises the ERROR.
 */
static bool
append_line(SharedLog *log, int fd, LineBuf *line)
{
	uint64		seq = log->next_seq;

	line_set_prefix(line, GetCurrentTimestamp(), seq);
	if (!write_all(fd, line->buf + line->start, line->len - line->start))
	{
		int			save_errno = errno;

		if (ftruncate(fd, log->size) != 0)
			log->next_seq = 0;	/* could not: let the next writer look at the file */
		errno = save_errno;
		return false;
	}
	log->next_seq = seq + 1;
	log->size += line->len - line->start;
	return true;
}
/* ANCHOR_END: locked_section */

static void append_open_per_line(SharedLog *log, LineBuf *line);
static void append_kept_open(SharedLog *log, LineBuf *line);

/* ANCHOR: xfunc_log */
/*
 * xfunc_log(message text) RETURNS void
 *
 * Appends one line to the log file. xfunc_c.log_design says how the file is reached; the
 * locked section is the same.
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
		append_open_per_line(log, &line);
	else
		append_kept_open(log, &line);
	PG_RETURN_VOID();
}

/*
 * The book's first design. Everything that can be done before taking the lock is: the path
 * check, escaping the message, opening the file. Under the lock: compare the cache with the
 * file, number the line, format it, write it whole, advance the cache. Then release the lock
 * and close the file.
 */
static void
append_open_per_line(SharedLog *log, LineBuf *line)
{
	const char *path = log_file_checked();
	int			fd;

	fd = OpenTransientFile(path, O_RDWR | O_APPEND | O_CREAT | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open log file \"%s\": %m", path)));

	LWLockAcquire(log->lock, LW_EXCLUSIVE);
	sync_cache(log, fd, path);
	if (!append_line(log, fd, line))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write to log file \"%s\": %m", path)));
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
 * The faster design: one write() per line, and no other system call, while the file stays
 * what it was. Before the lock: the kept file is reopened when the setting names another
 * file, and every RECHECK_USECS the path is checked (the rules, and stat: is it still our
 * file?). Under the lock: when the cache describes another file, ours has been replaced
 * (another backend found out first): reopen. At a check, or with a file just opened, the
 * cache is compared with fstat, as the first design does for every line. Then the same
 * locked section. An ERROR anywhere closes the kept file: the next line opens it again.
 */
static void
append_kept_open(SharedLog *log, LineBuf *line)
{
	TimestampTz now = GetCurrentTimestamp();
	bool		due;
	bool		fresh = false;

	if (kept.in_use)
		kept_close();			/* the last line ended in an ERROR */
	due = kept.fd < 0 || strcmp(kept.path, log_file) != 0 ||
		now - kept.checked_at < 0 || now - kept.checked_at >= RECHECK_USECS;
	if (due)
	{
		const char *path = log_file_checked();

		if (kept.fd >= 0 && strcmp(kept.path, path) == 0 && names_kept_file(path))
			kept.checked_at = now;
		else
		{
			struct stat st;
			int			fd;

			kept_close();		/* closes the old file first */
			if (!AcquireExternalFD())
			{
				/* this backend may keep no more descriptors */
				append_open_per_line(log, line);
				return;
			}
			fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | PG_BINARY,
					  pg_file_create_mode);
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
						 errmsg("could not %s log file \"%s\": %m", opened ? "stat" : "open",
								path)));
			}
			kept.fd = fd;
			strlcpy(kept.path, path, sizeof(kept.path));
			kept.dev = st.st_dev;
			kept.ino = st.st_ino;
			kept.checked_at = now;
			fresh = true;
		}
	}
	kept.in_use = true;

	LWLockAcquire(log->lock, LW_EXCLUSIVE);
	if (log->next_seq != 0 && (log->dev != kept.dev || log->ino != kept.ino) && !fresh)
	{
		/*
		 * Another backend logs to another file: the path names a new one. Start again with
		 * no kept file (once: a file just opened is never "not fresh").
		 */
		LWLockRelease(log->lock);
		kept_close();
		append_kept_open(log, line);
		return;
	}
	if (due || log->next_seq == 0 || log->dev != kept.dev || log->ino != kept.ino)
		sync_cache(log, kept.fd, kept.path);
	if (!append_line(log, kept.fd, line))
	{
		int			save_errno = errno;

		LWLockRelease(log->lock);
		kept_close();			/* the next line opens the file again */
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write to log file \"%s\": %m", kept.path)));
	}
	LWLockRelease(log->lock);
	kept.in_use = false;
}
/* ANCHOR_END: kept_open */

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
