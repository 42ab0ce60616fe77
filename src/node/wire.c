/* wire.c — the node's byte formats: seals, certified blocks, sync
 * requests, and the vote record on disk (docs/node.md). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/err.h"
#include "crypto/crypto.h"
#include "node/node_int.h"

size_t node_seal_len(uint32_t nkeys) { return 8 + 2 + (nkeys + 7) / 8 + NODE_SIG_LEN; }

void node_seal_encode(const struct fbft_cert *c, uint32_t nkeys, uint8_t *out)
{
	size_t bl = (nkeys + 7) / 8;
	store_be64(out, c->view);
	out[8] = (uint8_t)(bl >> 8);
	out[9] = (uint8_t)bl;
	memcpy(out + 10, c->bitmap, bl);
	memcpy(out + 10 + bl, c->sig, NODE_SIG_LEN);
}

int node_seal_decode(const uint8_t *p, size_t len, uint32_t nkeys, uint64_t height,
                     const uint8_t hash[32], struct fbft_cert *c)
{
	size_t bl = (nkeys + 7) / 8;
	if (nkeys == 0 || nkeys > FBFT_MAX_KEYS || len != node_seal_len(nkeys) ||
	    (((size_t)p[8] << 8) | p[9]) != bl)
		return -CN_EINVAL;
	memset(c, 0, sizeof *c);
	c->height = height;
	c->view = load_be64(p);
	memcpy(c->hash, hash, 32);
	memcpy(c->bitmap, p + 10, bl);
	if (nkeys % 8 && (c->bitmap[bl - 1] >> (nkeys % 8)))
		return -CN_EINVAL;
	memcpy(c->sig, p + 10 + bl, NODE_SIG_LEN);
	return 0;
}

int node_cblock_split(const uint8_t *p, size_t len, const uint8_t **block, size_t *block_len,
                      const uint8_t **seal, size_t *seal_len)
{
	if (len < 4)
		return -CN_ETRUNC;
	size_t bl = load_be32(p);
	if (bl == 0 || bl > len - 4)
		return -CN_EINVAL;
	*block = p + 4;
	*block_len = bl;
	*seal = p + 4 + bl;
	*seal_len = len - 4 - bl;
	return 0;
}

void node_sync_req_encode(uint64_t from, uint32_t max, uint8_t out[NODE_SYNC_REQ_LEN])
{
	out[0] = NODE_SYNC_VERSION;
	store_be64(out + 1, from);
	store_be32(out + 9, max);
}

int node_sync_req_decode(const uint8_t *p, size_t len, uint64_t *from, uint32_t *max)
{
	if (len != NODE_SYNC_REQ_LEN || p[0] != NODE_SYNC_VERSION)
		return -CN_EINVAL;
	*from = load_be64(p + 1);
	*max = load_be32(p + 9);
	if (*from == 0 || *max == 0)
		return -CN_EINVAL;
	return 0;
}

/* ---- the vote record ------------------------------------------------------
 *
 * magic "CNVR" || version || genesis hash || height BE8 || view BE8 ||
 * head hash || flags (head cert, prepare vote, commit vote, proposed, lock)
 * || head cert || pvote view, hash || cvote view, hash || proposed view ||
 * lock cert || lock block len BE4 || lock block || keccak256 of all before.
 * A cert is height BE8 || view BE8 || hash || bitmap (FBFT_BITMAP_MAX) ||
 * sig (FBFT_SIG_MAX). */

#define CERT_LEN (8 + 8 + 32 + FBFT_BITMAP_MAX + FBFT_SIG_MAX)
#define FIXED_LEN (4 + 1 + 32 + 8 + 8 + 32 + 1 + CERT_LEN + 8 + 32 + 8 + 32 + 8 + CERT_LEN + 4)

static uint8_t *put_cert(uint8_t *p, const struct fbft_cert *c)
{
	store_be64(p, c->height);
	store_be64(p + 8, c->view);
	memcpy(p + 16, c->hash, 32);
	memcpy(p + 48, c->bitmap, FBFT_BITMAP_MAX);
	memcpy(p + 48 + FBFT_BITMAP_MAX, c->sig, FBFT_SIG_MAX);
	return p + CERT_LEN;
}

