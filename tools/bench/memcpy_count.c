/*
 * memcpy_count.c
 *		memcpy's own instructions, for tools/bench/bench_callgrind.py: copies SIZE bytes COPIES
 *		times, as copytext copies a value's data, so that callgrind can count them.
 *
 *		memcpy_count SIZE COPIES
 *
 * The source and the destination are offset by 4 bytes from malloc's alignment, as the data of
 * a text is behind its 4-byte header; memcpy is called through a volatile pointer, so that the
 * compiler can neither inline it nor drop a copy. bench_callgrind.py runs it with COPIES and
 * with 0 and divides the difference by the bytes copied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
	size_t		size;
	long		copies;
	char	   *src;
	char	   *dst;
	void	   *(*volatile copy) (void *, const void *, size_t) = memcpy;

	if (argc != 3)
	{
		fprintf(stderr, "usage: memcpy_count SIZE COPIES\n");
		return 2;
	}
	size = strtoul(argv[1], NULL, 10);
	copies = strtol(argv[2], NULL, 10);
	src = malloc(size + 16);
	dst = malloc(size + 16);
	if (src == NULL || dst == NULL)
		return 2;
	memset(src, 'x', size + 16);
	memset(dst, 0, size + 16);
	for (long i = 0; i < copies; i++)
		copy(dst + 4, src + 4, size);
	return copies > 0 && dst[4 + size / 2] != 'x';
}
