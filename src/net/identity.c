/* identity.c — host keys, node IDs and the host key file.
 *
 * The key file is text so that an operator can see what it is: the line
 * "canon-p2p-hostkey-v1", then the 32-byte Ed25519 seed in hex. The public
 * key, node ID and X25519 pair are derived from the seed on load, so a file
 * cannot hold a public key that disagrees with its secret. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/bytes.h"
#include "base/err.h"
#include "net/net.h"

#define KEYFILE_MAGIC "canon-p2p-hostkey-v1"

int net_identity_from_seed(struct net_identity *id, const uint8_t seed[32])
{
	if (sodium_init() < 0)
		return -CN_EIO;
	memset(id, 0, sizeof *id);
	if (crypto_sign_ed25519_seed_keypair(id->pk, id->sk, seed) != 0)
		return -CN_EINVAL;
	/* Every Ed25519 key we generate converts; a failure here means a
	 * broken library, not bad input. */
	if (crypto_sign_ed25519_pk_to_curve25519(id->x_pk, id->pk) != 0 ||
	    crypto_sign_ed25519_sk_to_curve25519(id->x_sk, id->sk) != 0) {
		net_identity_wipe(id);
		return -CN_EINVAL;
	}
	net_node_id(id->pk, id->node_id);
	return 0;
}

int net_identity_generate(struct net_identity *id)
{
	uint8_t seed[32];
	if (sodium_init() < 0)
		return -CN_EIO;
	randombytes_buf(seed, sizeof seed);
	int err = net_identity_from_seed(id, seed);
	bytes_wipe(seed, sizeof seed);
	return err;
}

void net_identity_wipe(struct net_identity *id)
{
	bytes_wipe(id, sizeof *id);
}

void net_node_id(const uint8_t pk[NET_PK_LEN], uint8_t out[NET_NODE_ID_LEN])
{
	crypto_generichash(out, NET_NODE_ID_LEN, pk, NET_PK_LEN, NULL, 0);
}

void net_node_tag(const uint8_t node_id[NET_NODE_ID_LEN], char out[NET_TAG_CHARS + 1])
{
	hex_encode(node_id, NET_TAG_CHARS / 2, out);
}

int net_identity_path(const char *datadir, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/p2p/hostkey", datadir && *datadir ? datadir : ".");
	return n < 0 || (size_t)n >= cap ? -CN_ERANGE : 0;
}

int net_identity_save(const struct net_identity *id, const char *path)
{
	char dir[4096];
	size_t n = strlen(path);
	if (n >= sizeof dir)
		return -CN_ERANGE;
	memcpy(dir, path, n + 1);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		/* mkdir -p: a fresh data directory is created with the key. */
		for (char *p = dir + 1; *p; p++) {
			if (*p != '/')
				continue;
			*p = 0;
			int bad = mkdir(dir, 0700) != 0 && errno != EEXIST;
			*p = '/';
			if (bad)
				return -CN_EIO;
		}
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return -CN_EIO;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? -CN_EEXIST : -CN_EIO;
	char text[sizeof KEYFILE_MAGIC + 1 + 64 + 2];
	memcpy(text, KEYFILE_MAGIC "\n", sizeof KEYFILE_MAGIC);
	hex_encode(id->sk, 32, text + sizeof KEYFILE_MAGIC);
	size_t len = sizeof KEYFILE_MAGIC + 64;
	text[len++] = '\n';
	ssize_t w = write(fd, text, len);
	bytes_wipe(text, sizeof text);
	int err = (w == (ssize_t)len && fsync(fd) == 0) ? 0 : -CN_EIO;
	if (close(fd) != 0)
		err = -CN_EIO;
	if (err)
		unlink(path);
	return err;
}

int net_identity_load(struct net_identity *id, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -CN_ENOTFOUND : -CN_EIO;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return -CN_EIO;
	}
	/* Like ssh: a secret key others can read is treated as compromised. */
	if (st.st_mode & 077) {
		close(fd);
		return -CN_EVERIFY;
	}
	char text[128];
	ssize_t r = read(fd, text, sizeof text);
	close(fd);
	if (r < 0)
		return -CN_EIO;
	size_t len = (size_t)r, mlen = sizeof KEYFILE_MAGIC - 1;
	int err = -CN_EINVAL;
	uint8_t seed[32];
	size_t got;
	if (len == sizeof text)
		goto out;
	if (len && text[len - 1] == '\n')
		len--;
	if (len != mlen + 1 + 64 || memcmp(text, KEYFILE_MAGIC, mlen) != 0 || text[mlen] != '\n')
		goto out;
	if (hex_decode(text + mlen + 1, 64, seed, sizeof seed, &got) != 0 || got != 32)
		goto out;
	err = net_identity_from_seed(id, seed);
out:
	bytes_wipe(text, sizeof text);
	bytes_wipe(seed, sizeof seed);
	return err;
}