static const uint8_t *get_cert(const uint8_t *p, struct fbft_cert *c)
{
	c->height = load_be64(p);
	c->view = load_be64(p + 8);
	memcpy(c->hash, p + 16, 32);
	memcpy(c->bitmap, p + 48, FBFT_BITMAP_MAX);
	memcpy(c->sig, p + 48 + FBFT_BITMAP_MAX, FBFT_SIG_MAX);
	return p + CERT_LEN;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -CN_EIO;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int node_persist_write(const char *path, const uint8_t genesis[32], const struct fbft_persist *ps,
                       int do_fsync)
{
	size_t lbl = ps->has_lock ? ps->lock_block_len : 0;
	size_t n = FIXED_LEN + lbl + 32;
	uint8_t *buf = malloc(n), *p = buf;
	if (!buf)
		return -CN_ENOMEM;
	memcpy(p, NODE_PERSIST_MAGIC, 4);
	p[4] = NODE_PERSIST_VERSION;
	memcpy(p + 5, genesis, 32);
	p += 37;
	store_be64(p, ps->height);
	store_be64(p + 8, ps->view);
	memcpy(p + 16, ps->head_hash, 32);
	p[48] = (uint8_t)((ps->has_head_cert ? 1 : 0) | (ps->has_pvote ? 2 : 0) | (ps->has_cvote ? 4 : 0) |
	                  (ps->has_proposed ? 8 : 0) | (ps->has_lock ? 16 : 0));
	p = put_cert(p + 49, &ps->head_cert);
	store_be64(p, ps->pvote_view);
	memcpy(p + 8, ps->pvote_hash, 32);
	store_be64(p + 40, ps->cvote_view);
	memcpy(p + 48, ps->cvote_hash, 32);
	store_be64(p + 80, ps->proposed_view);
	p = put_cert(p + 88, &ps->lock);
	store_be32(p, (uint32_t)lbl);
	p += 4;
	if (lbl)
		memcpy(p, ps->lock_block, lbl);
	p += lbl;
	keccak256(buf, (size_t)(p - buf), p);

	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
		free(buf);
		return -CN_ERANGE;
	}
	int rc = 0, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(buf);
		return -CN_EIO;
	}
	rc = write_all(fd, buf, n);
	free(buf);
	if (!rc && do_fsync && fsync(fd))
		rc = -CN_EIO;
	if (close(fd) && !rc)
		rc = -CN_EIO;
	if (!rc && rename(tmp, path))
		rc = -CN_EIO;
	if (!rc && do_fsync) {
		/* the rename itself must reach the disk before we vote */
		char dir[4096];
		snprintf(dir, sizeof dir, "%s", path);
		int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			rc = -CN_EIO;
		else {
			if (fsync(dfd))
				rc = -CN_EIO;
			close(dfd);
		}
	}
	if (rc)
		unlink(tmp);
	return rc;
}

int node_persist_read(const char *path, const uint8_t genesis[32], struct fbft_persist *ps,
                      uint8_t **lock)
{
	*lock = NULL;
	memset(ps, 0, sizeof *ps);
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno == ENOENT ? -CN_ENOTFOUND : -CN_EIO;
	size_t cap = FIXED_LEN + FBFT_MAX_BLOCK + 32 + 1, n = 0;
	uint8_t *buf = malloc(cap);
	if (!buf) {
		fclose(f);
		return -CN_ENOMEM;
	}
	n = fread(buf, 1, cap, f);
	int err = ferror(f);
	fclose(f);
	int rc = -CN_EVERIFY;
	if (err) {
		rc = -CN_EIO;
		goto out;
	}
	if (n < FIXED_LEN + 32 || n >= cap || memcmp(buf, NODE_PERSIST_MAGIC, 4) ||
	    buf[4] != NODE_PERSIST_VERSION || memcmp(buf + 5, genesis, 32))
		goto out;
	uint8_t sum[32];
	keccak256(buf, n - 32, sum);
	if (memcmp(sum, buf + n - 32, 32))
		goto out;
	const uint8_t *p = buf + 37;
	ps->height = load_be64(p);
	ps->view = load_be64(p + 8);
	memcpy(ps->head_hash, p + 16, 32);
	uint8_t fl = p[48];
	ps->has_head_cert = fl & 1;
	ps->has_pvote = !!(fl & 2);
	ps->has_cvote = !!(fl & 4);
	ps->has_proposed = !!(fl & 8);
	ps->has_lock = !!(fl & 16);
	p = get_cert(p + 49, &ps->head_cert);
	ps->pvote_view = load_be64(p);
	memcpy(ps->pvote_hash, p + 8, 32);
	ps->cvote_view = load_be64(p + 40);
	memcpy(ps->cvote_hash, p + 48, 32);
	ps->proposed_view = load_be64(p + 80);
	p = get_cert(p + 88, &ps->lock);
	size_t lbl = load_be32(p);
	p += 4;
	if (FIXED_LEN + lbl + 32 != n || ps->height == 0)
		goto out;
	if (lbl) {
		if (!(*lock = malloc(lbl))) {
			rc = -CN_ENOMEM;
			goto out;
		}
		memcpy(*lock, p, lbl);
	}
	ps->lock_block = *lock;
	ps->lock_block_len = (uint32_t)lbl;
	rc = 0;
out:
	free(buf);
	return rc;
}
